// Images and labels from NumPy arrays: `faces.npy` (N×H×W×C or N×C×H×W, N×H×W for grey) plus
// `labels.npy` (N), or members of an .npz (`data.npz#x_train`). The images stay memory-mapped;
// each read converts one image to 8-bit HWC. Anything the data does not say outright (the axis
// order, the range of float pixels) is detected, checked, and stated in `describe()` and `notes`.
import { DataError, type IndexedDataset, type SampleRecord } from '../types.js';
import { readNpy, toNumbers, type NpyArray } from '../formats/npy.js';
import { readNpz } from '../formats/npz.js';

export interface NpyDatasetOptions {
  /** A .npy path, or `archive.npz#key` (`archive.npz` alone when it holds one array). */
  images: string;
  /** Integer class indices, one per image (shape N or N×1); -1 marks an unlabelled sample. */
  labels?: string;
  /** Class names; default: '0'..'K-1' from the largest label. */
  classes?: readonly string[];
  /** Axis order of 4-D images; detected from which axis has 1 or 3 entries when absent. */
  layout?: 'NHWC' | 'NCHW';
  /** Range of float pixels: 'unit' = [0, 1], 'byte' = [0, 255]. Detected from a sample when absent. */
  floatRange?: 'unit' | 'byte';
}

export interface NpyDataset extends IndexedDataset {
  /** What was assumed about the data (layout, float range), in words. */
  readonly notes: readonly string[];
}

/** Images sampled (evenly spaced) to detect the range of float pixels. */
const RANGE_SAMPLE = 32;

export function npyDataset(o: NpyDatasetOptions): NpyDataset {
  const images = openArray(o.images);
  const notes: string[] = [];
  const geo = imageGeometry(images, o.layout, notes);
  const perImage = geo.height * geo.width * geo.channels;
  const scale = pixelScale(images, geo.count, perImage, o.floatRange, notes);
  const labels = o.labels === undefined ? new Int32Array(geo.count).fill(-1) : readLabels(openArray(o.labels), geo.count);
  let maxLabel = -1;
  for (const l of labels) maxLabel = Math.max(maxLabel, l);
  const classes = o.classes ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  if (maxLabel >= classes.length)
    throw new DataError(o.labels ?? o.images, `label ${maxLabel} is out of range for ${classes.length} classes`);

  const toPixel = scale.factor === 1 && images.dtype === 'u1' ? undefined : scale;
  return {
    kind: 'indexed',
    length: geo.count,
    classes,
    notes,
    labels: () => labels.slice(),
    async read(index: number): Promise<SampleRecord> {
      const id = `${images.name}[${index}]`;
      if (!Number.isInteger(index) || index < 0 || index >= geo.count) throw new DataError(id, `index out of range (0..${geo.count - 1})`);
      const pixels = toPixel
        ? toBytes(toNumbers(images.read(index * perImage, perImage)), toPixel, id)
        : new Uint8Array(images.rawBytes(index * perImage, perImage)); // a copy: the mapping is shared
      const data = geo.layout === 'NCHW' ? chwToHwc(pixels, geo.channels, geo.height * geo.width) : pixels;
      return { input: { kind: 'pixels', image: { data, width: geo.width, height: geo.height, channels: geo.channels } }, label: labels[index] as number, id };
    },
    describe: () =>
      `NumPy arrays ${o.images}${o.labels ? ` + ${o.labels}` : ''} (${geo.count.toLocaleString('en-US')} images ${geo.height}×${geo.width}×${geo.channels}, ` +
      `${classes.length} classes${notes.length ? `; ${notes.join('; ')}` : ''})`,
  };
}

