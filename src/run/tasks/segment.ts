// Segmentation: a class per pixel. Targets are masks (255 = ignore, counted nowhere); the model is
// a 'segment' zoo model (U-Net) giving (N, K, H, W) logits. Losses (train.loss): cross-entropy
// (default, with label smoothing), Dice (segmentation_models.pytorch's), or their sum. Metrics from
// one pixel confusion matrix over the set (src/metrics/segmentation.ts): mean IoU and pixel
// accuracy every epoch; per-class IoU and Dice, mean IoU, mean Dice, pixel accuracy at the end.
// The report shows the images with the lowest IoU as image, truth and prediction overlays;
// `tessera predict` writes each image's mask (class ids, at the image's own size) as a PNG, and an
// overlay on request.
import { ConfigError } from '../../config/load.js';
import { decodeImage } from '../../data/image/decode.js';
import { classColour, overlayMask } from '../../data/image/mask.js';
import { MASK_IGNORE } from '../../data/pipeline/targets.js';
import type { RawImage } from '../../data/types.js';
import { ConfusionMatrix } from '../../metrics/confusion.js';
import { addPixels, MeanIoU, PixelAccuracy, segmentationScores } from '../../metrics/segmentation.js';
import { interpolate } from '../../nn/functional.js';
import { crossEntropy } from '../../nn/losses.js';
import { diceLoss } from '../../nn/losses-segmentation.js';
import type { SampleStrip, SegmentationSection } from '../../report/types.js';
import { argmax } from '../../tensor/generated/ops.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { inference } from '../../train/inference.js';
import { inputImages, OutputNames, pngBase64, Worst, writePng } from './images.js';
import { csvCell, lossOf, percent, type Losses, type Task, type TestOutput } from './task.js';

const LOSSES = ['cross-entropy', 'dice', 'dice+cross-entropy'] as const;

/** Per-image IoU: the mean over the classes present in the truth or the prediction (ignored pixels aside). */
function imageIoU(pred: Uint8Array | BigInt64Array, truth: BigInt64Array, classes: number): number {
  const inter = new Float64Array(classes);
  const union = new Float64Array(classes);
  for (let p = 0; p < truth.length; p++) {
    const t = Number(truth[p]);
    if (t === MASK_IGNORE) continue;
    const q = Number(pred[p]);
    if (q === t) inter[t] = (inter[t] as number) + 1;
    union[t] = (union[t] as number) + 1;
    if (q !== t) union[q] = (union[q] as number) + 1;
  }
  let sum = 0;
  let n = 0;
  for (let k = 0; k < classes; k++) {
    if ((union[k] as number) === 0) continue;
    sum += (inter[k] as number) / (union[k] as number);
    n++;
  }
  return n === 0 ? 1 : sum / n;
}

const maskImage = (data: ArrayLike<number | bigint>, width: number, height: number): RawImage => ({ data: Uint8Array.from(data as ArrayLike<number>, Number), width, height, channels: 1 });

/** The per-class table `tessera eval` prints. */
function formatSegmentation(s: SegmentationSection): string {
  const width = Math.max(5, ...s.perClass.map((c) => c.name.length));
  const pct = (v: number | null) => (v === null ? '   n/a' : `${(v * 100).toFixed(2).padStart(6)}%`);
  return [
    `${s.images} images (${s.pixels.toLocaleString('en-US')} pixels): mean IoU ${percent(s.meanIoU)}, mean Dice ${percent(s.meanDice)}, pixel accuracy ${percent(s.pixelAccuracy)}, loss ${s.loss?.toFixed(4) ?? 'n/a'}`,
    '',
    `${'class'.padEnd(width)}      IoU     Dice     pixels`,
    ...s.perClass.map((c) => `${c.name.padEnd(width)}  ${pct(c.iou)}  ${pct(c.dice)}  ${String(c.support).padStart(9)}`),
  ].join('\n');
}

