// The chart helpers on their own: ticks, gaps, degenerate ranges, escaping.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { escapeHtml } from '../../src/report/escape.js';
import { barChart, formatNumber, heatmap, integerTicks, lineChart, niceTicks } from '../../src/report/svg.js';

describe('svg charts', () => {
  it('niceTicks picks round steps covering the range', () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0.35, 1.45, 5), [0.5, 0.75, 1, 1.25]);
    assert.deepEqual(niceTicks(3, 3), [3]);
    // Values equal but for the last bit: one tick, not an endless loop.
    assert.deepEqual(niceTicks(1.4, 1.4000000000000001), [1.4]);
    assert.ok(niceTicks(-7, 1e6).length <= 10);
  });

  it('formatNumber keeps labels short', () => {
    assert.deepEqual([0, 0.123456, 12345, 1e-4, 2.5e6].map(formatNumber), ['0', '0.123', '12300', '1.0e-4', '2.5e6']);
  });

  it('a null value leaves a gap; a flat or empty series still draws', () => {
    const svg = lineChart([{ name: 'a', points: [[1, 1], [2, null], [3, 2], [4, 3]] }], { title: 't' });
    const d = /<path class="series" data-series="a" d="([^"]+)"/.exec(svg)?.[1] ?? '';
    assert.equal(d.split('M').length - 1, 2, 'two segments');
    assert.equal(d.split('L').length - 1, 1);
    const flat = lineChart([{ name: 'f', points: [[1, 1.4], [2, 1.4000000000000001]] }], { title: 'flat' });
    assert.ok(/class="series"/.test(flat) && !/NaN|Infinity/.test(flat));
    assert.match(lineChart([], { title: 'empty' }), /no data/);
    assert.ok(!/NaN|Infinity/.test(lineChart([{ name: 'lr', points: [[0, 0.1], [1, 0], [2, 1e-4]] }], { title: 'log', logY: true })));
  });

  it('heatmap draws K² cells; every text is escaped', () => {
    const names = ['<a>', 'b&c', '"q"'];
    const svg = heatmap([[1, 0, 0], [0.5, 0.5, 0], [0, 0, 1]], names, { title: '<t>', rowLabel: 'true', colLabel: 'pred' });
    assert.equal(svg.match(/<rect class="cell"/g)?.length, 9);
    assert.ok(!svg.includes('<a>') && !svg.includes('<t>') && svg.includes('&lt;a&gt;') && svg.includes('b&amp;c') && svg.includes('&quot;q&quot;'));
    assert.ok(!barChart([{ label: '<x>', value: 1 }], { title: 't' }).includes('<x>'));
    assert.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;');
  });

  it('integerTicks: whole numbers only, every one when few', () => {
    assert.deepEqual(integerTicks(1, 3), [1, 2, 3]);
    assert.deepEqual(integerTicks(0.6, 3.4), [1, 2, 3]);
    assert.deepEqual(integerTicks(1, 40, 6), [10, 20, 30, 40]);
    assert.deepEqual(integerTicks(1, 12, 6), [2, 4, 6, 8, 10, 12]);
    assert.deepEqual(integerTicks(0.2, 0.8), []);
    const epochs = lineChart([{ name: 'a', points: [[1, 1], [2, 2], [3, 3]] }], { title: 't', integerX: true });
    assert.deepEqual([...epochs.matchAll(/class="tick x-tick"[^>]*>([^<]+)</g)].map((m) => m[1]), ['1', '2', '3']);
  });

  it("logY 'auto': a log axis when positive values span 30× or more, linear otherwise", () => {
    const axis = (points: [number, number][]) => /rotate\(-90\)" text-anchor="middle">([^<]+)</.exec(lineChart([{ name: 'loss', points }], { title: 'loss', yLabel: 'loss', logY: 'auto' }))?.[1];
    assert.equal(axis([[1, 45], [2, 0.9], [3, 0.4]]), 'loss (log scale)');
    assert.equal(axis([[1, 3.2], [2, 0.8], [3, 0.5]]), 'loss');
    assert.equal(axis([[1, 45], [2, 0], [3, 0.4]]), 'loss', 'a zero cannot go on a log axis');
    const ticks = [...lineChart([{ name: 'l', points: [[1, 45], [3, 0.4]] }], { title: 'l', logY: 'auto' }).matchAll(/class="tick" [^>]*text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(ticks, ['0.5', '1', '2', '5', '10', '20', '50'], '1-2-5 ticks within two decades');
  });

  it('heatmap makes room for its title and as much for column labels as they need', () => {
    const size = (svg: string) => /viewBox="0 0 (\d+) (\d+)"/.exec(svg)!.slice(1).map(Number) as [number, number];
    const title = 'colour: share of the true class; numbers: counts';
    const short = size(heatmap([[1, 0], [0, 1]], ['a', 'b'], { title, rowLabel: 'r', colLabel: 'c' }));
    const long = size(heatmap([[1, 0], [0, 1]], ['a rather long name', 'b'], { title, rowLabel: 'r', colLabel: 'c' }));
    assert.ok(short[0] >= title.length * 13 * 0.6, `width ${short[0]} holds the title`);
    assert.ok(long[1] - short[1] > 60, `longer labels, taller drawing: ${short[1]} → ${long[1]}`);
  });

  it('bar labels: names as given, cut and slanted when wider than their bar', () => {
    const fits = barChart([{ label: 'cat', value: 1 }, { label: 'dog', value: 2 }], { title: 't' });
    assert.ok(/text-anchor="middle"><title>cat<\/title>cat</.test(fits));
    const crowded = barChart(Array.from({ length: 10 }, (_, i) => ({ label: `a very long class name ${i}`, value: i + 1 })), { title: 't', width: 480 });
    assert.equal(crowded.match(/rotate\(-45\)/g)?.length, 10);
    assert.ok(crowded.includes('<title>a very long class name 3</title>a very long cla…<'));
  });
});
