// Shell-style brace expansion for shard lists, as WebDataset writes them: `shard-{000..127}.tar`
// (numeric ranges keep their zero padding), `{train,val}-{0..3}.tar` (lists and several groups),
// nesting included. A group without a comma or range, such as `{x}`, stays literal, as in bash.

/** Most names one pattern may expand to: a typo like `{0..99999999}` is an error, not an OOM. */
const MAX_EXPANSION = 1_000_000;

export function expandBraces(pattern: string): string[] {
  const out = expand(pattern);
  if (out.length > MAX_EXPANSION) throw new RangeError(`'${pattern}' expands to ${out.length} names (limit ${MAX_EXPANSION})`);
  return out;
}

function expand(s: string): string[] {
  const open = s.indexOf('{');
  if (open < 0) return [s];
  const close = matching(s, open);
  if (close < 0) return [s]; // an unclosed brace is literal
  const prefix = s.slice(0, open);
  const body = s.slice(open + 1, close);
  const rest = expand(s.slice(close + 1));
  const alternatives = range(body) ?? list(body);
  if (!alternatives) return rest.map((r) => `${prefix}{${body}}${r}`);
  const out: string[] = [];
  for (const alt of alternatives) {
    for (const a of expand(alt)) {
      for (const r of rest) {
        out.push(prefix + a + r);
        if (out.length > MAX_EXPANSION) return out;
      }
    }
  }
  return out;
}

function matching(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** `000..127` → 000, 001, …, 127; padded when either end has a leading zero. */
function range(body: string): string[] | undefined {
  const m = /^(-?\d+)\.\.(-?\d+)$/.exec(body);
  if (!m) return undefined;
  const [a, b] = [m[1] as string, m[2] as string];
  const from = Number(a);
  const to = Number(b);
  const count = Math.abs(to - from) + 1;
  if (count > MAX_EXPANSION) throw new RangeError(`range {${body}} has ${count} values (limit ${MAX_EXPANSION})`);
  const padded = /^-?0\d/.test(a) || /^-?0\d/.test(b);
  const width = padded ? Math.max(a.replace('-', '').length, b.replace('-', '').length) : 0;
  const step = from <= to ? 1 : -1;
  const out: string[] = [];
  for (let v = from; step > 0 ? v <= to : v >= to; v += step)
    out.push(v < 0 ? `-${String(-v).padStart(width, '0')}` : String(v).padStart(width, '0'));
  return out;
}

/** `a,b,{c,d}` → a, b, {c,d}: split on top-level commas; undefined when there are none. */
function list(body: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  if (parts.length === 0) return undefined;
  parts.push(body.slice(start));
  return parts;
}