/** `a.npy`, `a.npz#key`, or `a.npz` holding exactly one array. */
export function openArray(spec: string): NpyArray {
  const hash = spec.lastIndexOf('#');
  const path = hash >= 0 ? spec.slice(0, hash) : spec;
  if (!/\.npz$/i.test(path)) return readNpy(spec);
  const arrays = readNpz(path);
  const key = hash >= 0 ? spec.slice(hash + 1) : arrays.size === 1 ? [...arrays.keys()][0] as string : undefined;
  const found = key === undefined ? undefined : arrays.get(key);
  if (!found)
    throw new DataError(path, `${key === undefined ? 'holds several arrays: name one as' : `has no array '${key}'; use`} ${[...arrays.keys()].map((k) => `${path}#${k}`).join(', ')}`);
  return found;
}

interface Geometry { count: number; height: number; width: number; channels: 1 | 3; layout: 'NHWC' | 'NCHW' }

function imageGeometry(a: NpyArray, layout: NpyDatasetOptions['layout'], notes: string[]): Geometry {
  const s = a.shape;
  const shape = `(${s.join(', ')})`;
  if (s.length === 3) return { count: s[0] as number, height: s[1] as number, width: s[2] as number, channels: 1, layout: 'NHWC' };
  if (s.length !== 4) throw new DataError(a.name, `images must be N×H×W, N×H×W×C or N×C×H×W; shape is ${shape}`);
  const isChannels = (d: number | undefined): d is 1 | 3 => d === 1 || d === 3;
  const [n, d1, d2, d3] = s as [number, number, number, number];
  let chosen = layout;
  if (!chosen) {
    if (isChannels(d3) && !isChannels(d1)) chosen = 'NHWC';
    else if (isChannels(d1) && !isChannels(d3)) chosen = 'NCHW';
    else if (isChannels(d1) && isChannels(d3)) throw new DataError(a.name, `shape ${shape} could be NHWC or NCHW: pass layout`);
    else throw new DataError(a.name, `shape ${shape} has no axis of 1 or 3 channels${d3 === 4 || d1 === 4 ? ' (4 channels: drop the alpha channel first)' : ''}`);
    notes.push(`layout ${chosen} (detected from shape ${shape})`);
  }
  const c = chosen === 'NHWC' ? d3 : d1;
  if (!isChannels(c)) throw new DataError(a.name, `layout ${chosen} puts ${c} channels in shape ${shape}; images need 1 or 3`);
  return chosen === 'NHWC'
    ? { count: n, height: d1, width: d2, channels: c, layout: chosen }
    : { count: n, height: d2, width: d3, channels: c, layout: chosen };
}

interface Scale { factor: number; low: number; high: number; what: string }

/** How stored values map to 0..255, and the range values must lie in. */
function pixelScale(a: NpyArray, count: number, perImage: number, given: NpyDatasetOptions['floatRange'], notes: string[]): Scale {
  const byte: Scale = { factor: 1, low: 0, high: 255, what: '[0, 255]' };
  const unit: Scale = { factor: 255, low: 0, high: 1, what: '[0, 1]' };
  if (a.dtype === 'b1') throw new DataError(a.name, 'boolean images are not supported: store 0/255 as uint8');
  if (!a.dtype.startsWith('f')) return byte; // integers: checked per image against 0..255
  if (given) {
    notes.push(`float pixels in ${given === 'unit' ? '[0, 1]' : '[0, 255]'} (as given)`);
    return given === 'unit' ? unit : byte;
  }
  let min = Infinity;
  let max = -Infinity;
  const picks = Math.min(count, RANGE_SAMPLE);
  for (let k = 0; k < picks; k++) {
    const i = picks === 1 ? 0 : Math.round((k * (count - 1)) / (picks - 1));
    const v = toNumbers(a.read(i * perImage, perImage));
    for (let j = 0; j < v.length; j++) {
      const x = v[j] as number;
      if (Number.isNaN(x)) throw new DataError(`${a.name}[${i}]`, 'image holds NaN');
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  const seen = `values ${min}..${max} in ${picks} sampled images`;
  if (min < 0) throw new DataError(a.name, `float pixels go below 0 (${seen}): normalised data? store raw pixels or pass floatRange`);
  if (max > 255) throw new DataError(a.name, `float pixels exceed 255 (${seen}): not an image range`);
  const range = max <= 1 ? unit : byte;
  notes.push(`float pixels assumed in ${range.what} (${seen}; pass floatRange to override)`);
  return range;
}

/** Scales to 0..255 and rounds; a value outside the assumed range is an error, never clamped silently. */
function toBytes(v: ArrayLike<number>, s: Scale, id: string): Uint8Array {
  const out = new Uint8Array(v.length);
  const slack = s.factor === 1 ? 0.5 : 0.5 / 255; // what still rounds into range
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    if (!(x >= s.low - slack && x <= s.high + slack))
      throw new DataError(id, `pixel ${i} is ${x}, outside ${s.what}${s.factor === 1 ? '' : ' (the range assumed for this file)'}`);
    out[i] = Math.round(x * s.factor);
  }
  return out;
}

function chwToHwc(src: Uint8Array, channels: number, plane: number): Uint8Array {
  if (channels === 1) return src;
  const out = new Uint8Array(src.length);
  for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) out[p * channels + c] = src[c * plane + p] as number;
  return out;
}

function readLabels(a: NpyArray, count: number): Int32Array {
  const n = a.shape[0];
  if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1)))
    throw new DataError(a.name, `labels must have shape (N,) or (N, 1); got (${a.shape.join(', ')})${a.shape.length === 2 ? ' (one-hot labels? store class indices)' : ''}`);
  if (n !== count) throw new DataError(a.name, `${n} labels for ${count} images`);
  const v = toNumbers(a.read());
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const x = v[i] as number;
    if (!Number.isInteger(x) || x < -1 || x > 2 ** 31 - 1) throw new DataError(`${a.name}[${i}]`, `label ${x} is not a class index (an integer ≥ 0, or -1 for none)`);
    out[i] = x;
  }
  return out;
}
