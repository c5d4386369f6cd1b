// Misuse that TypeScript catches but plain JavaScript (and JSON) does not: a number where an options
// object goes (`resize(32)`), torchvision's positional style (`compose([...])`), a misspelt or
// snake_case option (`batch_size`). The messages say what to write instead.

/** A value as a message shows it: `32`, `'7' (a string)`, `an array [1, 2]`, `undefined`. */
export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}' (a string)`;
  if (typeof v === 'function') return `the function ${v.name || '(anonymous)'}`;
  if (Array.isArray(v)) return `an array ${JSON.stringify(v)?.slice(0, 60) ?? '[…]'}`;
  if (v !== null && typeof v === 'object') return JSON.stringify(v)?.slice(0, 60) ?? 'an object';
  return String(v);
}

/** A value written as code: `32`, `[0.5, 0.5]`, `'bilinear'`. */
export function code(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  return (typeof v === 'function' ? undefined : JSON.stringify(v)?.replace(/,/g, ', ')) ?? String(v);
}

export function isOptionsObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length] as number;
}

/** The known name `name` was probably meant as: its camelCase form, another case, or a near spelling. */
function suggest(name: string, known: readonly string[]): string | undefined {
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const plain = (s: string) => s.toLowerCase().replace(/_/g, '');
  return (
    known.find((k) => k === camel) ??
    known.find((k) => plain(k) === plain(name)) ??
    known.find((k) => editDistance(k.toLowerCase(), name.toLowerCase()) <= Math.min(2, Math.floor(k.length / 3)))
  );
}

/**
 * `options` as an object whose keys are all in `known`, or an error naming `call`, the key at fault,
 * what it probably meant, and `example` (code that works).
 */
export function checkOptions(call: string, options: unknown, known: readonly string[], example: string): Record<string, unknown> {
  if (!isOptionsObject(options)) throw new TypeError(`${call} takes an options object: write ${example}; got ${show(options)}`);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = suggest(key, known);
    throw new RangeError(`${call}: unknown option '${key}'${guess ? ` — did you mean '${guess}'?` : ''} (options: ${known.join(', ')})`);
  }
  return options;
}
