// The dataset doctor: `checkDataset` inspects every sample, `formatDoctorReport` prints the result.
export { checkDataset, type DoctorOptions, type DoctorSource } from './check.js';
export { formatDoctorReport } from './format.js';
export type { IssueCode, Trait } from './inspect.js';
export type { DatasetIssue, DoctorReport, FileProblem, FileRef, Stat } from './report.js';
