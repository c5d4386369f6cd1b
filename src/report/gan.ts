// The report of a GAN run (`tessera gan`): the same self-contained page as the classification
// report (html.ts: inline CSS and SVG, images as data: URLs, no script, every string escaped), with
// what a GAN has instead of a test set — the sample grids of every epoch next to real images, the
// generator's and discriminator's losses and D(x) / D(G(z)) over the batches, and the quality
// figure (Fréchet distance in a Tessera classifier's feature space, class coverage) per epoch.
// report.json is this file's GanReportData as is.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { writeFileAtomic } from '../io/atomic.js';
import { escapeHtml as e } from './escape.js';
import { card, configSection, environmentSection, fmt, page, runSeconds, seconds, skippedSection, timingSection } from './html.js';
import { barChart, formatNumber, lineChart } from './svg.js';
import type { DatasetStats, Environment, JsonValue, SkippedFile, TimingEntry } from './types.js';

export const GAN_REPORT_FORMAT = 'tessera-gan-report/1';

export interface GanReportData {
  format: typeof GAN_REPORT_FORMAT;
  runName: string;
  createdAt: string;
  config: { [key: string]: JsonValue };
  dataset: DatasetStats;
  model: { name: string; generatorParameters: number; discriminatorParameters: number; imageSize: number; channels: number };
  /** One row per epoch: the epoch's mean D and G losses, D(x), D(G(z)) before and after D's update, both lrs. */
  history: GanEpoch[];
  /** Means over runs of batches (GanHistory's points), for the per-batch curves. */
  points: { iteration: number; epoch: number; loss_d: number; loss_g: number; d_x: number; d_g_z1: number; d_g_z2: number }[];
  /** Grids of the fixed noise: epoch 0 is the untrained generator. */
  samples: { epoch: number; file: string; pngBase64: string }[];
  /** A grid of real images, prepared as the training batches. */
  real?: { pngBase64: string };
  quality?: GanQuality;
  /** The weight files of every epoch (netG_epoch_N.pth, netD_epoch_N.pth), relative to the run. */
  weights: { epoch: number; generator: string; discriminator: string }[];
  stopped?: { reason: string; epoch: number; batch: number; step: number; failed: boolean };
  timing?: TimingEntry[];
  skipped?: SkippedFile[];
  environment: Environment;
}

export interface GanEpoch {
  epoch: number;
  loss_d: number | null;
  loss_g: number | null;
  d_x: number | null;
  d_g_z1: number | null;
  d_g_z2: number | null;
  lr_g: number | null;
  lr_d: number | null;
  seconds?: number;
  imagesPerSecond?: number;
}

export interface GanQuality {
  /** The classifier run whose features are used, and what it is. */
  classifier: string;
  description: string;
  classes: string[];
  /** The real images compared with, and how many images each set has. */
  reference: string;
  samples: number;
  minShare: number;
  /** The distance between the reference and as many other real images: a perfect generator's. */
  realFloor?: number;
  /** Epoch 0: before training. */
  points: { epoch: number; frechetDistance: number; classCoverage: number; counts: number[] }[];
}

const GAN_CSS = `
.grids{display:flex;flex-wrap:wrap;gap:14px}.grids figure{width:auto}
.grids img{width:auto;height:auto;min-width:200px;max-width:360px;image-rendering:pixelated;background:#000}
`;

/** The HTML page for `data`. Pure: the same data gives the same string. */
export function renderGanReportHtml(data: GanReportData): string {
  const body = [
    `<h1>${e(data.runName)}</h1><div class="sub">Tessera GAN report · ${e(data.model.name)} · ${e(data.createdAt)}</div>`,
    data.stopped ? `<p><strong>${data.stopped.failed ? 'Training failed' : 'Stopped early'}</strong> after ${data.stopped.step} steps: ${e(data.stopped.reason)}</p>` : '',
    summaryCards(data),
    samplesSection(data),
    curvesSection(data),
    data.quality ? qualitySection(data.quality) : '<section><h2>Quality</h2><p>No quality figure: run with <code>--classifier runs/&lt;a tessera train run&gt;</code> to score the samples in a trained classifier\'s feature space.</p></section>',
    modelSection(data),
    skippedSection(data),
    timingSection(data),
    configSection(data.config),
    environmentSection(data),
  ];
  return page(data.runName, body, GAN_CSS);
}

