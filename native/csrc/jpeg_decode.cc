// libjpeg-turbo behind a C++ interface. libjpeg signals errors by calling error_exit, which must not
// return; ours longjmps back into the one small function that made the libjpeg call. Each such
// function (open_jpeg, start_jpeg, ...) holds no C++ object with a destructor, so the jump skips
// nothing but libjpeg's own C frames; it returns false, and the caller throws JpegError.
#include "jpeg_decode.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first
#include <cstring>
#include <string>

#include <jerror.h>
#include <jpeglib.h>

namespace tessera {
namespace {

// A progressive JPEG can hold any number of scans, each a pass over the whole image; a crafted file
// with thousands of them takes minutes to decode. libjpeg-turbo's own tools suggest a limit of 500
// (djpeg -maxscans; TJPARAM_SCANLIMIT in its 3.x API); real encoders write about 10.
constexpr int kMaxScans = 500;

struct ErrorManager {
  jpeg_error_mgr pub;  // first member: libjpeg hands callbacks a pointer to it
  jmp_buf jump;
  FailOn fail_on;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jump_out(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorManager*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

void on_error_exit(j_common_ptr c) { jump_out(c); }

// Warnings (msg_level -1) go through the FailOn policy; trace messages (>= 0) are dropped. A
// premature end of data is libjpeg's JWRN_JPEG_EOF, raised by the memory source when it runs out.
void on_emit_message(j_common_ptr c, int msg_level) {
  if (msg_level >= 0) return;
  auto* e = reinterpret_cast<ErrorManager*>(c->err);
  c->err->num_warnings++;
  if (e->fail_on == FailOn::Warning || c->err->msg_code == JWRN_JPEG_EOF) jump_out(c);
}

void on_output_message(j_common_ptr) {}  // never print to stderr

void on_progress(j_common_ptr c) {
  if (!c->is_decompressor) return;
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (d->input_scan_number > kMaxScans) {
    auto* e = reinterpret_cast<ErrorManager*>(c->err);
    std::snprintf(e->message, sizeof e->message, "progressive JPEG with more than %d scans (refused: it would take very long to decode)", kMaxScans);
    std::longjmp(e->jump, 1);
  }
}

// Whether the data ends with an EOI marker (FF D9), allowing for bytes some writers append after
// it: the same rule as hasEndMarker() in src/data/image/magic.ts. Inside entropy-coded data an FF
// is always followed by 00 or a restart marker, so a stray FF D9 there is impossible.
bool has_end_marker(const uint8_t* b, size_t n) {
  if (n < 2) return false;
  const size_t stop = n > 4096 ? n - 4096 : 0;
  for (size_t k = n - 2;; k--) {
    if (b[k] == 0xff && b[k + 1] == 0xd9) return true;
    if (k == stop) return false;
  }
}

}  // namespace

struct JpegDecoder::State {
  // jpeg_destroy never raises an error; on a struct that jpeg_create_decompress never finished,
  // its memory manager pointer is still null (the State was zeroed) and it does nothing. Here
  // rather than in ~JpegDecoder, which does not run when the constructor throws.
  ~State() { jpeg_destroy_decompress(&cinfo); }

  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  jpeg_progress_mgr progress{};
  const uint8_t* data = nullptr;
  size_t size = 0;
  bool cmyk = false;
  std::vector<JSAMPROW> rows;  // row pointers into the destination of one read
  std::vector<uint8_t> spare;  // where a read to the end puts the last row
};

namespace {

using State = JpegDecoder::State;

// The libjpeg calls. Each returns false when libjpeg jumped out; the reason is in s->err.message.

bool open_jpeg(State* s) {
  if (setjmp(s->err.jump)) return false;
  jpeg_create_decompress(&s->cinfo);
  s->cinfo.progress = &s->progress;
  jpeg_mem_src(&s->cinfo, s->data, static_cast<unsigned long>(s->size));
  jpeg_read_header(&s->cinfo, TRUE);
  return true;
}

bool start_jpeg(State* s, int eighths, J_COLOR_SPACE out_space) {
  if (setjmp(s->err.jump)) return false;
  s->cinfo.scale_num = static_cast<unsigned>(eighths);
  s->cinfo.scale_denom = 8;
  s->cinfo.out_color_space = out_space;
  // libjpeg's defaults, stated because the exactness tests against PIL depend on them: the
  // accurate integer IDCT and smooth ("fancy") chroma upsampling.
  s->cinfo.dct_method = JDCT_ISLOW;
  s->cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&s->cinfo);
  return true;
}

bool crop_columns(State* s, JDIMENSION* x0, JDIMENSION* width) {
  if (setjmp(s->err.jump)) return false;
  if (*width < s->cinfo.output_width) jpeg_crop_scanline(&s->cinfo, x0, width);
  return true;
}

// Reads rows [y0, y1) through s->rows (one pointer per row). A memory source never suspends, so
// a read that returns no rows means the decoder is stuck; report it rather than spin.
bool read_rows(State* s, JDIMENSION y0, JDIMENSION y1, bool* stuck) {
  if (setjmp(s->err.jump)) return false;
  if (y0 > 0 && jpeg_skip_scanlines(&s->cinfo, y0) != y0) {
    *stuck = true;
    return true;
  }
  while (s->cinfo.output_scanline < y1) {
    JDIMENSION at = s->cinfo.output_scanline - y0;
    if (jpeg_read_scanlines(&s->cinfo, s->rows.data() + at, y1 - s->cinfo.output_scanline) == 0) {
      *stuck = true;
      return true;
    }
  }
  return true;
}

// Either stops here (the rows after the region are never decoded) or decodes through to the end
// marker, so that a truncated file or, under FailOn::Warning, any damage is reported. Skipping
// still runs the entropy decoder, which is what finds the damage.
bool finish_jpeg(State* s, bool to_end) {
  if (setjmp(s->err.jump)) return false;
  if (!to_end) {
    jpeg_abort_decompress(&s->cinfo);
    return true;
  }
  JDIMENSION left = s->cinfo.output_height - s->cinfo.output_scanline;
  if (left > 1) jpeg_skip_scanlines(&s->cinfo, left - 1);
  if (s->cinfo.output_scanline < s->cinfo.output_height) {
    JSAMPROW spare = s->spare.data();
    jpeg_read_scanlines(&s->cinfo, &spare, 1);
  }
  jpeg_finish_decompress(&s->cinfo);
  return true;
}

// CMYK → RGBX as PIL does (its JPEG reader assumes Adobe's inverted CMYK, then convert('RGB')):
// with c, k the stored (inverted) values, R = k − round(k·(255 − c)/255). Works in place.
void cmyk_to_rgbx(uint8_t* px, size_t pixels) {
  for (size_t i = 0; i < pixels; i++, px += 4) {
    int nk = px[3];
    for (int c = 0; c < 3; c++) {
      int t = (255 - px[c]) * nk + 128;
      px[c] = static_cast<uint8_t>(nk - (((t >> 8) + t) >> 8));
    }
    px[3] = 255;
  }
}

}  // namespace

JpegDecoder::JpegDecoder(const uint8_t* data, size_t size, FailOn fail_on) : s_(new State()) {
  s_->data = data;
  s_->size = size;
  s_->err.fail_on = fail_on;
  s_->cinfo.err = jpeg_std_error(&s_->err.pub);
  s_->err.pub.error_exit = on_error_exit;
  s_->err.pub.emit_message = on_emit_message;
  s_->err.pub.output_message = on_output_message;
  s_->progress.progress_monitor = on_progress;
  if (!open_jpeg(s_.get())) throw JpegError(s_->err.message);
  const jpeg_decompress_struct& c = s_->cinfo;
  header_.width = static_cast<int>(c.image_width);
  header_.height = static_cast<int>(c.image_height);
  switch (c.jpeg_color_space) {
    case JCS_GRAYSCALE: header_.bands = 1; break;
    case JCS_YCbCr: case JCS_RGB: header_.bands = 3; break;
    case JCS_CMYK: case JCS_YCCK: header_.bands = 3; s_->cmyk = true; break;
    default:
      throw JpegError("unsupported JPEG colour space (" + std::to_string(c.num_components) + " components, neither grey, YCbCr/RGB nor CMYK/YCCK)");
  }
}

JpegDecoder::~JpegDecoder() = default;

void JpegDecoder::start(int eighths, int* scaled_width, int* scaled_height) {
  J_COLOR_SPACE space = header_.bands == 1 ? JCS_GRAYSCALE : s_->cmyk ? JCS_CMYK : JCS_EXT_RGBX;
  if (!start_jpeg(s_.get(), eighths, space)) throw JpegError(s_->err.message);
  *scaled_width = static_cast<int>(s_->cinfo.output_width);
  *scaled_height = static_cast<int>(s_->cinfo.output_height);
}

void JpegDecoder::decode(int x0, int y0, int x1, int y1, Region* out) {
  jpeg_decompress_struct& c = s_->cinfo;
  if (x0 < 0 || y0 < 0 || x1 <= x0 || y1 <= y0 || x1 > static_cast<int>(c.output_width) || y1 > static_cast<int>(c.output_height))
    throw std::logic_error("jpeg: region outside the scaled image");
  JDIMENSION xoff = static_cast<JDIMENSION>(x0);
  JDIMENSION width = static_cast<JDIMENSION>(x1 - x0);
  if (!crop_columns(s_.get(), &xoff, &width)) throw JpegError(s_->err.message);

  const int comps = c.output_components;  // 1, or 4 (RGBX, or CMYK converted in place)
  const int rows = y1 - y0;
  const size_t row_bytes = static_cast<size_t>(width) * comps;
  out->x0 = static_cast<int>(xoff);
  out->y0 = y0;
  out->width = static_cast<int>(width);
  out->height = rows;
  out->channels = comps;
  out->pixels.resize(row_bytes * rows);
  s_->rows.resize(rows);
  for (int r = 0; r < rows; r++) s_->rows[r] = out->pixels.data() + r * row_bytes;

  bool stuck = false;
  if (!read_rows(s_.get(), static_cast<JDIMENSION>(y0), static_cast<JDIMENSION>(y1), &stuck)) throw JpegError(s_->err.message);
  if (stuck) throw JpegError("the decoder stopped before the requested rows (corrupt data)");
  if (s_->cmyk) cmyk_to_rgbx(out->pixels.data(), static_cast<size_t>(width) * rows);

  bool to_end = s_->err.fail_on == FailOn::Warning || !has_end_marker(s_->data, s_->size);
  if (to_end) s_->spare.resize(row_bytes);
  if (!finish_jpeg(s_.get(), to_end)) throw JpegError(s_->err.message);
}

}  // namespace tessera
