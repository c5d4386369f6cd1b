// Image decoding: encoded bytes → RawImage (8-bit HWC, 1 or 3 channels), strict about damaged files.
export { DECODE_LIMITS, decodeImage, decodeRegion, probeImage, applyGeometry, cropRaw, toChannels, checkPixels, type DecodeOptions, type ChannelMode, type Interpolation, type Geometry, type Box, type ImageInfo } from './decode.js';
export { readHeader, formatOf, type ImageFormat, type HeaderInfo } from './header.js';
export { sniffFormat, formatFromName, hasEndMarker } from './magic.js';
export { decodeBmp } from './bmp.js';
export { expandGrey, lumaPIL } from './pixels.js';
export { decodeJpegBatch, isJpeg, probeJpeg, resizeCenterCrop, type JpegBatchOptions, type JpegInfo, type JpegSample } from './jpeg-native.js';
export { decodeMask, decodeMaskPng, overlayMask, classColour } from './mask.js';
