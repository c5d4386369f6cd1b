// The report's sections for tasks other than classification (task-types.ts says what they hold):
// segmentation — per-class IoU and Dice with bars, and the worst images as image / truth /
// prediction overlays; multi-label — per-label AP, precision, recall and F1 at the threshold;
// reconstruction — the error, and the worst reconstructions next to their inputs. Every string goes
// through escapeHtml; every image is a data: URL of a PNG checked to be one.
import { escapeHtml as e } from './escape.js';
import { barChart } from './svg.js';
import type { ReportData, SampleStrip } from './types.js';

const fmt = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : Number(v.toFixed(digits)).toString());
const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(2)}%`);
const meter = (v: number | null) => (v === null ? '' : `<span class="meter" style="width:${Math.round(Math.max(0, Math.min(1, v)) * 60)}px"></span>`);

function card(label: string, value: string): string {
  return `<div class="card"><div class="k">${e(label)}</div><div class="v">${e(value)}</div></div>`;
}

/** The headline figures of the task's test results, for the cards at the top. */
export function taskCards(data: ReportData): string[] {
  const s = data.segmentation;
  if (s) return [card('mean IoU', pct(s.meanIoU)), card('mean Dice', pct(s.meanDice)), card('pixel accuracy', pct(s.pixelAccuracy)), card('test loss', fmt(s.loss))];
  const m = data.multilabel;
  if (m) return [card('mean AP', pct(m.meanAP)), card(`macro F1 @ ${m.threshold}`, pct(m.macro.f1)), card(`micro F1 @ ${m.threshold}`, pct(m.micro.f1)), card('test loss', fmt(m.loss))];
  const r = data.reconstruction;
  if (r) return [card('reconstruction error (MSE)', fmt(r.mse, 5)), card('PSNR', r.psnr === null ? '—' : `${r.psnr.toFixed(2)} dB`), card('test loss', fmt(r.loss))];
  return [];
}

/** Rows of images, one per sample, each image captioned. */
function strips(items: readonly SampleStrip[], where: string): string {
  const rows = items.map((s, i) => {
    const images = s.images.map((im, k) => {
      if (!/^iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/.test(im.pngBase64)) throw new TypeError(`renderReportHtml: ${where}[${i}].images[${k}].pngBase64 is not a base64-encoded PNG file`);
      return `<figure><img src="data:image/png;base64,${im.pngBase64}" alt="${e(im.caption)}"><figcaption>${e(im.caption)}</figcaption></figure>`;
    });
    return `<div class="strip"><div class="strip-label"><b>${e(s.label)}</b><div class="sub">${e(s.id)}</div></div><div class="gallery">${images.join('')}</div></div>`;
  });
  return `<div class="strips">${rows.join('')}</div>`;
}

function segmentationSection(data: ReportData): string {
  const s = data.segmentation;
  if (!s) return '';
  const rows = s.perClass
    .map((c) => `<tr><td class="l">${e(c.name)}</td><td>${pct(c.iou)}${meter(c.iou)}</td><td>${pct(c.dice)}</td><td>${c.support.toLocaleString('en-US')}</td></tr>`)
    .join('');
  const bars = barChart(
    s.perClass.map((c) => ({ label: c.name, value: c.iou ?? 0, title: `${c.name}: IoU ${pct(c.iou)}, Dice ${pct(c.dice)}, ${c.support} pixels` })),
    { title: 'IoU per class', xLabel: 'class', yLabel: 'IoU', max: 1, width: 480, height: 240 },
  );
  const legend = s.classes
    .map((c, k) => (k === 0 ? '' : `<span class="swatch"><span style="background:${/^#[0-9a-f]{6}$/.test(s.colours[k] ?? '') ? s.colours[k] : '#888888'}"></span>${e(c)}</span>`))
    .join('');
  const worst = s.worst.length === 0 ? '' : `<h3>Lowest IoU (image, truth, prediction)</h3><p class="sub">Classes in colour over the image: ${legend}; ${e(s.classes[0] ?? 'class 0')} is not coloured, ignored pixels are hatched grey (truth).</p>${strips(s.worst, 'segmentation.worst')}`;
  return `<section><h2>Test set: segmentation</h2><div class="cards">${card('images', String(s.images))}${card('pixels', s.pixels.toLocaleString('en-US'))}</div>
