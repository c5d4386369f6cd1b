// Hand-written SVG charts for the report: a line chart with axes, ticks and a legend, a heatmap
// and a bar chart. Each returns an `<svg>` string that needs nothing else (no script, no font
// files), and every text it draws goes through `escapeHtml`.
import { escapeHtml } from './escape.js';

/** Distinguishable on white and for the common colour-blindnesses (Okabe–Ito). */
export const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];

export interface Series {
  name: string;
  /** (x, y) points; a null or non-finite y leaves a gap in the line. */
  points: readonly (readonly [number, number | null])[];
  color?: string;
}

export interface LineChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Logarithmic y axis (for learning rates spanning decades); non-positive values are gaps. */
  logY?: boolean;
}

const MARGIN = { left: 64, right: 16, top: 34, bottom: 44 };

/** About `count` round tick values (steps of 1, 2, 2.5 or 5 × 10^n) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  // A range below the precision of its own values (1.4 vs 1.4000000000000001) has no ticks to find.
  if (!(hi - lo > 1e-12 * Math.max(Math.abs(lo), Math.abs(hi)))) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  // Integer multiples of the step, counted (not accumulated), so a step near the precision of lo
  // cannot stall the loop; at most a few dozen ticks whatever the range.
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last && ticks.length < 50; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks.length > 0 ? ticks : [lo];
}

/** A short label for a tick or value: 3 significant digits, exponent form for very small or large. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

const f = (v: number): string => v.toFixed(1);

/** A line chart; an empty or all-gap data set draws the frame and says "no data". */
export function lineChart(series: readonly Series[], options: LineChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const ty = (y: number | null): number | null => (y === null || !Number.isFinite(y) || (options.logY && y <= 0) ? null : options.logY ? Math.log10(y) : y);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => ty(p[1]))).filter((y): y is number => y !== null);
  const parts: string[] = [];
  parts.push(`<text class="chart-title" x="${MARGIN.left}" y="20">${escapeHtml(options.title)}</text>`);
  parts.push(`<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  if (ys.length === 0 || xs.length === 0) {
    parts.push(`<text x="${width / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle" fill="#777">no data</text>`);
    return svg(width, height, 'line-chart', parts);
  }
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 - y0 <= 1e-9 * Math.max(Math.abs(y0), Math.abs(y1))) [y0, y1] = [y0 - Math.max(Math.abs(y0) * 0.1, 1e-3), y1 + Math.max(Math.abs(y1) * 0.1, 1e-3)];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number): number => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - ((y - y0) / (y1 - y0)) * plotH;

  const yTicks = options.logY ? niceTicks(Math.ceil(y0), Math.floor(y1), 5).filter(Number.isInteger) : niceTicks(y0, y1, 5);
  for (const t of yTicks) {
    const label = options.logY ? formatNumber(10 ** t) : formatNumber(t);
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(py(t))}" y2="${f(py(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${label}</text>`);
  }
  for (const t of niceTicks(x0, x1, 6)) {
    parts.push(`<line class="tick-mark" x1="${f(px(t))}" x2="${f(px(t))}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 5}" stroke="#999"/>`);
    parts.push(`<text class="tick" x="${f(px(t))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${formatNumber(t)}</text>`);
  }
  if (options.xLabel) parts.push(`<text class="axis-label" x="${MARGIN.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  if (options.yLabel)
    parts.push(`<text class="axis-label" transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`);

  series.forEach((s, i) => {
    const color = escapeHtml(s.color ?? PALETTE[i % PALETTE.length] ?? '#000');
    let d = '';
    let pen = false;
    const dots: string[] = [];
    for (const [x, yRaw] of s.points) {
      const y = ty(yRaw);
      if (y === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${f(px(x))} ${f(py(y))}`;
      pen = true;
      // Markers only where points are few enough to see one by one.
      if (s.points.length <= 60) dots.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="2.5" fill="${color}"/>`);
    }
    if (d) parts.push(`<path class="series" data-series="${escapeHtml(s.name)}" d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(...dots);
    // Legend, top right inside the plot.
    const ly = MARGIN.top + 12 + i * 16;
    const lx = MARGIN.left + plotW - 130;
    parts.push(`<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text class="legend" x="${lx + 22}" y="${ly}">${escapeHtml(s.name)}</text>`);
  });
  return svg(width, height, 'line-chart', parts);
}

export interface HeatmapOptions {
  title: string;
  rowLabel: string;
  colLabel: string;
  /** Text in each cell (default: the value); the colour always follows `values`. */
  cellText?: (row: number, col: number) => string;
  /** Tooltip of each cell. */
  cellTitle?: (row: number, col: number) => string;
}

