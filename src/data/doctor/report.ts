// The doctor's report: plain JSON (no Maps, no Infinity), stable field order, so it can be written
// to disk, diffed between runs and read by other tools.
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
  version: 1;
  /** The source's own description, and the test source's when one was given. */
  source: string;
  test?: string;
  options: { minSide: number; nearDistance: number; maxImbalance: number; failOn: string };
  files: number;
  bytes: number;
  /** No file problems and no data-set issues. */
  clean: boolean;
  errors: number;
  warnings: number;
  /** Per-file problems, in sample order. */
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
    /** Files with identical bytes (SHA-256), one group per content. */
    exact: { sha256: string; files: FileRef[] }[];
    /** Pairs of different files whose pHashes differ in at most `nearDistance` bits. */
    near: { a: FileRef; b: FileRef; distance: number }[];
  };
  /** Exact or near duplicates whose members sit in different splits (e.g. train and test). */
  leakage: { kind: 'exact' | 'near'; a: FileRef; b: FileRef; distance: number }[];
}