<h3>Per class</h3><table class="seg-per-class"><tr><th class="l">class (${s.classes.length})</th><th>IoU</th><th>Dice</th><th>pixels</th></tr>${rows}
<tr><th class="l">mean</th><td>${pct(s.meanIoU)}${meter(s.meanIoU)}</td><td>${pct(s.meanDice)}</td><td>${s.pixels.toLocaleString('en-US')}</td></tr></table>
<p class="sub">From one confusion matrix over every counted pixel; a class in neither the truth nor the predictions has no IoU and is left out of the means.</p>${bars}${worst}</section>`;
}

function multilabelSection(data: ReportData): string {
  const m = data.multilabel;
  if (!m) return '';
  const rows = m.perClass
    .map((c) => `<tr><td class="l">${e(c.name)}</td><td>${pct(c.ap)}${meter(c.ap)}</td><td>${pct(c.precision)}</td><td>${pct(c.recall)}</td><td>${pct(c.f1)}</td><td>${c.support}</td></tr>`)
    .join('');
  const avg = (label: string, a: { precision: number; recall: number; f1: number }, ap: string) => `<tr><th class="l">${label}</th><td>${ap}</td><td>${pct(a.precision)}</td><td>${pct(a.recall)}</td><td>${pct(a.f1)}</td><td></td></tr>`;
  const bars = barChart(m.perClass.map((c) => ({ label: c.name, value: c.ap ?? 0, title: `${c.name}: AP ${pct(c.ap)}, F1 ${pct(c.f1)}` })), { title: 'Average precision per label', xLabel: 'label', yLabel: 'AP', max: 1, width: 480, height: 240 });
  return `<section><h2>Test set: multi-label</h2><div class="cards">${card('images', String(m.samples))}${card('threshold', String(m.threshold))}</div>
<h3>Per label</h3><table class="ml-per-class"><tr><th class="l">label (${m.classes.length})</th><th>AP</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>${rows}
${avg('macro avg', m.macro, `${pct(m.meanAP)}${meter(m.meanAP)}`)}${avg('micro avg', m.micro, '')}</table>
<p class="sub">AP ranks the images by each label's score (no threshold); precision, recall and F1 count a label as predicted when its probability is above ${e(String(m.threshold))}. A label without positive images has no AP and is left out of the mean.</p>${bars}</section>`;
}

function reconstructionSection(data: ReportData): string {
  const r = data.reconstruction;
  if (!r) return '';
  const worst = r.worst.length === 0 ? '' : `<h3>Worst reconstructions</h3>${strips(r.worst, 'reconstruction.worst')}`;
  const noise = r.noise > 0 ? `<p>A denoising autoencoder: trained on inputs with Gaussian noise of σ ${e(String(r.noise))} (in normalised units); the strips show it cleaning inputs corrupted the same way.</p>` : '';
  return `<section><h2>Test set: reconstruction</h2><div class="cards">${card('images', String(r.images))}${card('MSE', fmt(r.mse, 5))}${card('PSNR', r.psnr === null ? '—' : `${r.psnr.toFixed(2)} dB`)}</div>
<p class="sub">Mean squared error per pixel value, images in [0, 1]; PSNR = 10·log10(1 / MSE).</p>${noise}${worst}</section>`;
}

/** The task's test sections (empty for classification, whose sections html.ts draws). */
export function taskSections(data: ReportData): string {
  return [segmentationSection(data), multilabelSection(data), reconstructionSection(data)].filter(Boolean).join('\n');
}

/** The styles of the strips. */
export const TASK_CSS = `.swatch{white-space:nowrap;margin-right:10px}.swatch span{display:inline-block;width:11px;height:11px;margin:0 4px -1px 0;border:1px solid #999}.strips{display:flex;flex-direction:column;gap:10px}.strip{display:flex;gap:12px;align-items:center}.strip-label{width:170px;font-size:12px;word-break:break-word}`;
