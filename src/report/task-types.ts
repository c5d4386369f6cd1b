// The report's sections for tasks other than classification (plain JSON, as the rest of report.json):
// segmentation (per-class IoU and Dice, overlays of the worst images), multi-label classification
// (per-class AP and F1 at the threshold) and reconstruction (the error, and input/noisy/output grids).

/** An image of the report, as a base64-encoded PNG file. */
export interface ReportImage {
  pngBase64: string;
  /** What it shows, e.g. `truth`, `prediction`, `noisy input`. */
  caption: string;
}

/** A row of images about one sample (overlays, a reconstruction), with its figure of merit. */
export interface SampleStrip {
  /** Where the sample came from (path, `file[17]`). */
  id: string;
  images: ReportImage[];
  /** e.g. `IoU 41.2%` or `error 0.0213`. */
  label: string;
}

export interface SegmentationSection {
  classes: string[];
  /** Each class's colour in the overlays, `#rrggbb` (class 0 is not drawn). */
  colours: string[];
  images: number;
  /** Pixels counted (ignored ones, 255, are not). */
  pixels: number;
  perClass: { name: string; iou: number | null; dice: number | null; support: number }[];
  meanIoU: number | null;
  meanDice: number | null;
  pixelAccuracy: number | null;
  loss: number | null;
  /** The test images with the lowest IoU: image, truth and prediction overlaid. */
  worst: SampleStrip[];
}

export interface MultilabelSection {
  classes: string[];
  samples: number;
  threshold: number;
  perClass: { name: string; ap: number | null; precision: number; recall: number; f1: number; support: number }[];
  meanAP: number | null;
  macro: { precision: number; recall: number; f1: number };
  micro: { precision: number; recall: number; f1: number };
  loss: number | null;
}

export interface ReconstructionSection {
  images: number;
  /** Mean squared error per pixel, images in [0, 1]. */
  mse: number | null;
  /** 10·log10(1 / mse), in dB. */
  psnr: number | null;
  loss: number | null;
  /** The noise the denoising model was trained with (0: a plain autoencoder). */
  noise: number;
  /** The test images reconstructed worst: input (noisy input) and output. */
  worst: SampleStrip[];
}