function summaryCards(data: GanReportData): string {
  const last = data.history.at(-1);
  const cards = [card('epochs', String(data.history.length))];
  if (last) cards.push(card('loss D', fmt(last.loss_d)), card('loss G', fmt(last.loss_g)), card('D(x)', fmt(last.d_x)), card('D(G(z))', fmt(last.d_g_z1)));
  const q = data.quality?.points;
  if (q && q.length > 0) {
    const [first, end] = [q[0], q.at(-1)] as [GanQuality['points'][number], GanQuality['points'][number]];
    cards.push(card('Fréchet distance', fmt(end.frechetDistance, 3)), card('… before training', fmt(first.frechetDistance, 3)), card('classes covered', `${end.classCoverage} / ${data.quality?.classes.length}`));
  }
  const total = data.timing ? runSeconds(data.timing) : 0;
  if (total > 0) cards.push(card('time', seconds(total)));
  return `<div class="cards">${cards.join('')}</div>`;
}

function checkedPng(png: string, what: string): string {
  if (!/^iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/.test(png)) throw new TypeError(`renderGanReportHtml: ${what} is not a base64-encoded PNG file`);
  return png;
}

function samplesSection(data: GanReportData): string {
  const fd = new Map((data.quality?.points ?? []).map((p) => [p.epoch, p.frechetDistance]));
  const figure = (png: string, caption: string, what: string) =>
    `<figure><img src="data:image/png;base64,${checkedPng(png, what)}" alt="${e(caption)}"><figcaption>${e(caption)}</figcaption></figure>`;
  const grids = data.samples.map((s, i) => {
    const d = fd.get(s.epoch);
    return figure(s.pngBase64, `${s.epoch === 0 ? 'before training' : `epoch ${s.epoch}`}${d === undefined ? '' : ` · Fréchet distance ${fmt(d, 3)}`}`, `samples[${i}].pngBase64`);
  });
  if (data.real) grids.push(figure(data.real.pngBase64, 'real images', 'real.pngBase64'));
  const size = `${data.model.imageSize}×${data.model.imageSize}×${data.model.channels}`;
  return `<section><h2>Samples</h2><p>The generator's images for one fixed batch of noise (the same z every epoch), ${size}.</p><div class="grids">${grids.join('')}</div></section>`;
}

