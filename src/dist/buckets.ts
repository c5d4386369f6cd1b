// Gradient buckets, as PyTorch's DDP forms them: parameters taken in reverse order (roughly the
// order backward produces their gradients), grouped by dtype and device, each group cut into
// buckets of at least `firstCapBytes` for its first bucket and `capBytes` after that (a bucket
// closes once it reaches its cap, so one large parameter makes a bucket of its own). Fewer, larger
// all-reduces amortise Gloo's per-call latency; the small first bucket lets communication start
// before the rest of the gradients are in.
import { dtypeInfo, type DType } from '../tensor/dtype.js';

export interface BucketParam {
  numel: number;
  dtype: DType;
  device: string;
}

export interface Bucket {
  /** Indices into the parameter list, in the order they are laid out in the bucket. */
  indices: number[];
  dtype: DType;
  device: string;
  bytes: number;
}

export const DEFAULT_BUCKET_CAP_MB = 25;
export const DEFAULT_FIRST_BUCKET_CAP_MB = 1;

const MB = 1024 * 1024;

/** The buckets for `params` (given in model order), in the order their all-reduces are issued. */
export function assignBuckets(params: readonly BucketParam[], capMB = DEFAULT_BUCKET_CAP_MB, firstCapMB = DEFAULT_FIRST_BUCKET_CAP_MB): Bucket[] {
  if (!(capMB > 0) || !(firstCapMB > 0)) throw new RangeError(`bucket caps must be positive, got bucketCapMB ${capMB} and firstBucketCapMB ${firstCapMB}`);
  const closed: Bucket[] = [];
  // One open bucket per (dtype, device), and whether that kind has closed its first bucket yet.
  const open = new Map<string, { bucket: Bucket; first: boolean }>();
  for (let i = params.length - 1; i >= 0; i--) {
    const p = params[i]!;
    const key = `${p.dtype}@${p.device}`;
    let entry = open.get(key);
    if (!entry) {
      entry = { bucket: { indices: [], dtype: p.dtype, device: p.device, bytes: 0 }, first: true };
      open.set(key, entry);
    }
    entry.bucket.indices.push(i);
    entry.bucket.bytes += p.numel * dtypeInfo(p.dtype).bytes;
    if (entry.bucket.bytes >= (entry.first ? firstCapMB : capMB) * MB) {
      closed.push(entry.bucket);
      entry.bucket = { indices: [], dtype: p.dtype, device: p.device, bytes: 0 };
      entry.first = false;
    }
  }
  const rest = [...open.values()].map((e) => e.bucket).filter((b) => b.indices.length > 0);
  // The still-open buckets go last, in the order their first parameter came (stable on every rank).
  rest.sort((a, b) => b.indices[0]! - a.indices[0]!);
  return [...closed, ...rest];
}
