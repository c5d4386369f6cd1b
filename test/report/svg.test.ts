// The chart helpers on their own: ticks, gaps, degenerate ranges, escaping.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { barChart, escapeHtml, formatNumber, heatmap, lineChart, niceTicks } from '../../src/report/index.js';

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
});