function curvesSection(data: GanReportData): string {
  const pts = data.points;
  const series = (key: keyof GanReportData['points'][number], name: string) => ({ name, points: pts.map((p) => [p.iteration, p[key]] as const) });
  const losses = lineChart([series('loss_d', 'loss D'), series('loss_g', 'loss G')], { title: 'losses', xLabel: 'batch', yLabel: 'BCE', width: 560, height: 300 });
  const outputs = lineChart([series('d_x', 'D(x)'), series('d_g_z1', 'D(G(z)) before D step'), series('d_g_z2', 'after')], { title: "the discriminator's outputs", xLabel: 'batch', yLabel: 'mean probability of real', width: 560, height: 300 });
  const head = ['epoch', 'loss D', 'loss G', 'D(x)', 'D(G(z)) before', 'D(G(z)) after', 'lr G', 'lr D', 'time', 'images/s'];
  const num = (v: number | null) => (v === null ? '—' : formatNumber(v));
  const rows = data.history.map((h) =>
    [String(h.epoch), fmt(h.loss_d), fmt(h.loss_g), fmt(h.d_x), fmt(h.d_g_z1), fmt(h.d_g_z2), num(h.lr_g), num(h.lr_d), h.seconds === undefined ? '—' : seconds(h.seconds), fmt(h.imagesPerSecond, 0)]
      .map((c) => `<td>${e(c)}</td>`)
      .join(''),
  );
  return `<section><h2>Training</h2><p>Means over runs of batches (each point) and over epochs (the table). The discriminator is trained to say 1 for real images and 0 for generated ones; the generator to make it say 1. D(G(z)) is measured before and after the discriminator's update of the same batch.</p>
<div class="charts">${losses}${outputs}</div>
<table><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r}</tr>`).join('')}</table></section>`;
}

function qualitySection(q: GanQuality): string {
  const epochs = q.points.map((p) => p.epoch);
  const distance = [{ name: 'generated vs real', points: q.points.map((p) => [p.epoch, p.frechetDistance] as const) }];
  if (q.realFloor !== undefined) distance.push({ name: 'real vs real', points: epochs.map((x) => [x, q.realFloor as number] as const) });
  const fdChart = lineChart(distance, { title: 'Fréchet distance (lower is better)', xLabel: 'epoch (0: before training)', yLabel: 'd²', logY: 'auto', integerX: true, width: 560, height: 300 });
  const covChart = lineChart([{ name: 'classes covered', points: q.points.map((p) => [p.epoch, p.classCoverage] as const) }], { title: `classes covered (≥ ${fmt(q.minShare * 100, 2)}% of the samples)`, xLabel: 'epoch (0: before training)', yLabel: 'classes', integerX: true, width: 560, height: 300 });
  const last = q.points.at(-1);
  const total = last ? last.counts.reduce((a, b) => a + b, 0) : 0;
  const counts = last
    ? barChart(last.counts.map((c, k) => ({ label: q.classes[k] ?? `#${k}`, value: c, title: `${q.classes[k] ?? `#${k}`}: ${c} of ${total}` })), { title: `generated images per predicted class (epoch ${last.epoch})`, xLabel: 'class', yLabel: 'images', width: 560, height: 260 })
    : '';
  const rows = q.points.map((p) => `<tr><td>${p.epoch === 0 ? 'before training' : p.epoch}</td><td>${fmt(p.frechetDistance, 3)}</td><td>${p.classCoverage}</td></tr>`).join('');
  return `<section><h2>Quality</h2>
<p>The Fréchet distance between ${q.samples.toLocaleString('en-US')} generated images and ${e(q.reference)}, in the feature space of the classifier <code>${e(q.classifier)}</code> (${e(q.description)}; its penultimate layer): FID's formula with a classifier Tessera trained, <strong>not the Inception FID</strong> — comparable only with runs scored by the same classifier on as many images.${q.realFloor === undefined ? '' : ` Two sets of real images of this size are ${fmt(q.realFloor, 3)} apart: a perfect generator's distance.`} A class is covered when the classifier gives it at least ${fmt(q.minShare * 100, 2)}% of the generated images.</p>
<div class="charts">${fdChart}${covChart}${counts}</div>
<table><tr><th>epoch</th><th>Fréchet distance</th><th>classes covered</th></tr>${rows}</table></section>`;
}

function modelSection(data: GanReportData): string {
  const m = data.model;
  const d = data.dataset;
  const files = data.weights.at(-1);
  return `<section><h2>Model and data</h2><div class="cards">${card('model', m.name)}${card('generator parameters', m.generatorParameters.toLocaleString('en-US'))}${card('discriminator parameters', m.discriminatorParameters.toLocaleString('en-US'))}${card('images', (d.splits[0]?.count ?? 0).toLocaleString('en-US'))}</div>
${d.description ? `<p>Data: ${e(d.description)}, as ${m.imageSize}×${m.imageSize}×${m.channels} images.</p>` : ''}
${files ? `<p>Weights after every epoch, as PyTorch state dicts with the DCGAN example's names: <code>${e(files.generator)}</code>, <code>${e(files.discriminator)}</code> (the last epoch's).</p>` : ''}</section>`;
}

/** Writes `dir/report.html` and `dir/gan-report.json` atomically; returns their paths. */
export function writeGanReport(dir: string, data: GanReportData): { html: string; json: string } {
  if (data.format !== GAN_REPORT_FORMAT) throw new TypeError(`writeGanReport: data.format must be '${GAN_REPORT_FORMAT}', got ${JSON.stringify(data.format)}`);
  const html = renderGanReportHtml(data);
  const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  mkdirSync(dir, { recursive: true });
  const paths = { html: join(dir, 'report.html'), json: join(dir, 'report.json') };
  writeFileAtomic(paths.json, [Buffer.from(`${json}\n`)]);
  writeFileAtomic(paths.html, [Buffer.from(html)]);
  return paths;
}
