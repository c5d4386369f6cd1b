// The task sections of the report (segmentation, multi-label, reconstruction) in headless Chromium
// with the network blocked: they render without errors, their tables have a row per class, every
// image of the overlay and reconstruction strips decodes at its size, hostile class names stay text,
// and the page is not blank.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';

import { overlayMask } from '../../src/data/image/mask.js';
import type { RawImage } from '../../src/data/types.js';
import { writeReport, type ReportData } from '../../src/report/index.js';
import { pngBase64 } from '../../src/run/tasks/images.js';
import { HOSTILE, makeSmallReport } from './fixture.js';

const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any;

/** A 24×20 image with a square of class k, its mask, and the two overlays. */
async function overlayStrip(k: number, id: string) {
  const image: RawImage = { data: new Uint8Array(24 * 20 * 3).map((_, i) => (i * 7) % 200), width: 24, height: 20, channels: 3 };
  const mask: RawImage = { data: new Uint8Array(24 * 20).map((_, p) => ((p % 24) > 8 && Math.floor(p / 24) > 5 ? k : p < 24 ? 255 : 0)), width: 24, height: 20, channels: 1 };
  return {
    id,
    label: `IoU ${40 + k}%`,
    images: [
      { caption: 'image', pngBase64: await pngBase64(image) },
      { caption: 'truth', pngBase64: await pngBase64(overlayMask(image, mask, { showIgnored: true })) },
      { caption: 'prediction', pngBase64: await pngBase64(overlayMask(image, mask)) },
    ],
  };
}

describe('task report sections in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-task-report-'));
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(data: ReportData, name: string) {
    const file = writeReport(join(dir, name), data).html;
    const url = pathToFileURL(file).href;
    const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
    await page.goto(url, { waitUntil: 'load' });
    return { page, errors, requests };
  }

  it('renders segmentation, multi-label and reconstruction sections with their tables and images', async () => {
    const base = await makeSmallReport();
    const { test: _t, gallery: _g, ...common } = base;
    const classes = ['background', ...HOSTILE];
    const reports: [string, ReportData, { table: string; rows: number; images: [number, number][]; text: RegExp }][] = [
      ['segment', {
        ...common,
        task: 'segment',
        dataset: { ...common.dataset, classes },
        segmentation: {
          classes,
          colours: ['#000000', '#e69f00', '#56b4e9', '#009e73'],
          images: 3,
          pixels: 1440,
          perClass: classes.map((name, k) => ({ name, iou: k === 3 ? null : 0.5 + k / 10, dice: k === 3 ? null : 0.6, support: 100 * k })),
          meanIoU: 0.6,
          meanDice: 0.6,
          pixelAccuracy: 0.9,
          loss: 0.3,
          worst: [await overlayStrip(1, 'a.png'), await overlayStrip(2, HOSTILE[0] as string)],
        },
      }, { table: 'table.seg-per-class', rows: 1 + classes.length + 1, images: Array(6).fill([24, 20]), text: /MEAN IOU\s*60\.00%/i }],
      ['multilabel', {
        ...common,
        task: 'multilabel',
        dataset: { ...common.dataset, classes: HOSTILE },
        multilabel: {
          classes: HOSTILE,
          samples: 40,
          threshold: 0.5,
          perClass: HOSTILE.map((name, k) => ({ name, ap: k === 2 ? null : 0.8, precision: 0.7, recall: 0.6, f1: 0.65, support: 10 + k })),
          meanAP: 0.8,
          macro: { precision: 0.7, recall: 0.6, f1: 0.65 },
          micro: { precision: 0.71, recall: 0.61, f1: 0.66 },
          loss: 0.2,
        },
      }, { table: 'table.ml-per-class', rows: 1 + HOSTILE.length + 2, images: [], text: /MEAN AP\s*80\.00%/i }],
      ['reconstruct', {
        ...common,
        task: 'reconstruct',
        reconstruction: {
          images: 20,
          mse: 0.0123,
          psnr: 19.1,
          loss: 0.0123,
          noise: 0.3,
          worst: await Promise.all([40, 90].map(async (v, s) => ({
            id: `bars/${s}.png`,
            label: 'error 0.0400',
            images: await Promise.all(['input', 'output', 'noisy input (σ 0.3)', 'output of the noisy input'].map(async (caption, k) => ({ caption, pngBase64: await pngBase64({ data: new Uint8Array(16 * 16).fill(v + 20 * k), width: 16, height: 16, channels: 1 }) }))),
          }))),
        },
      }, { table: '', rows: 0, images: Array(8).fill([16, 16]), text: /PSNR\s*19\.10 dB/ }],
    ];
    for (const [name, data, want] of reports) {
      const { page, errors, requests } = await open(data, name);
      try {
        assert.deepEqual(errors, [], name);
        assert.deepEqual(requests, [], name);
        const facts = await page.evaluate((table: string) => ({
          rows: table ? document.querySelectorAll(`${table} tr`).length : 0,
          imgs: [...document.querySelectorAll('.strips img')].map((i) => [i.naturalWidth, i.naturalHeight]),
          pwned: window.__pwned ?? null,
          text: document.body.innerText,
          scripts: document.querySelectorAll('script').length,
        }), want.table);
        assert.equal(facts.rows, want.rows, `${name}: table rows`);
        assert.deepEqual(facts.imgs, want.images, `${name}: strip images decode at their size`);
        assert.equal(facts.pwned, null);
        assert.equal(facts.scripts, 0);
        assert.match(facts.text, want.text);
        if (name !== 'reconstruct') for (const h of HOSTILE) assert.ok((facts.text as string).includes(h), `${name}: ${h} shown as text`);
        const shot = join(dir, `${name}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        const stats = await sharp(shot).stats();
        assert.ok(stats.channels.some((c) => c.max - c.min > 100 && c.stdev > 5), `${name}: the screenshot is not blank`);
      } finally {
        await page.context().close();
      }
    }
  });
});
