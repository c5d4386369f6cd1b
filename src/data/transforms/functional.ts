// The deterministic pixel operations behind the transforms, for direct use (and for tests against
// torchvision.transforms.functional): same names, same parameters.
export { cropPadded, pad, hflip, vflip, affine, rotate, warpAffine, inverseAffineMatrix, rotationMatrix, type PaddingMode, type Fill, type InverseMatrix } from './ops-geometry.js';
export { adjustBrightness, adjustContrast, adjustSaturation, adjustHue, adjustSharpness, posterize, solarize, invert, autocontrast, equalize, grayscale, gaussianBlur, gaussianKernel, erase, blend } from './ops-color.js';
