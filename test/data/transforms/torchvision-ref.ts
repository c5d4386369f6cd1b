// Runs torchvision.transforms.functional (PIL images) on the same inputs as our ops, in one Python
// process per test file: cases go out as raw bytes plus JSON, outputs come back the same way.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { RawImage } from '../../../src/data/types.js';

export interface RefCase {
  /** A Python expression over `img` (a PIL image), `F` (torchvision functional), `T` (torch), `I` (PIL.Image), `ImageOps`. */
  expr: string;
  input: RawImage;
}

const SCRIPT = String.raw`
import json, sys, numpy as np, torch as T
from PIL import Image as I, ImageOps
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode as IM
d = sys.argv[1]
cases = json.load(open(d + '/cases.json'))
out = []
for k, c in enumerate(cases):
    a = np.fromfile(d + '/in%d.bin' % k, dtype=np.uint8).reshape(c['h'], c['w'], c['c'])
    img = I.fromarray(a[:, :, 0] if c['c'] == 1 else a, 'L' if c['c'] == 1 else 'RGB')
    r = eval(c['expr'])
    if isinstance(r, T.Tensor):
        r = r.permute(1, 2, 0).contiguous().numpy() if r.dim() == 3 else r.numpy()
    else:
        r = np.asarray(r)
    if r.ndim == 2: r = r[:, :, None]
    r = np.ascontiguousarray(r)
    r.tofile(d + '/out%d.bin' % k)
    out.append({'shape': list(r.shape), 'dtype': str(r.dtype)})
json.dump(out, open(d + '/out.json', 'w'))
`;

export interface RefResult { shape: number[]; dtype: string; data: Uint8Array | Float32Array }

export function torchvisionRef(cases: RefCase[]): RefResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'tv-ref-'));
  try {
    cases.forEach((c, k) => writeFileSync(join(dir, `in${k}.bin`), c.input.data));
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases.map((c) => ({ expr: c.expr, w: c.input.width, h: c.input.height, c: c.input.channels }))));
    writeFileSync(join(dir, 'ref.py'), SCRIPT);
    execFileSync('/usr/bin/python3', [join(dir, 'ref.py'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    const meta = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { shape: number[]; dtype: string }[];
    return meta.map((m, k) => {
      const buf = readFileSync(join(dir, `out${k}.bin`));
      const data = m.dtype === 'float32' ? new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      return { ...m, data };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Max and mean absolute difference, and the fraction of values that differ at all. */
export function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number; frac: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    max = Math.max(max, d);
    sum += d;
    if (d > 0) n++;
  }
  return { max, mean: sum / a.length, frac: n / a.length };
}
