// The GAN report (src/report/gan.ts) opened in headless Chromium with the network blocked, as the
// classification report is (report.test.ts): it renders without errors or requests, its curves carry
// every point, the sample grids decode at their size, hostile strings stay text; report.json is the
// data; a grid that is not a PNG is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { chromium, type Browser } from 'playwright-core';

import { rand, scope } from '../../src/index.js';
import { GAN_REPORT_FORMAT, renderGanReportHtml, writeGanReport, type GanReportData } from '../../src/report/gan.js';
import { gridPng } from '../../src/run/gan/samples.js';

const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any;

const HOSTILE = '<img src=x onerror="window.__pwned=1">';

async function makeGanReport(): Promise<GanReportData> {
  const grid = async (k: number) => (await scope(() => gridPng(rand([16, 1, 8, 8]).mul(2 * (k + 1) / 4).sub(1), [-1, 1]))).toString('base64');
  const epochs = 3;
  const points = Array.from({ length: 12 }, (_, i) => ({ iteration: (i + 1) * 4, epoch: Math.floor(i / 4), loss_d: 1.4 - i * 0.05, loss_g: 0.7 + i * 0.1, d_x: 0.5 + i * 0.02, d_g_z1: 0.5 - i * 0.02, d_g_z2: 0.48 - i * 0.02 }));
  return {
    format: GAN_REPORT_FORMAT,
    runName: `gan ${HOSTILE}`,
    createdAt: '2025-01-01T00:00:00.000Z',
    config: { note: '<script>alert(1)</script>' },
    dataset: { description: `bars ${HOSTILE}`, classes: ['a', 'b'], imageSize: { width: 8, height: 8, channels: 1 }, splits: [{ name: 'train', count: 256 }] },
    model: { name: 'dcgan', generatorParameters: 1168, discriminatorParameters: 256, imageSize: 8, channels: 1 },
    history: Array.from({ length: epochs }, (_, e) => ({ epoch: e + 1, loss_d: 1.2, loss_g: 0.9, d_x: 0.6, d_g_z1: 0.4, d_g_z2: 0.38, lr_g: 2e-4, lr_d: 2e-4, seconds: 2, imagesPerSecond: 128 })),
    points,
    samples: await Promise.all(Array.from({ length: epochs + 1 }, async (_, e) => ({ epoch: e, file: `samples/epoch-00${e}.png`, pngBase64: await grid(e) }))),
    real: { pngBase64: await grid(3) },
    quality: {
      classifier: `runs/${HOSTILE}`, description: '4 classes, 1×8×8 input', classes: ['bar <b>1</b>', 'bar 2', 'bar 3', 'bar 4'], reference: '128 training images', samples: 128, minShare: 0.02, realFloor: 1.3,
      points: Array.from({ length: epochs + 1 }, (_, e) => ({ epoch: e, frechetDistance: 40 - 8 * e, classCoverage: Math.min(4, 1 + e), counts: [100 - 20 * e, 10 * e, 10 * e, 28] })),
    },
    weights: Array.from({ length: epochs }, (_, e) => ({ epoch: e + 1, generator: `weights/netG_epoch_${e + 1}.pth`, discriminator: `weights/netD_epoch_${e + 1}.pth` })),
    timing: [{ name: 'run (total)', seconds: 7 }],
    environment: { info: 'test', node: process.version },
  };
}

describe('GAN report in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-gan-report-'));
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the grids, the per-batch curves and the quality figure, fetching nothing and running nothing', async () => {
    const data = await makeGanReport();
    const paths = writeGanReport(join(dir, 'run'), data);
    assert.deepEqual(JSON.parse(readFileSync(paths.json, 'utf8')), JSON.parse(JSON.stringify(data)));
    assert.equal(readFileSync(paths.html, 'utf8'), renderGanReportHtml(data));
    const url = pathToFileURL(paths.html).href;
    const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    page.on('console', (m) => void (m.type() === 'error' || m.type() === 'warning' ? errors.push(m.text()) : 0));
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(url, { waitUntil: 'load' });
      const facts = await page.evaluate(() => ({
        series: Object.fromEntries([...document.querySelectorAll('svg.line-chart path.series')].map((p) => [p.getAttribute('data-series'), String(p.getAttribute('d')).split(/[ML]/).filter((s) => s.trim()).length])),
        imgs: [...document.querySelectorAll('.grids img')].map((i) => [i.naturalWidth, i.naturalHeight, i.complete]),
        captions: [...document.querySelectorAll('.grids figcaption')].map((c) => c.textContent),
        bars: [...document.querySelectorAll('svg.bar-chart text.bar-label')].map((t) => t.lastChild.textContent),
        cards: Object.fromEntries([...document.querySelectorAll('body > main > .cards .card')].map((c) => [c.querySelector('.k').textContent, c.querySelector('.v').textContent])),
        h1: document.querySelector('h1').textContent,
        pwned: window.__pwned ?? null,
        scripts: document.querySelectorAll('script').length,
        text: document.body.textContent,
      }));
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
      for (const name of ['loss D', 'loss G', 'D(x)', 'D(G(z)) before D step', 'after']) assert.equal(facts.series[name], 12, `series ${name}`);
      assert.equal(facts.series['generated vs real'], 4, 'epoch 0 (before training) and three epochs');
      assert.equal(facts.series['real vs real'], 4);
      assert.equal(facts.series['classes covered'], 4);
      assert.deepEqual(facts.imgs, Array(5).fill([8 * 10 + 2, 2 * 10 + 2, true]), 'four grids and the real images, 16 images 8 a row');
      assert.deepEqual(facts.captions, ['before training · Fréchet distance 40', 'epoch 1 · Fréchet distance 32', 'epoch 2 · Fréchet distance 24', 'epoch 3 · Fréchet distance 16', 'real images']);
      assert.deepEqual(facts.bars, ['bar <b>1</b>', 'bar 2', 'bar 3', 'bar 4'], 'class names stay text');
      assert.equal(facts.cards['Fréchet distance'], '16');
      assert.equal(facts.cards['… before training'], '40');
      assert.equal(facts.cards['classes covered'], '4 / 4');
      assert.equal(facts.h1, data.runName);
      assert.equal(facts.pwned, null);
      assert.equal(facts.scripts, 0);
      assert.match(facts.text, /not the Inception FID/);
      assert.match(facts.text, /weights\/netG_epoch_3\.pth/);
    } finally {
      await context.close();
    }
  });

  it('refuses a grid that is not a base64 PNG, leaving the files as they were', async () => {
    const data = await makeGanReport();
    const paths = writeGanReport(join(dir, 'refuse'), data);
    const before = readFileSync(paths.html, 'utf8');
    const bad = { ...data, samples: [{ epoch: 0, file: 'x', pngBase64: '"><script>1</script>' }] };
    assert.throws(() => writeGanReport(join(dir, 'refuse'), bad), /samples\[0\]\.pngBase64 is not a base64-encoded PNG file/);
    assert.equal(readFileSync(paths.html, 'utf8'), before);
  });
});
