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
  /**
   * Logarithmic y axis (non-positive values become gaps). 'auto': when every value is positive
   * and the largest is at least 30× the smallest — a loss that falls from 45 to 0.4 would flatten
   * every other curve on a linear axis.
   */
  logY?: boolean | 'auto';
  /** x values are counts (epochs): ticks only on whole numbers. */
  integerX?: boolean;
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

/** Whole-number ticks in [lo, hi]: every integer when few, else multiples of 2, 5, 10, 20, … */
export function integerTicks(lo: number, hi: number, count = 6): number[] {
  const [a, b] = [Math.ceil(lo - 1e-9), Math.floor(hi + 1e-9)];
  if (b < a) return [];
  let step = 1;
  for (let mag = 1; (b - a) / step > count; mag *= 10) step = [1, 2, 5, 10].map((m) => m * mag).find((c) => (b - a) / c <= count) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(a / step) * step; t <= b; t += step) out.push(t);
  return out;
}

/** Ticks of a log10 axis over [lo, hi] (in decades): 1-2-5 within a decade or two, else powers of ten (every k-th over many decades). */
function logTicks(lo: number, hi: number): number[] {
  const mantissas = hi - lo <= 2.5 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil((hi - lo) / 6)); // at most about six decades labelled
  const out: number[] = [];
  for (let d = Math.ceil(Math.floor(lo) / every) * every; d <= Math.ceil(hi); d += every)
    for (const m of mantissas) {
      const t = d + Math.log10(m);
      if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push(t);
    }
  // Where the range holds less than a full step, fall back to its ends so the axis has labels.
  return out.length >= 2 ? out : [lo, hi];
}

/** A short label for a tick or value: 3 significant digits, exponent form for very small or large. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

const f = (v: number): string => v.toFixed(1);
/** Rough width of text in the charts' 11px sans-serif, for laying out labels (no font metrics in a string). */
const textWidth = (s: string, px = 11): number => s.length * px * 0.6;

/** Whether values (nulls and non-finite ignored) call for a log axis under logY: 'auto'. */
function spansDecades(values: readonly (number | null)[]): boolean {
  const v = values.filter((y): y is number => y !== null && Number.isFinite(y));
  return v.length > 1 && v.every((y) => y > 0) && Math.max(...v) / Math.min(...v) >= 30;
}