/** A square heatmap of values in [0, 1] (white → blue), rows and columns labelled. */
export function heatmap(values: readonly (readonly number[])[], labels: readonly string[], options: HeatmapOptions): string {
  const K = values.length;
  const cell = Math.max(14, Math.min(44, Math.floor(520 / Math.max(K, 1))));
  const labelW = 110;
  const top = 34 + labelW;
  const width = 24 + labelW + K * cell + 16;
  const height = top + K * cell + 30;
  const showText = cell >= 26;
  const parts: string[] = [`<text class="chart-title" x="4" y="20">${escapeHtml(options.title)}</text>`];
  const short = (s: string): string => escapeHtml(s.length > 16 ? `${s.slice(0, 15)}…` : s);
  labels.forEach((name, i) => {
    const c = top + i * cell + cell / 2;
    parts.push(`<text class="tick" x="${24 + labelW - 6}" y="${c + 4}" text-anchor="end"><title>${escapeHtml(name)}</title>${short(name)}</text>`);
    const x = 24 + labelW + i * cell + cell / 2;
    parts.push(`<text class="tick" transform="translate(${x + 4} ${top - 6}) rotate(-60)"><title>${escapeHtml(name)}</title>${short(name)}</text>`);
  });
  parts.push(`<text class="axis-label" transform="translate(12 ${top + (K * cell) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.rowLabel)}</text>`);
  parts.push(`<text class="axis-label" x="${24 + labelW + (K * cell) / 2}" y="${height - 8}" text-anchor="middle">${escapeHtml(options.colLabel)}</text>`);
  for (let r = 0; r < K; r++)
    for (let c = 0; c < K; c++) {
      const v = Math.min(1, Math.max(0, values[r]?.[c] ?? 0));
      const x = 24 + labelW + c * cell;
      const y = top + r * cell;
      const title = options.cellTitle ? `<title>${escapeHtml(options.cellTitle(r, c))}</title>` : '';
      parts.push(`<rect class="cell" data-row="${r}" data-col="${c}" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${blue(v)}" stroke="#fff">${title}</rect>`);
      if (showText) {
        const text = options.cellText ? options.cellText(r, c) : formatNumber(v);
        parts.push(`<text class="cell-text" x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${v > 0.5 ? '#fff' : '#222'}">${escapeHtml(text)}</text>`);
      }
    }
  return svg(width, height, 'heatmap', parts);
}

/** White (0) to a deep blue (1), linear in RGB. */
function blue(v: number): string {
  const mix = (a: number, b: number): number => Math.round(a + (b - a) * v);
  return `rgb(${mix(255, 8)},${mix(255, 69)},${mix(255, 148)})`;
}

export interface Bar {
  label: string;
  value: number;
  title?: string;
}

/** Vertical bars over a [0, max] axis (max default: the largest value), with an optional diagonal reference. */
export function barChart(bars: readonly Bar[], options: { title: string; xLabel?: string; yLabel?: string; max?: number; diagonal?: boolean; width?: number; height?: number }): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const max = options.max ?? Math.max(1e-12, ...bars.map((b) => b.value));
  const parts: string[] = [`<text class="chart-title" x="${MARGIN.left}" y="20">${escapeHtml(options.title)}</text>`];
  parts.push(`<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  const py = (v: number): number => MARGIN.top + plotH - (v / max) * plotH;
  for (const t of niceTicks(0, max, 5)) parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${formatNumber(t)}</text>`);
  const bw = plotW / Math.max(bars.length, 1);
  bars.forEach((b, i) => {
    const h = (Math.max(0, b.value) / max) * plotH;
    const title = `<title>${escapeHtml(b.title ?? `${b.label}: ${formatNumber(b.value)}`)}</title>`;
    parts.push(`<rect class="bar" x="${f(MARGIN.left + i * bw + 1)}" y="${f(MARGIN.top + plotH - h)}" width="${f(Math.max(bw - 2, 1))}" height="${f(h)}" fill="${PALETTE[0]}">${title}</rect>`);
    if (bars.length <= 20 || i % Math.ceil(bars.length / 10) === 0)
      parts.push(`<text class="tick" x="${f(MARGIN.left + (i + 0.5) * bw)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeHtml(b.label)}</text>`);
  });
  if (options.diagonal)
    parts.push(`<line class="diagonal" x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top}" stroke="#d55e00" stroke-dasharray="4 3"/>`);
  if (options.xLabel) parts.push(`<text class="axis-label" x="${MARGIN.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  if (options.yLabel)
    parts.push(`<text class="axis-label" transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`);
  return svg(width, height, 'bar-chart', parts);
}

function svg(width: number, height: number, kind: string, parts: string[]): string {
  return `<svg class="chart ${kind}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}