export const segment: Task = {
  name: 'segment',
  modelTask: 'segment',
  targets: 'mask',
  autoModel: (image) => ({ name: 'unet', why: `segmentation of ${image.channels}×${image.height}×${image.width} images (model.options.baseWidth and depth size it)` }),
  monitor: { key: 'val_miou', mode: 'max' },

  settings(config) {
    if (config.threshold !== undefined) throw new ConfigError('threshold (--threshold) is for multi-label classification (task multilabel); segmentation predicts the most probable class of each pixel');
    const loss = config.train.loss;
    if (loss !== undefined && !(LOSSES as readonly string[]).includes(loss)) throw new ConfigError(`train.loss (--loss) ${loss} does not apply to segmentation: use ${LOSSES.join(', ')}`);
    if (config.train.classWeights !== 'none' || config.train.sampler === 'weighted') throw new ConfigError('train.classWeights and train.sampler weigh one class per image; a mask has a class per pixel: leave them at none and random (the Dice loss weighs the classes evenly)');
    return {};
  },

  losses(config): Losses {
    const kind = config.train.loss ?? 'cross-entropy';
    const smoothing = config.train.labelSmoothing;
    const ce = (smooth: number) => (out: Tensor, y: Tensor) => crossEntropy(out, y, { ignoreIndex: MASK_IGNORE, ...(smooth > 0 ? { labelSmoothing: smooth } : {}) });
    const dice = (out: Tensor, y: Tensor) => diceLoss(out, y, { mode: 'multiclass', ignoreIndex: MASK_IGNORE });
    const notes = [`loss: ${kind} over pixels, ${MASK_IGNORE} = ignore`];
    if (kind === 'dice') {
      if (smoothing > 0) notes.push(`train.labelSmoothing (${smoothing}) does not apply to the Dice loss`);
      return { loss: dice, evalLoss: dice, notes };
    }
    if (kind === 'dice+cross-entropy') {
      const train = ce(smoothing);
      const plain = ce(0);
      return { loss: (o, y) => train(o, y).add(dice(o, y)), evalLoss: (o, y) => plain(o, y).add(dice(o, y)), notes };
    }
    return { loss: ce(smoothing), evalLoss: ce(0), notes };
  },

  metrics: (classes) => [new MeanIoU(classes), new PixelAccuracy(classes)],

  async test(i): Promise<TestOutput> {
    const K = i.classes.length;
    const cm = new ConfusionMatrix(K, { ignoreIndex: MASK_IGNORE });
    const worst = new Worst<{ id: string; image: RawImage; truth: RawImage; pred: RawImage }>(i.gallery);
    let [lossSum, lossPixels, images] = [0, 0, 0];
    await inference(i.model, i.source, (output, batch) => {
      addPixels(cm, output, batch.y, 'segmentation test');
      const valid = batch.y.ne(MASK_IGNORE).sum().item() as number;
      lossSum += (lossOf(i.evalLoss, output, batch.y).item() as number) * valid; // batch means, weighted by their pixels
      lossPixels += valid;
      const [n, h, w] = batch.y.shape as [number, number, number];
      images += n;
      if (i.gallery === 0) return;
      const pred = scope(() => argmax(output, 1).to('uint8').cpu().data() as Uint8Array);
      const truth = batch.y.cpu().data() as BigInt64Array;
      let pixels: RawImage[] | undefined;
      for (let s = 0; s < n; s++) {
        const p = pred.subarray(s * h * w, (s + 1) * h * w);
        const t = truth.subarray(s * h * w, (s + 1) * h * w);
        const iou = imageIoU(p, t, K);
        if (!worst.wants(iou)) continue;
        pixels ??= inputImages(batch.x, i.preprocessing);
        worst.offer(iou, () => ({ id: batch.ids[s] ?? `sample ${batch.indices[s]}`, image: pixels![s] as RawImage, truth: maskImage(t, w, h), pred: maskImage(p, w, h) }));
      }
    }, i.precision === undefined ? {} : { precision: i.precision });
    const scores = segmentationScores(cm);
    const strips: SampleStrip[] = [];
    for (const { score, item } of worst.items)
      strips.push({
        id: item.id,
        label: `IoU ${percent(score)}`,
        images: [
          { caption: 'image', pngBase64: await pngBase64(item.image) },
          { caption: 'truth', pngBase64: await pngBase64(overlayMask(item.image, item.truth, { showIgnored: true })) },
          { caption: 'prediction', pngBase64: await pngBase64(overlayMask(item.image, item.pred)) },
        ],
      });
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    const section: SegmentationSection = {
      classes: [...i.classes],
      colours: i.classes.map((_, k) => `#${classColour(k).map((v) => v.toString(16).padStart(2, '0')).join('')}`),
      images,
      pixels: cm.total,
      perClass: scores.perClass.map((c, k) => ({ name: i.classes[k] as string, ...c })),
      meanIoU: finite(scores.meanIoU),
      meanDice: finite(scores.meanDice),
      pixelAccuracy: finite(scores.pixelAccuracy),
      loss: lossPixels > 0 ? lossSum / lossPixels : null,
      worst: strips,
    };
    return {
      metrics: { test_miou: section.meanIoU, test_dice: section.meanDice, test_pixel_accuracy: section.pixelAccuracy, test_loss: section.loss, test_samples: images },
      report: { segmentation: section },
      line: `test: mean IoU ${percent(section.meanIoU)}, mean Dice ${percent(section.meanDice)}, pixel accuracy ${percent(section.pixelAccuracy)}, loss ${section.loss?.toFixed(4) ?? 'n/a'} (${images} images)`,
      text: formatSegmentation(section),
      json: { ...section, worst: undefined, colours: undefined },
      headline: `test mean IoU ${percent(section.meanIoU)}`,
    };
  },

  predictor(_model, preprocessing, _settings, options) {
    const classes = preprocessing.classes;
    const names = options.outputDir === undefined ? undefined : new OutputNames(options.outputDir);
    return {
      async batch(output, items) {
        const rows = [];
        for (const [s, item] of items.entries()) {
          const original = await decodeImage(item.bytes, { id: item.file, channels: 'keep' });
          // Logits resampled to the image's own size, then the most probable class per pixel.
          const mask = scope(() => maskImage(argmax(interpolate(output.select(0, s).unsqueeze(0).float(), { size: [original.height, original.width], mode: 'bilinear' }), 1).to('uint8').data() as Uint8Array, original.width, original.height));
          const counts = new Float64Array(classes.length);
          for (const k of mask.data) counts[k] = (counts[k] as number) + 1;
          const shares = Object.fromEntries(classes.flatMap((c, k) => ((counts[k] as number) > 0 ? [[c, (counts[k] as number) / mask.data.length]] : [])));
          const row: Record<string, unknown> & { file: string } = { file: item.file, classes: shares };
          if (names) {
            const [maskPath, overlayPath] = names.next(item.file, ['.png', '.overlay.png']) as [string, string];
            await writePng(maskPath, mask);
            row.mask = maskPath;
            if (options.overlay) {
              await writePng(overlayPath, overlayMask(original, mask));
              row.overlay = overlayPath;
            }
          }
          rows.push(row);
        }
        return rows;
      },
      csv(rows) {
        const lines = rows.map((r) => {
          const shares = Object.entries((r.classes ?? {}) as Record<string, number>).map(([c, v]) => `${c}:${v.toFixed(4)}`).join('|');
          return [csvCell(r.file), csvCell(String(r.mask ?? '')), csvCell(String(r.overlay ?? '')), csvCell(shares), r.error ? csvCell(r.error) : ''].join(',');
        });
        return `${['file,mask,overlay,classes,error', ...lines].join('\n')}\n`;
      },
    };
  },
};