/** A line chart; an empty or all-gap data set draws the frame and says "no data". */
export function lineChart(series: readonly Series[], options: LineChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  const logY = options.logY === 'auto' ? spansDecades(series.flatMap((s) => s.points.map((p) => p[1]))) : (options.logY ?? false);
  // The legend sits above the plot, beside the title when there is room, else on a row of its own.
  const legendW = series.reduce((w, s) => w + 26 + textWidth(s.name), 0);
  const besideTitle = MARGIN.left + textWidth(options.title, 13) + 24 + legendW <= width - MARGIN.right;
  const top = series.length === 0 || besideTitle ? MARGIN.top : MARGIN.top + 16;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - top - MARGIN.bottom;
  const ty = (y: number | null): number | null => (y === null || !Number.isFinite(y) || (logY && y <= 0) ? null : logY ? Math.log10(y) : y);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => ty(p[1]))).filter((y): y is number => y !== null);
  const parts: string[] = [];
  parts.push(`<text class="chart-title" x="${MARGIN.left}" y="20">${escapeHtml(options.title)}</text>`);
  parts.push(`<rect class="frame" x="${MARGIN.left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  if (ys.length === 0 || xs.length === 0) {
    parts.push(`<text x="${width / 2}" y="${top + plotH / 2}" text-anchor="middle" fill="#777">no data</text>`);
    return svg(width, height, 'line-chart', parts);
  }
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 - y0 <= 1e-9 * Math.max(Math.abs(y0), Math.abs(y1))) [y0, y1] = [y0 - Math.max(Math.abs(y0) * 0.1, 1e-3), y1 + Math.max(Math.abs(y1) * 0.1, 1e-3)];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number): number => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number): number => top + plotH - ((y - y0) / (y1 - y0)) * plotH;

  for (const t of logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5)) {
    const label = logY ? formatNumber(Number((10 ** t).toPrecision(3))) : formatNumber(t);
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(py(t))}" y2="${f(py(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${label}</text>`);
  }
  for (const t of options.integerX ? integerTicks(x0, x1, 6) : niceTicks(x0, x1, 6)) {
    parts.push(`<line class="tick-mark" x1="${f(px(t))}" x2="${f(px(t))}" y1="${top + plotH}" y2="${top + plotH + 5}" stroke="#999"/>`);
    parts.push(`<text class="tick x-tick" x="${f(px(t))}" y="${top + plotH + 18}" text-anchor="middle">${formatNumber(t)}</text>`);
  }
  if (options.xLabel) parts.push(`<text class="axis-label" x="${MARGIN.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  const yLabel = options.yLabel && logY ? `${options.yLabel} (log scale)` : options.yLabel;
  if (yLabel) parts.push(`<text class="axis-label" transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text>`);

  let lx = width - MARGIN.right - legendW;
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
    const ly = besideTitle ? 20 : 36;
    parts.push(`<g class="legend-item"><line x1="${f(lx)}" x2="${f(lx + 16)}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text class="legend" x="${f(lx + 20)}" y="${ly}">${escapeHtml(s.name)}</text></g>`);
    lx += 26 + textWidth(s.name);
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
  const clip = (s: string): string => (s.length > 16 ? `${s.slice(0, 15)}…` : s);
  const short = (s: string): string => escapeHtml(clip(s));
  // Room for the labels as long as they are: row labels to the left, column labels rotated 60°
  // above (rising by sin 60° of their length, reaching right by cos 60°), the title on top.
  const longest = Math.max(0, ...labels.map((l) => textWidth(clip(l))));
  const labelW = Math.ceil(longest) + 10;
  const top = 30 + Math.ceil(longest * Math.sin(Math.PI / 3)) + 12;
  const width = Math.ceil(Math.max(24 + labelW + K * cell + longest / 2 + 12, 4 + textWidth(options.title, 13) + 8));
  const height = top + K * cell + 30;
  const showText = cell >= 26;
  const parts: string[] = [`<text class="chart-title" x="4" y="20">${escapeHtml(options.title)}</text>`];
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

/**
 * Vertical bars over a [0, max] axis (max default: the largest value), with an optional diagonal
 * reference. Labels longer than their bar is wide are cut at 16 characters and slanted 45°.
 */
export function barChart(bars: readonly Bar[], options: { title: string; xLabel?: string; yLabel?: string; max?: number; diagonal?: boolean; width?: number; height?: number }): string {
  const width = options.width ?? 560;
  const plotW = width - MARGIN.left - MARGIN.right;
  const bw = plotW / Math.max(bars.length, 1);
  const every = bars.length <= 20 ? 1 : Math.ceil(bars.length / 10);
  const clip = (s: string): string => (s.length > 16 ? `${s.slice(0, 15)}…` : s);
  const longest = Math.max(0, ...bars.filter((_, i) => i % every === 0).map((b) => textWidth(clip(b.label))));
  const slant = longest > bw * every - 4;
  const extra = slant ? Math.ceil(longest * Math.SQRT1_2) : 0; // slanted labels need this much more depth
  const height = (options.height ?? 300) + extra;
  const plotH = height - MARGIN.top - MARGIN.bottom - extra;
  const max = options.max ?? Math.max(1e-12, ...bars.map((b) => b.value));
  const parts: string[] = [`<text class="chart-title" x="${MARGIN.left}" y="20">${escapeHtml(options.title)}</text>`];
  parts.push(`<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  const py = (v: number): number => MARGIN.top + plotH - (v / max) * plotH;
  for (const t of niceTicks(0, max, 5)) parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${formatNumber(t)}</text>`);
  bars.forEach((b, i) => {
    const h = (Math.max(0, b.value) / max) * plotH;
    const title = `<title>${escapeHtml(b.title ?? `${b.label}: ${formatNumber(b.value)}`)}</title>`;
    parts.push(`<rect class="bar" x="${f(MARGIN.left + i * bw + 1)}" y="${f(MARGIN.top + plotH - h)}" width="${f(Math.max(bw - 2, 1))}" height="${f(h)}" fill="${PALETTE[0]}">${title}</rect>`);
    if (i % every !== 0) return;
    const x = f(MARGIN.left + (i + 0.5) * bw);
    const label = `<title>${escapeHtml(b.label)}</title>${escapeHtml(clip(b.label))}`;
    parts.push(
      slant
        ? `<text class="tick bar-label" transform="translate(${x} ${MARGIN.top + plotH + 12}) rotate(-45)" text-anchor="end">${label}</text>`
        : `<text class="tick bar-label" x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${label}</text>`,
    );
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
