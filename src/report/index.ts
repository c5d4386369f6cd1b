// Run reports: one self-contained HTML page (inline CSS and SVG, no network) plus the same data as JSON.
// The charts, escaping and formatting behind the page are internal.
export { REPORT_FORMAT, type ReportData, type DatasetStats, type SplitStats, type EpochRecord, type LrPoint, type GalleryItem, type TimingEntry, type SkippedFile, type Environment, type JsonValue } from './types.js';
export { renderReportHtml } from './html.js';
export { writeReport } from './write.js';
