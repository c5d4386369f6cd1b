// The fused JPEG kernel for one sample: decode only the part of the file a crop needs, at the
// coarsest DCT scale that still leaves the output's resolution, resize it (PIL's antialiased
// bilinear), mirror it if asked, and write it as CHW bytes or normalised floats straight into its
// slot of the batch. All coordinates are in the upright image (after EXIF orientation).
#pragma once

#include <cstddef>
#include <cstdint>

#include "jpeg_decode.h"

namespace tessera {

// What every sample of one batch becomes.
struct BatchLayout {
  int width = 0, height = 0;  // the sample's output size
  int channels = 3;           // 1 (luma, as PIL's convert('L')) or 3
  bool float_out = false;     // float32 through `lut`, else uint8
  float lut[3][256] = {};     // per output channel, the float each byte v becomes (made in JS)
  double max_pixels = 0;      // decompression-bomb limit on the image's width × height
  FailOn fail_on = FailOn::Truncated;
  bool dct_scaling = true;    // allow decoding at 1/2, 1/4, 1/8 scale
};

// One sample: the crop [crop_x, crop_x + crop_w) × [crop_y, crop_y + crop_h) of the upright image
// is resized to resize_w × resize_h, and the window of the layout's size at (offset_x, offset_y)
// in that resized image is written (flipped left-right when `flip`) to `dst`.
// With pixels_channels > 0, `data` holds decoded pixels instead of a JPEG: pixels_width ×
// pixels_height, HWC, 1 or 3 bytes a pixel, upright — they get the same crop, resize and write.
struct SampleSpec {
  const uint8_t* data = nullptr;
  size_t size = 0;
  int pixels_width = 0, pixels_height = 0, pixels_channels = 0;
  int orientation = 1;  // EXIF orientation 1..8 of the stored pixels
  int crop_x = 0, crop_y = 0, crop_w = 0, crop_h = 0;
  int resize_w = 0, resize_h = 0;
  int offset_x = 0, offset_y = 0;
  bool flip = false;
  void* dst = nullptr;
};

// Bytes one sample occupies in the batch.
size_t sample_bytes(const BatchLayout& layout);

// Runs the kernel for one sample. Throws JpegError when the file (or the pixels' geometry) is bad.
// Uses per-thread scratch buffers, so calls on different threads are independent.
void run_sample(const SampleSpec& sample, const BatchLayout& layout);

}  // namespace tessera
