// The run report as ONE self-contained HTML file: inline CSS, inline SVG charts, gallery images as
// data: URLs. A Content-Security-Policy forbids every fetch and every script, so the file opens
// offline, in a mail attachment or from an artifact store, and a hostile string can do no harm
// even if it slipped past escaping (it does not: every string goes through escapeHtml).
import type { ClassificationReport } from '../metrics/report.js';
import { escapeHtml as e } from './escape.js';
import { barChart, formatNumber, heatmap, lineChart, type Series } from './svg.js';
import { TASK_CSS, taskCards, taskSections } from './task-sections.js';
import type { EpochRecord, GalleryItem, ReportData, TimingEntry } from './types.js';

export const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#222;margin:0;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:24px;margin:8px 0 2px}h2{font-size:19px;margin:34px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.sub{color:#666}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:4px 18px 16px;margin-top:18px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:14px}
.card{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:10px 16px;min-width:120px}
.card .v{font-size:22px;font-weight:600}a.card{color:inherit;text-decoration:none;display:block}.card.bad{border-color:#b00020}.card.bad .v{color:#b00020}.card .k{color:#666;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.charts{display:flex;flex-wrap:wrap;gap:16px}
svg.chart{max-width:100%;height:auto;font-size:11px}svg .chart-title{font-size:13px;font-weight:600}
svg .tick{fill:#555}svg .axis-label,svg .legend{fill:#333}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#fafafa;font-weight:600}td.l,th.l{text-align:left;white-space:normal;word-break:break-word}
span.meter{display:inline-block;height:9px;background:#0072b2;vertical-align:middle;margin-left:6px}
pre{background:#f3f3f3;padding:10px;overflow:auto;max-height:480px;font-size:12px}
.gallery{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;width:150px;background:#fafafa;border:1px solid #eee;padding:6px;text-align:center}
figure img{width:128px;height:128px;object-fit:contain;image-rendering:pixelated;background:#000}
figcaption{font-size:12px;text-align:left;word-break:break-word}.bad{color:#b00020}.ok{color:#00796b}
`;

export const fmt = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : Number(v.toFixed(digits)).toString());
const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(2)}%`);
export const seconds = (s: number): string => (s >= 120 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(s < 10 ? 2 : 1)} s`);
const milliseconds = (s: number): string => (s >= 1 ? seconds(s) : `${Number((s * 1000).toPrecision(3))} ms`);

/** The report page for `data`. Pure: the same data gives the same string. */
export function renderReportHtml(data: ReportData): string {
  const classes = data.dataset.classes.length > 0 ? data.dataset.classes : (data.test?.classes ?? []);
  const name = (k: number): string => classes[k] ?? `#${k}`;
  const body = [
    `<h1>${e(data.runName)}</h1><div class="sub">Tessera run report · ${e(data.createdAt)}</div>`,
    data.stopped ? `<p><strong>${data.stopped.failed ? 'Training failed' : 'Stopped early'}</strong> after ${data.stopped.step} steps: ${e(data.stopped.reason)}</p>` : '',
    summaryCards(data),
    historySection(data.history),
    lrSection(data),
    data.test ? testSection(data.test) : '',
    taskSections(data),
    data.gallery && data.gallery.length > 0 ? gallerySection(data.gallery, name) : '',
    datasetSection(data),
    skippedSection(data),
    timingSection(data),
    configSection(data.config),
    environmentSection(data),
  ];
  return page(data.runName, body, TASK_CSS);
}

/** The page around a report's sections: the CSS (and `css`, a report's own), and the policy that forbids every fetch and script. */
export function page(runName: string, sections: readonly string[], css = ''): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(runName)} · Tessera report</title><style>${CSS}${css}</style></head>
<body><main>
${sections.filter(Boolean).join('\n')}
</main></body></html>
`;
}

export function configSection(config: ReportData['config']): string {
  return `<section><h2>Configuration</h2><pre>${e(JSON.stringify(config, null, 2))}</pre></section>`;
}

/** A figure with its label; `alarm` cards are red and link to the section that explains them. */
export function card(label: string, value: string, alarm?: { href: string }): string {
  const inner = `<div class="k">${e(label)}</div><div class="v">${e(value)}</div>`;
  return alarm ? `<a class="card bad" href="${e(alarm.href)}">${inner}</a>` : `<div class="card">${inner}</div>`;
}

function summaryCards(data: ReportData): string {
  const t = data.test;
  const cards: string[] = [];
  if (t) {
    cards.push(card('test accuracy', pct(t.accuracy)), card('macro F1', fmt(t.macro.f1)), card('macro AUC', fmt(t.macro.auc)), card('ECE', fmt(t.calibration.ece)), card('test loss', fmt(t.loss)));
  }
  cards.push(...taskCards(data));
  cards.push(card('epochs', String(data.history.length)));
  const total = data.timing ? runSeconds(data.timing) : data.history.reduce((s, h) => s + (h.seconds ?? 0), 0);
  if (total > 0) cards.push(card('time', seconds(total)));
  if (data.skipped && data.skipped.length > 0) cards.push(card('skipped files', String(data.skipped.length), { href: '#skipped' }));
  return `<div class="cards">${cards.join('')}</div>`;
}

/** The run's time: the parts of the timing, not its per-batch averages. */
export function runSeconds(timing: readonly TimingEntry[]): number {
  return timing.reduce((s, t) => s + (t.perBatch ? 0 : t.seconds), 0);
}

/** Metric names in the history, `loss` first, then in order of first appearance. */
function metricKeys(history: readonly EpochRecord[]): string[] {
  const keys = new Set<string>();
  for (const h of history) for (const k of [...Object.keys(h.train), ...Object.keys(h.val ?? {})]) keys.add(k);
  return [...keys].sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
}

function historySection(history: readonly EpochRecord[]): string {
  if (history.length === 0) return '<section><h2>Training</h2><p>No epochs recorded.</p></section>';
  const keys = metricKeys(history);
  const charts = keys.map((key) => {
    // A metric measured on one split only (f1 on validation) gets no empty line or legend for the other.
    const series: Series[] = [];
    if (history.some((h) => typeof h.train[key] === 'number')) series.push({ name: `train ${key}`, points: history.map((h) => [h.epoch, h.train[key] ?? null] as const) });
    if (history.some((h) => typeof h.val?.[key] === 'number')) series.push({ name: `val ${key}`, points: history.map((h) => [h.epoch, h.val?.[key] ?? null] as const) });
    return lineChart(series, { title: key, xLabel: 'epoch', yLabel: key, logY: 'auto', integerX: true, width: 480, height: 280 });
  });
  const speed = history.some((h) => h.imagesPerSecond !== undefined)
    ? lineChart([{ name: 'train images/s', points: history.map((h) => [h.epoch, h.imagesPerSecond ?? null] as const) }], { title: 'throughput', xLabel: 'epoch', yLabel: 'images/s', integerX: true, width: 480, height: 280 })
    : '';
  const head = ['epoch', ...keys.flatMap((k) => [`train ${k}`, `val ${k}`]), 'lr', 'time', 'images/s'];
  const rows = history.map((h) =>
    [String(h.epoch), ...keys.flatMap((k) => [fmt(h.train[k]), fmt(h.val?.[k])]), h.lr === undefined ? '—' : formatNumber(h.lr), h.seconds === undefined ? '—' : seconds(h.seconds), fmt(h.imagesPerSecond, 0)]
      .map((c) => `<td>${e(c)}</td>`)
      .join(''),
  );
  return `<section><h2>Training</h2><div class="charts">${charts.join('')}${speed}</div>
<h3>Per epoch</h3><table><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r}</tr>`).join('')}</table></section>`;
}

function lrSection(data: ReportData): string {
  const points: [number, number][] = data.lrCurve && data.lrCurve.length > 0 ? data.lrCurve.map((p) => [p.step, p.lr]) : data.history.flatMap((h) => (h.lr === undefined ? [] : [[h.epoch, h.lr] as [number, number]]));
  if (points.length === 0) return '';
  const perStep = data.lrCurve !== undefined && data.lrCurve.length > 0;
  return `<section><h2>Learning rate</h2>${lineChart([{ name: 'lr', points }], { title: perStep ? 'learning rate per step' : 'learning rate per epoch', xLabel: perStep ? 'step' : 'epoch', yLabel: 'lr', logY: 'auto', integerX: true, width: 720, height: 280 })}</section>`;
}

function testSection(t: ClassificationReport): string {
  const K = t.classes.length;
  const cm = heatmap(t.confusion.normalized, t.classes, {
    title: 'colour: share of the true class; numbers: counts',
    rowLabel: 'true class',
    colLabel: 'predicted class',
    cellText: (r, c) => String(t.confusion.counts[r]?.[c] ?? 0),
    cellTitle: (r, c) => `true ${t.classes[r]} → predicted ${t.classes[c]}: ${t.confusion.counts[r]?.[c] ?? 0} (${pct(t.confusion.normalized[r]?.[c])})`,
  });
  const perClass = t.perClass
    .map((c) => `<tr><td class="l">${e(c.name)}</td><td>${fmt(c.precision)}</td><td>${fmt(c.recall)}</td><td>${fmt(c.f1)}<span class="meter" style="width:${Math.round(c.f1 * 60)}px"></span></td><td>${c.support}</td><td>${fmt(c.auc)}</td></tr>`)
    .join('');
  const avg = (label: string, a: { precision: number; recall: number; f1: number; auc?: number | null }): string =>
    `<tr><th class="l">${label}</th><td>${fmt(a.precision)}</td><td>${fmt(a.recall)}</td><td>${fmt(a.f1)}</td><td>${t.numSamples}</td><td>${a.auc === undefined ? '' : fmt(a.auc)}</td></tr>`;
  const confused = t.mostConfused.length === 0 ? '<p>No confusions.</p>' : `<table class="confused"><tr><th class="l">true class</th><th class="l">predicted as</th><th>count</th><th>share of the true class</th></tr>${t.mostConfused
    .map((p) => `<tr><td class="l">${e(p.trueName)}</td><td class="l">${e(p.predName)}</td><td>${p.count}</td><td>${pct(p.rate)}</td></tr>`)
    .join('')}</table>`;
  const reliability = barChart(
    t.calibration.bins.map((b) => ({ label: b.upper.toFixed(2), value: b.accuracy ?? 0, title: `confidence (${b.lower.toFixed(3)}, ${b.upper.toFixed(3)}]: ${b.count} samples, accuracy ${pct(b.accuracy)}, mean confidence ${pct(b.confidence)}` })),
    { title: `Reliability (ECE ${fmt(t.calibration.ece)})`, xLabel: 'top-1 confidence (bin upper edge)', yLabel: 'accuracy', max: 1, diagonal: true, width: 480, height: 280 },
  );
  const topK = t.topK.map((x) => card(`top-${x.k} accuracy`, pct(x.accuracy))).join('');
  const undefinedAuc = t.aucUndefined.length > 0 ? `<p class="sub">AUC undefined (no positive or no negative samples), left out of the AUC averages: ${t.aucUndefined.map(e).join(', ')}.</p>` : '';
  return `<section><h2>Test set</h2><div class="cards">${card('samples', String(t.numSamples))}${topK}${card('loss', fmt(t.loss))}</div>
<h3>Confusion matrix</h3>${cm}
<h3>Per class</h3><table class="per-class"><tr><th class="l">class (${K})</th><th>precision</th><th>recall</th><th>F1</th><th>support</th><th>ROC-AUC</th></tr>${perClass}
${avg('macro avg', t.macro)}${avg('micro avg', t.micro)}${avg('weighted avg', t.weighted)}</table>${undefinedAuc}
<p class="sub">Zero division counts as 0 (a class never predicted has precision 0). Macro averages cover the classes present in the targets or the predictions.</p>
<h3>Most confused pairs</h3>${confused}
<h3>Calibration</h3>${reliability}</section>`;
}

function gallerySection(items: readonly GalleryItem[], name: (k: number) => string): string {
  const figures = items.map((g, i) => {
    if (!/^iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/.test(g.pngBase64)) throw new TypeError(`renderReportHtml: gallery[${i}].pngBase64 is not a base64-encoded PNG file`);
    const right = g.trueLabel === g.predLabel;
    const label = `true ${name(g.trueLabel)}, predicted ${name(g.predLabel)}`;
    return `<figure><img src="data:image/png;base64,${g.pngBase64}" alt="${e(label)}"><figcaption>
<div>true: <b>${e(name(g.trueLabel))}</b></div><div class="${right ? 'ok' : 'bad'}">pred: <b>${e(name(g.predLabel))}</b> (${pct(g.probability)})</div>
${g.trueProbability === undefined ? '' : `<div>p(true): ${pct(g.trueProbability)}</div>`}${g.loss === undefined ? '' : `<div>loss: ${fmt(g.loss, 3)}</div>`}${g.id ? `<div class="sub">${e(g.id)}</div>` : ''}</figcaption></figure>`;
  });
  return `<section><h2>Highest-loss test images</h2><div class="gallery">${figures.join('')}</div></section>`;
}

function datasetSection(data: ReportData): string {
  const d = data.dataset;
  const size = d.imageSize ? `${d.imageSize.width}×${d.imageSize.height}×${d.imageSize.channels}` : 'varies';
  const splits = d.splits;
  const head = `<tr><th class="l">class</th>${splits.map((s) => `<th>${e(s.name)}</th>`).join('')}</tr>`;
  const rows = d.classes.map((c, k) => `<tr><td class="l">${e(c)}</td>${splits.map((s) => `<td>${s.perClass?.[k] ?? '—'}</td>`).join('')}</tr>`).join('');
  const totals = `<tr><th class="l">total</th>${splits.map((s) => `<th>${s.count}</th>`).join('')}</tr>`;
  const counts = splits.find((s) => s.perClass)?.perClass;
  const bars = counts ? barChart(counts.map((v, k) => ({ label: d.classes[k] ?? `#${k}`, value: v, title: `${d.classes[k] ?? `#${k}`}: ${v}` })), { title: `Samples per class (${splits.find((s) => s.perClass)?.name ?? ''})`, xLabel: 'class', yLabel: 'samples', width: 480, height: 240 }) : '';
  return `<section><h2>Data set</h2>${d.description ? `<p>${e(d.description)}</p>` : ''}
<div class="cards">${card('classes', String(d.classes.length))}${card('image size', size)}${splits.map((s) => card(s.name, s.count.toLocaleString('en-US'))).join('')}</div>
<table class="splits">${head}${rows}${totals}</table>${bars}</section>`;
}

export function timingSection(data: Pick<ReportData, 'timing'>): string {
  const timing = data.timing ?? [];
  if (timing.length === 0) return '';
  const parts = timing.filter((t) => !t.perBatch);
  const perBatch = timing.filter((t) => t.perBatch);
  const total = runSeconds(timing);
  const rows = parts
    .map((t) => `<tr><td class="l">${e(t.name)}</td><td>${seconds(t.seconds)}</td><td>${pct(total > 0 ? t.seconds / total : 0)}</td><td class="l"><span class="meter" style="width:${Math.round((total > 0 ? t.seconds / total : 0) * 200)}px"></span></td></tr>`)
    .join('');
  const averages = perBatch.length === 0 ? '' : `<h3>Per batch (averages)</h3><table class="per-batch"><tr><th class="l">phase</th><th>time per batch</th></tr>${perBatch
    .map((t) => `<tr><td class="l">${e(t.name)}</td><td>${milliseconds(t.seconds)}</td></tr>`)
    .join('')}</table>`;
  return `<section><h2>Timing</h2><table class="timing"><tr><th class="l">phase</th><th>time</th><th>share</th><th></th></tr>${rows}<tr><th class="l">total</th><th>${seconds(total)}</th><th></th><th></th></tr></table>${averages}</section>`;
}

/** Every file the run skipped, with its reason (the first ones; report.json has them all). */
export function skippedSection(data: Pick<ReportData, 'skipped'>): string {
  const skipped = data.skipped ?? [];
  if (skipped.length === 0) return '';
  const shown = skipped.slice(0, 500);
  const rows = shown.map((s) => `<tr><td class="l">${e(s.id)}</td><td class="l">${e(s.split ?? '')}</td><td class="l">${e(s.reason)}</td></tr>`).join('');
  const more = skipped.length > shown.length ? `<p class="sub">… and ${skipped.length - shown.length} more: report.json and metrics.json list them all.</p>` : '';
  return `<section id="skipped"><h2>Skipped files (${skipped.length})</h2><p>The run could not use these files and trained without them.</p>
<table class="skipped"><tr><th class="l">file</th><th class="l">split</th><th class="l">reason</th></tr>${rows}</table>${more}</section>`;
}

export function environmentSection(data: Pick<ReportData, 'environment'>): string {
  const rows = Object.entries(data.environment)
    .filter(([k]) => k !== 'info')
    .map(([k, v]) => `<tr><td class="l">${e(k)}</td><td class="l">${e(v)}</td></tr>`)
    .join('');
  return `<section><h2>Environment</h2><pre>${e(data.environment.info)}</pre>${rows ? `<table>${rows}</table>` : ''}</section>`;
}
