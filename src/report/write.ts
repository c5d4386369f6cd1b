// Writing a report to disk: report.json (the data, for machines) and report.html (for people),
// each replaced atomically, so a reader never sees half a report.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

import type { RawImage } from '../data/types.js';
import type { HighLossSample } from '../metrics/report.js';
import { writeFileAtomic } from '../io/atomic.js';
import { renderReportHtml } from './html.js';
import { REPORT_FORMAT, type GalleryItem, type ReportData } from './types.js';

/** Writes `dir/report.html` and `dir/report.json` (creating `dir`); returns their paths. */
export function writeReport(dir: string, data: ReportData): { html: string; json: string } {
  if (data.format !== REPORT_FORMAT) throw new TypeError(`writeReport: data.format must be '${REPORT_FORMAT}', got ${JSON.stringify(data.format)}`);
  // Render first: a report whose HTML cannot be made leaves both files as they were.
  const html = renderReportHtml(data);
  // NaN and ±Infinity have no JSON form: they become null, which is what the report types say.
  const json = JSON.stringify(data, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  mkdirSync(dir, { recursive: true });
  const paths = { html: join(dir, 'report.html'), json: join(dir, 'report.json') };
  writeFileAtomic(paths.json, [Buffer.from(`${json}\n`)]);
  writeFileAtomic(paths.html, [Buffer.from(html)]);
  return paths;
}

/** A gallery entry from a high-loss sample (see ClassificationEvaluator.highestLoss) and its decoded image. */
export async function galleryItem(sample: HighLossSample, image: RawImage, id?: string): Promise<GalleryItem> {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels)
    throw new RangeError(`galleryItem: image ${id ?? sample.index} has ${data.length} bytes, expected ${width}×${height}×${channels} = ${width * height * channels}`);
  // Grey stays one channel (sharp would otherwise widen it to sRGB: 3× the bytes for the same picture).
  let img = sharp(data, { raw: { width, height, channels } });
  if (channels === 1) img = img.toColourspace('b-w');
  const png = await img.png().toBuffer();
  const item: GalleryItem = {
    pngBase64: png.toString('base64'),
    trueLabel: sample.target,
    predLabel: sample.pred,
    probability: sample.predProbability,
    trueProbability: sample.targetProbability,
    loss: sample.loss,
  };
  if (id !== undefined) item.id = id;
  return item;
}
