// libjpeg-turbo, wrapped for the fused JPEG kernel (jpeg_kernel.cc): read the header, then decode
// one rectangle of the image at a DCT scale of 1/8, 1/4, 1/2 or 1, with libjpeg's own partial
// decoding (jpeg_crop_scanline for columns, jpeg_skip_scanlines for rows). libjpeg reports errors
// through a longjmp, which must never cross a C++ frame: every libjpeg call lives in jpeg_decode.cc
// behind a function that returns normally, and this interface throws JpegError instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace tessera {

// A file libjpeg cannot decode, or a warning the policy makes fatal; the message is libjpeg's.
struct JpegError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Which libjpeg warnings end the decode, as sharp's `failOn` (src/data/image/decode.ts) treats them:
// Truncated and Error stop on a premature end of data only; Warning stops on any warning.
enum class FailOn { Truncated, Error, Warning };

struct JpegHeader {
  int width = 0;  // stored size, before EXIF orientation
  int height = 0;
  int bands = 0;  // 1 grey, 3 colour (YCbCr/RGB, and CMYK/YCCK once converted)
};

// A decoded rectangle of the (scaled) stored image, rows packed: grey (1 byte per pixel) or
// colour as R, G, B, X (4 bytes, so that a pixel is one 32-bit load for the resize).
struct Region {
  std::vector<uint8_t> pixels;
  int x0 = 0, y0 = 0;  // its top-left corner in the scaled image
  int width = 0, height = 0;
  int channels = 0;  // bytes per pixel: 1 or 4
};

// One decode in progress. Construct it on the bytes (reads the header), then decode() once.
class JpegDecoder {
 public:
  JpegDecoder(const uint8_t* data, size_t size, FailOn fail_on);
  ~JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  const JpegHeader& header() const { return header_; }

  // Starts decompression at scale eighths/8 (1, 2, 4 or 8) and returns the scaled image size.
  void start(int eighths, int* scaled_width, int* scaled_height);

  // Decodes columns [x0, x1) and rows [y0, y1) of the scaled image (a few more columns may come:
  // libjpeg starts a crop at an iMCU boundary) into `out`: grey, or RGBX (CMYK/YCCK converted).
  void decode(int x0, int y0, int x1, int y1, Region* out);

  struct State;  // libjpeg's structs and the jump buffer, defined in jpeg_decode.cc only

 private:
  std::unique_ptr<State> s_;
  JpegHeader header_;
};

}  // namespace tessera
