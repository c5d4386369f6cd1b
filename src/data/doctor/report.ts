// The doctor's report: plain JSON (no Maps, no Infinity), stable field order, so it can be written
// to disk, diffed between runs and read by other tools. Its lists are capped (`options.maxListed`
// entries; a group shows at most 20 files), with counts of everything and of what was left out, so
// its size does not grow with the data set.
import type { IssueCode, Trait } from './inspect.js';

/** A sample, by id, with the split it belongs to when the data has splits. */
export interface FileRef {
  id: string;
  split?: string;
}

export interface FileProblem extends FileRef {
  /** Index of the sample in its source. */
  index: number;
  code: IssueCode;
  severity: 'error' | 'warning';
  message: string;
}

/** A problem of the data set as a whole (not one file). */
export interface DatasetIssue {
  code: 'empty-class' | 'imbalance' | 'exact-duplicates' | 'near-duplicates' | 'leakage' | 'listing';
  message: string;
}

export interface Stat {
  min: number;
  median: number;
  mean: number;
  max: number;
}

export interface DoctorReport {
  version: 2;
  /** The source's own description, and the test source's when one was given. */
  source: string;
  test?: string;
  options: { minSide: number; nearDistance: number; maxImbalance: number; failOn: string; maxListed: number };
  files: number;
  bytes: number;
  /** No file problems and no data-set issues. */
  clean: boolean;
  errors: number;
  warnings: number;
  /** Per-file problems, in sample order (the first `maxListed`). */
  problems: FileProblem[];
  issues: DatasetIssue[];
  /** Files per content format (jpeg, png, …) among those that could be identified. */
  formats: Record<string, number>;
  /** Files with each trait (CMYK, 16-bit, alpha, palette, grey, EXIF-rotated, animated), with a few examples. */
  traits: Record<Trait, { count: number; examples: string[] }>;
  /** Decoded sizes (after EXIF orientation); null when nothing decoded. */
  sizes: { width: Stat; height: Stat; common: { width: number; height: number; count: number }[] } | null;
  /** Class counts over all samples (of the main source). */
  classes: { name: string; count: number }[];
  /** Largest class count over the smallest non-empty one; null with fewer than one non-empty class. */
  imbalanceRatio: number | null;
  /** Per split: file count and class counts by name. Empty when the data has no splits. */
  splits: { name: string; files: number; classCounts: Record<string, number> }[];
  duplicates: {
    /** Files with identical bytes (SHA-256), one group per content: its first file, then its copies. */
    exact: { sha256: string; count: number; files: FileRef[] }[];
    /**
     * Look-alikes: a group is an image and the later ones (with other bytes) whose pHash is within
     * `nearDistance` bits of it; `distances[i]` is files[i]'s distance to files[0].
     */
    near: { count: number; files: FileRef[]; distances: number[] }[];
  };
  /** Exact copies or look-alikes in another split than their group's first file (e.g. the same image in train and test). */
  leakage: { kind: 'exact' | 'near'; a: FileRef; b: FileRef; distance: number }[];
  /** How many entries each list left out (0: it is complete). */
  omitted: { problems: number; exactGroups: number; nearGroups: number; leakage: number };
}
