// The dataset doctor: `checkDataset` inspects every sample, `formatDoctorReport` prints the result.
export { checkDataset, type DoctorOptions, type DoctorSource } from './check.js';
export { formatDoctorReport } from './format.js';
export { type FileFacts, inspectEncoded, inspectPixels, type IssueCode, SEVERITY, TRAITS, type Trait } from './inspect.js';
export { formatFromName, type ImageFormat, sniffFormat } from '../image/magic.js';
export { hamming, type PHash, phashFromGrey, phashHex } from './phash.js';
export type { DatasetIssue, DoctorReport, FileProblem, FileRef, Stat } from './report.js';
