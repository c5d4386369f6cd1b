// Image decoding: encoded bytes → RawImage (8-bit HWC, 1 or 3 channels), strict about damaged files;
// the native JPEG path writes straight into a batch buffer. Geometry helpers, format sniffing and
// the BMP decoder behind them are internal.
export { DECODE_LIMITS, decodeImage, probeImage, type DecodeOptions, type ChannelMode, type Interpolation, type ImageInfo } from './decode.js';
export { formatOf, type ImageFormat } from './header.js';
export { decodeJpegBatch, isJpeg, probeJpeg, resizeCenterCrop, type JpegBatchOptions, type JpegInfo, type JpegSample } from './jpeg-native.js';
