// The doctor's report as text for a terminal: a verdict first, then problems as a table (file,
// problem, detail), then the data set's shape. File paths are shown relative to the folder they
// all share, so the table stays readable.
import type { DoctorReport, FileRef } from './report.js';

const TRAIT_NAMES: Record<keyof DoctorReport['traits'], string> = {
  cmyk: 'CMYK',
  sixteenBit: '16-bit',
  alpha: 'alpha',
  palette: 'palette',
  grey: 'grey',
  exifRotated: 'EXIF-rotated',
  animated: 'animated',
};

function commonDir(ids: string[]): string {
  if (ids.length === 0) return '';
  let prefix = ids[0] as string;
  for (const id of ids) while (!id.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const slash = prefix.lastIndexOf('/');
  return slash < 0 ? '' : prefix.slice(0, slash + 1);
}

function table(rows: string[][], indent = '  '): string[] {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] as number))).join('  '));
}

const mb = (n: number) => (n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 ** 2).toFixed(1)} MB`);

/** Formats a report for people. `maxRows` caps each list (the JSON report has everything). */
export function formatDoctorReport(report: DoctorReport, options: { maxRows?: number } = {}): string {
  const maxRows = options.maxRows ?? 50;
  const allIds = [
    ...report.problems.map((p) => p.id),
    ...report.duplicates.exact.flatMap((g) => g.files.map((f) => f.id)),
    ...report.duplicates.near.flatMap((g) => g.files.map((f) => f.id)),
  ];
  const base = commonDir(allIds);
  const name = (f: FileRef) => (f.id.startsWith(base) ? f.id.slice(base.length) : f.id) + (f.split === undefined ? '' : ` [${f.split}]`);
  // `total` entries, of which `shown` are printed (the JSON report lists up to options.maxListed of each).
  const more = (total: number, shown: number) => (total > shown ? [`  … and ${(total - shown).toLocaleString('en-US')} more`] : []);
  const out: string[] = [];

  out.push(`Dataset doctor: ${report.source}`);
  if (report.test) out.push(`          test: ${report.test}`);
  const verdict = report.clean ? 'clean' : `${report.errors} error(s), ${report.warnings} warning(s), ${report.issues.length} data-set issue(s)`;
  out.push(`${report.files.toLocaleString('en-US')} files, ${mb(report.bytes)}: ${verdict}`);

  if (report.problems.length > 0) {
    out.push('', `Problems${base ? ` (paths under ${base})` : ''}`);
    const rows = report.problems.slice(0, maxRows).map((p) => [name(p), `${p.severity === 'error' ? 'ERROR' : 'warn'} ${p.code}`, p.message]);
    out.push(...table([['FILE', 'PROBLEM', 'DETAIL'], ...rows]), ...more(report.errors + report.warnings, rows.length));
  }
  if (report.issues.length > 0) {
    out.push('', 'Data-set issues');
    out.push(...report.issues.map((i) => `  ${i.code}: ${i.message}`));
  }
  const { exact, near } = report.duplicates;
  const groupMore = (g: { count: number; files: FileRef[] }) => (g.count > g.files.length ? `, and ${g.count - g.files.length} more` : '');
  if (exact.length > 0) {
    out.push('', 'Exact duplicates (same bytes)');
    for (const g of exact.slice(0, maxRows)) out.push(`  ${g.sha256.slice(0, 12)}  ${g.files.map(name).join(', ')}${groupMore(g)}`);
    out.push(...more(exact.length + report.omitted.exactGroups, Math.min(exact.length, maxRows)));
  }
  if (near.length > 0) {
    out.push('', `Look-alikes (pHash distance ≤ ${report.options.nearDistance} of 64 from the group's first image)`);
    const rows = near.slice(0, maxRows).map((g) => [name(g.files[0] as FileRef), g.files.slice(1).map((f, i) => `${name(f)} (${g.distances[i + 1]})`).join(', ') + groupMore(g)]);
    out.push(...table([['FIRST IMAGE', 'LOOK-ALIKES (DISTANCE)'], ...rows]), ...more(near.length + report.omitted.nearGroups, rows.length));
  }
  if (report.leakage.length > 0) {
    out.push('', 'Leakage between splits');
    const rows = report.leakage.slice(0, maxRows).map((l) => [l.kind, String(l.distance), name(l.a), name(l.b)]);
    out.push(...table([['KIND', 'DIST', 'FILE', 'ALSO IN'], ...rows]), ...more(report.leakage.length + report.omitted.leakage, rows.length));
  }

  out.push('', 'Data');
  const formats = Object.entries(report.formats).sort((a, b) => b[1] - a[1]);
  out.push(`  formats:  ${formats.length ? formats.map(([f, n]) => `${f} ${n}`).join(', ') : 'none identified'}`);
  const traits = Object.entries(report.traits).filter(([, t]) => t.count > 0);
  out.push(`  traits:   ${traits.length ? traits.map(([t, v]) => `${TRAIT_NAMES[t as keyof DoctorReport['traits']]} ${v.count}`).join(', ') : 'none'}`);
  if (report.sizes) {
    const { width: w, height: h, common } = report.sizes;
    out.push(`  width:    ${w.min}–${w.max} px (median ${w.median}, mean ${w.mean})`);
    out.push(`  height:   ${h.min}–${h.max} px (median ${h.median}, mean ${h.mean})`);
    out.push(`  common:   ${common.map((c) => `${c.width}×${c.height} (${c.count})`).join(', ')}`);
  }
  const ratio = report.imbalanceRatio === null ? '' : `; imbalance ${report.imbalanceRatio}× (largest / smallest)`;
  out.push(`  classes:  ${report.classes.length}${ratio}`);
  const classRows = report.classes.slice(0, maxRows).map((c) => [c.name, String(c.count)]);
  out.push(...table(classRows, '    '), ...more(report.classes.length, classRows.length));
  if (report.splits.length > 0) out.push(`  splits:   ${report.splits.map((s) => `${s.name} ${s.files}`).join(', ')}`);
  return out.join('\n');
}
