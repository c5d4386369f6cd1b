// Python-style formatting for module descriptions, so `toString()` reads exactly like PyTorch's
// repr: `eps=1e-05` (not 1e-5), `momentum=None`, `kernel_size=(3,)`, `affine=True`.

/** Python's repr of a float: shortest round-trip digits, `1.0`, `1e-05`, `1e+16`, `inf`, `nan`. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // JS and Python agree on the digits (both print the shortest round-trip form); they differ in
  // when to switch to exponent notation (Python: exponent < -4 or >= 16) and in its spelling.
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e >= -4 && e < 16) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** A number as Python prints an int when integral (`20`), else as a float (`0.5`). */
export function pyNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : pyFloat(x);
}

export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/** A Python tuple of ints: `(3,)`, `(3, 3)`; `null` entries print as `None`. */
export function pyTuple(xs: readonly (number | null)[]): string {
  const items = xs.map((x) => (x === null ? 'None' : String(x)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** An int or a tuple, as the user gave it (pooling layers print their arguments verbatim). */
export function pyIntOrTuple(x: number | readonly (number | null)[] | null): string {
  if (x === null) return 'None';
  return typeof x === 'number' ? String(x) : pyTuple(x);
}

/** `n` copies of an int, or the tuple given (PyTorch's `_pair`, `_single`). */
export function ntuple(x: number | readonly number[], n: number, what = 'argument'): number[] {
  if (typeof x === 'number') return Array.from({ length: n }, () => x);
  if (x.length !== n) throw new RangeError(`${what} must be an int or a tuple of ${n} ints, got [${x.join(', ')}]`);
  return [...x];
}
