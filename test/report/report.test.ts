// The report opened in a real browser (Debian's Chromium, headless, through playwright-core) with
// the network blocked: it renders without errors, fetches nothing, its charts carry data, the
// gallery images decode, and hostile class names stay text.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';

import { REPORT_FORMAT, renderReportHtml, writeReport, type ReportData } from '../../src/report/index.js';
import { HOSTILE, makeReport, makeSmallReport } from './fixture.js';

const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';

// The functions passed to page.evaluate run in the page; the project compiles without the DOM
// library, so the page's globals are declared here, untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any;

interface Opened {
  page: Page;
  errors: string[];
  /** Every request the page made other than the report file itself. */
  requests: string[];
}

describe('run report in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-report-'));
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(data: ReportData | string, name: string): Promise<Opened> {
    let file: string;
    if (typeof data === 'string') {
      file = join(dir, `${name}.html`);
      writeFileSync(file, data);
    } else {
      file = writeReport(join(dir, name), data).html;
    }
    const url = pathToFileURL(file).href;
    const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    // Block everything; record what was tried. The report file itself is the one allowed load.
    await context.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
    page.on('requestfailed', (r) => { if (r.url() !== url && !r.url().startsWith('data:')) requests.push(r.url()); });
    page.on('request', (r) => { if (r.url() !== url && !r.url().startsWith('data:')) requests.push(r.url()); });
    await page.goto(url, { waitUntil: 'load' });
    return { page, errors, requests };
  }

  it('writes report.json that round-trips the data and report.html', async () => {
    const data = await makeReport();
    const paths = writeReport(join(dir, 'roundtrip'), data);
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as ReportData;
    assert.deepEqual(json, JSON.parse(JSON.stringify(data)));
    assert.equal(json.format, REPORT_FORMAT);
    assert.equal(readFileSync(paths.html, 'utf8'), renderReportHtml(data));
  });

  it('renders with charts, a K×K confusion matrix, decoded gallery images and no network', async () => {
    const data = await makeReport();
    const K = data.dataset.classes.length;
    const { page, errors, requests } = await open(data, 'plain');
    try {
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
      const facts = await page.evaluate(() => {
        const series = [...document.querySelectorAll('svg.line-chart path.series')].map((p) => ({
          name: p.getAttribute('data-series'),
          points: String(p.getAttribute('d') ?? '').split(/[ML]/).filter((s) => s.trim()).length,
        }));
        const imgs = [...document.querySelectorAll('.gallery img')];
        return {
          svgs: document.querySelectorAll('svg.chart').length,
          series,
          cells: document.querySelectorAll('svg.heatmap rect.cell').length,
          cellTexts: [...document.querySelectorAll('svg.heatmap text.cell-text')].map((t) => Number(t.textContent)),
          bars: document.querySelectorAll('svg.bar-chart rect.bar').length,
          // Page CSS must not restyle chart shapes: each bar is drawn as tall as its attribute says.
          barHeights: [...document.querySelectorAll('svg.bar-chart rect.bar')].map((r) => [r.getBoundingClientRect().height, Number(r.getAttribute('height'))]),
          pathBoxes: [...document.querySelectorAll('svg.line-chart path.series')].map((p) => p.getBoundingClientRect().width),
          imgs: imgs.map((i) => ({ w: i.naturalWidth, h: i.naturalHeight, complete: i.complete })),
          perClassRows: document.querySelectorAll('table.per-class tr').length,
          confusedRows: document.querySelectorAll('table.confused tr').length,
          title: document.title,
          scripts: document.querySelectorAll('script').length,
        };
      });
      // Line charts: train/val loss and accuracy, val f1, throughput, and the per-step LR curve.
      const byName = Object.fromEntries(facts.series.map((s) => [s.name, s.points]));
      for (const name of ['train loss', 'val loss', 'train accuracy', 'val accuracy', 'val f1_macro', 'train images/s']) assert.equal(byName[name], 6, `series ${name}`);
      assert.equal(byName.lr, 300, 'LR curve, one point per step');
      assert.equal(facts.cells, K * K);
      assert.deepEqual(facts.cellTexts, data.test!.confusion.counts.flat(), 'cells show the counts, row by row');
      assert.equal(facts.bars, 15 + K, 'reliability bins + samples per class');
      for (const [drawn, attr] of facts.barHeights as [number, number][]) assert.ok(Math.abs(drawn - attr) < 1.5, `bar drawn ${drawn}px high, attribute ${attr}`);
      assert.ok((facts.barHeights as [number, number][]).filter(([, a]) => a > 50).length >= K, 'the class-count bars are tall');
      assert.ok((facts.pathBoxes as number[]).every((w) => w > 100), 'every line spans the plot');
      assert.deepEqual(facts.imgs, [{ w: 28, h: 28, complete: true }, { w: 32, h: 32, complete: true }, { w: 28, h: 28, complete: true }, { w: 32, h: 32, complete: true }, { w: 28, h: 28, complete: true }, { w: 32, h: 32, complete: true }]);
      assert.equal(facts.perClassRows, 1 + K + 3);
      assert.equal(facts.confusedRows, 1 + data.test!.mostConfused.length);
      assert.ok(facts.confusedRows > 1);
      assert.ok(facts.svgs >= 8, `${facts.svgs} charts`);
      assert.equal(facts.title, 'fashion-mnist resnet18 · Tessera report');
      assert.equal(facts.scripts, 0);

      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      const meta = await sharp(shot).metadata();
      assert.equal(meta.format, 'png');
      assert.equal(meta.width, 1280);
      assert.ok((meta.height ?? 0) > 2000, `a full page is long: ${meta.height}px`);
      const stats = await sharp(shot).stats();
      assert.ok(stats.channels.some((c) => c.max - c.min > 100 && c.stdev > 5), 'the screenshot is not a single colour');
      // Many distinct colours: the heatmap alone has a ramp of blues.
      const { data: px } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
      const colours = new Set<number>();
      for (let i = 0; i + 2 < px.length; i += 3 * 7) colours.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
      assert.ok(colours.size > 50, `${colours.size} distinct colours sampled`);
    } finally {
      await page.context().close();
    }
  });

  it('keeps hostile class names, run names and config values as text', async () => {
    const data = await makeReport({ hostile: true });
    const html = renderReportHtml(data);
    assert.ok(!/<script/i.test(html), 'no <script in the HTML');
    assert.ok(!html.includes('<img src=x'), 'no injected img tag');
    const { page, errors, requests } = await open(data, 'hostile');
    try {
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
      const facts = await page.evaluate(() => ({
        pwned: (window.__pwned as number | undefined) ?? null,
        scripts: document.querySelectorAll('script').length,
        imgs: document.querySelectorAll('img').length,
        firstCells: [...document.querySelectorAll('table.per-class tr td:first-child')].slice(0, 3).map((td) => td.textContent),
        title: document.title,
        h1: document.querySelector('h1')?.textContent,
        heatmapLabels: [...document.querySelectorAll('svg.heatmap text.tick title')].slice(0, 6).map((t) => t.textContent),
        config: document.querySelector('pre')?.textContent ?? '',
      }));
      assert.equal(facts.pwned, null);
      assert.equal(facts.scripts, 0);
      assert.equal(facts.imgs, data.gallery!.length, 'only the gallery images exist');
      assert.deepEqual(facts.firstCells, HOSTILE);
      assert.deepEqual(facts.heatmapLabels, HOSTILE.flatMap((h) => [h, h]), 'row and column label of each class');
      assert.equal(facts.h1, data.runName);
      assert.equal(facts.title, `${data.runName} · Tessera report`);
      assert.ok(facts.config.includes('"note": "<script>alert(1)</script>"'));
    } finally {
      await page.context().close();
    }
  });

  it('lays out a small run legibly: run time, confusion title, log loss, whole epochs, legends off the lines, class names, skipped files', async () => {
    const data = await makeSmallReport();
    const { page, errors, requests } = await open(data, 'small');
    try {
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
      const facts = await page.evaluate(() => {
        const box = (el: any) => { const r = el.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, height: r.height }; };
        const cards = Object.fromEntries([...document.querySelectorAll('body > main > .cards .card')].map((c: any) => [c.querySelector('.k').textContent, c.querySelector('.v').textContent]));
        const charts = [...document.querySelectorAll('svg.line-chart')].map((svg: any) => ({
          title: svg.querySelector('.chart-title').textContent,
          yLabel: [...svg.querySelectorAll('.axis-label')].map((t: any) => t.textContent).find((t: string) => t !== 'epoch' && t !== 'step'),
          frame: box(svg.querySelector('rect.frame')),
          legends: [...svg.querySelectorAll('.legend-item')].map(box),
          paths: Object.fromEntries([...svg.querySelectorAll('path.series')].map((p: any) => [p.getAttribute('data-series'), box(p)])),
          xTicks: [...svg.querySelectorAll('text.x-tick')].map((t: any) => t.textContent),
        }));
        const heat = document.querySelector('svg.heatmap');
        const title = heat.querySelector('.chart-title');
        const cells = [...heat.querySelectorAll('rect.cell')].map(box);
        const colLabels = [...heat.querySelectorAll('text.tick')].map(box);
        return {
          cards,
          charts,
          heatTitleRight: box(title).right,
          heatRight: box(heat).right,
          gapAboveCells: Math.min(...cells.map((c) => c.top)) - Math.max(...colLabels.filter((l) => l.bottom <= Math.min(...cells.map((c) => c.top)) + 1).map((l) => l.bottom)),
          labelsAboveTitle: Math.min(...colLabels.map((l) => l.top)) - box(title).bottom,
          barLabels: [...document.querySelectorAll('svg.bar-chart')].map((svg: any) => [...svg.querySelectorAll('text.bar-label')].map((t: any) => t.lastChild.textContent)),
          skipped: [...document.querySelectorAll('#skipped table tr')].slice(1).map((tr: any) => [...tr.querySelectorAll('td')].map((td: any) => td.textContent)),
          perBatch: [...document.querySelectorAll('table.per-batch tr')].slice(1).map((tr: any) => tr.textContent),
        };
      });
      // The time card is the run's time (240 s + 7 s), not that plus the per-batch averages.
      assert.equal(facts.cards.time, '4 min 7 s');
      assert.equal(facts.cards['skipped files'], '2');
      assert.deepEqual(facts.perBatch, ['data50 ms', 'forward + backward52.0 s']);
      // The confusion matrix: its title fits the drawing, and the column labels sit right above the cells.
      assert.ok(facts.heatTitleRight <= facts.heatRight + 0.5, `title ends at ${facts.heatTitleRight}, the drawing at ${facts.heatRight}`);
      assert.ok(facts.gapAboveCells < 12, `gap between column labels and cells: ${facts.gapAboveCells}px`);
      assert.ok(facts.labelsAboveTitle > 0 && facts.labelsAboveTitle < 24, `labels start ${facts.labelsAboveTitle}px under the title`);
      const loss = facts.charts.find((c) => c.title === 'loss')!;
      assert.equal(loss.yLabel, 'loss (log scale)', 'a loss spanning two decades is drawn on a log axis');
      assert.ok(loss.paths['val loss']!.height > 0.3 * loss.frame.height, `val loss spans ${loss.paths['val loss']!.height}px of ${loss.frame.height}px`);
      const accuracy = facts.charts.find((c) => c.title === 'accuracy')!;
      assert.equal(accuracy.yLabel, 'accuracy', 'accuracy stays linear');
      for (const c of facts.charts.filter((x) => x.title !== 'learning rate per step')) {
        assert.deepEqual(c.xTicks, ['1', '2', '3'], `${c.title}: ticks on whole epochs`);
        for (const l of c.legends) assert.ok(l.bottom <= c.frame.top, `${c.title}: legend (bottom ${l.bottom}) above the plot (top ${c.frame.top})`);
      }
      assert.deepEqual(facts.barLabels.at(-1), ['cat', 'dog', 'horse'], 'samples per class are labelled by class name');
      assert.deepEqual(facts.skipped, [['/data/pets/cat/broken.jpg', 'train', 'JPEG is truncated'], ['/data/pets/dog/<b>x</b>.png', 'test', 'not an image']]);
      await page.screenshot({ path: join(dir, 'small.png'), fullPage: true });
    } finally {
      await page.context().close();
    }
  });

  it('the harness notices a page that reaches for the network or runs a script', async () => {
    const html = renderReportHtml(await makeReport({ galleryItems: 1 }));
    const reaching = html.replace('</main>', '<img src="http://192.0.2.1/x.png"><link rel="stylesheet" href="https://cdn.example/x.css"><script>1</script></main>');
    const { page, errors, requests } = await open(reaching, 'reaching');
    try {
      // The report's own CSP refuses all three; a refusal is a console error, a load that got through a request.
      assert.ok(errors.length + requests.length >= 3, `caught: ${[...errors, ...requests].join(' | ')}`);
    } finally {
      await page.context().close();
    }
  });

  it('renders a report with no test set, no gallery and one epoch', async () => {
    const full = await makeReport();
    const data: ReportData = { ...full, history: full.history.slice(0, 1), test: undefined, gallery: undefined, lrCurve: undefined, timing: undefined };
    const { page, errors, requests } = await open(data, 'minimal');
    try {
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
      const cells = await page.evaluate(() => document.querySelectorAll('svg.heatmap rect.cell').length);
      assert.equal(cells, 0);
    } finally {
      await page.context().close();
    }
  });

  it('refuses a gallery image that is not a base64 PNG and leaves the old files in place', async () => {
    const data = await makeReport({ galleryItems: 2 });
    const target = join(dir, 'refuse');
    const paths = writeReport(target, data);
    const before = readFileSync(paths.html, 'utf8');
    data.gallery![1]!.pngBase64 = '/9j/4AAQSkZJRg=="><script>';
    assert.throws(() => writeReport(target, data), /gallery\[1\]\.pngBase64 is not a base64-encoded PNG/);
    assert.equal(readFileSync(paths.html, 'utf8'), before);
  });
});
