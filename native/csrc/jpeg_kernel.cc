// The fused JPEG kernel; see jpeg_kernel.h. Geometry in four frames:
//   upright      the image as shown (EXIF orientation applied): where crops are given;
//   upright/s    the same at DCT scale s = eighths/8: where the resize reads;
//   stored/s     the decoded pixels, as libjpeg delivers them;
//   region       the rectangle of stored/s we asked libjpeg for.
// The resize reads stored/s pixels through an OrientedView, so no rotated copy is ever made.
#include "jpeg_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "jpeg_resample.h"

namespace tessera {
namespace {

// libjpeg's smooth chroma upsampling reads one chroma sample beyond each decoded pixel, so pixels
// at the edge of a partial decode differ from a full decode. Decoding a few extra pixels around
// the region keeps every pixel the resize reads equal to a full decode's.
constexpr int kMargin = 4;

// Where an upright axis lives in the stored image: which stored axis (0 = x, 1 = y), and whether
// it runs backwards. EXIF orientations 5..8 swap the axes.
struct AxisMap {
  int stored_axis;
  bool reversed;
};

void orientation_axes(int o, AxisMap* x, AxisMap* y) {
  // Upright pixel (u, v) is stored at: 1 (u, v); 2 (W-1-u, v); 3 (W-1-u, H-1-v); 4 (u, H-1-v);
  // 5 (v, u); 6 (v, H-1-u); 7 (W-1-v, H-1-u); 8 (W-1-v, u) — W, H the stored size.
  static const AxisMap kX[8] = {{0, false}, {0, true}, {0, true}, {0, false}, {1, false}, {1, true}, {1, true}, {1, false}};
  static const AxisMap kY[8] = {{1, false}, {1, false}, {1, true}, {1, true}, {0, false}, {0, false}, {0, true}, {0, true}};
  *x = kX[o - 1];
  *y = kY[o - 1];
}

// Per-thread buffers, reused from sample to sample (a pool thread lives as long as its pool).
// One huge image must not pin its buffers for the pool's life: past kKeepBytes they are freed
// once the sample is done.
constexpr size_t kKeepBytes = size_t{16} << 20;

struct Scratch {
  Region region;
  AxisPlan px, py;
  std::vector<uint8_t> tmp, resized;
  std::vector<int32_t> acc;

  void trim() {
    if (region.pixels.capacity() > kKeepBytes) std::vector<uint8_t>().swap(region.pixels);
    if (tmp.capacity() > kKeepBytes) std::vector<uint8_t>().swap(tmp);
    if (resized.capacity() > kKeepBytes) std::vector<uint8_t>().swap(resized);
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

struct TrimOnExit {
  Scratch& s;
  ~TrimOnExit() { s.trim(); }
};

std::string box_text(int w, int h, int x, int y) {
  return std::to_string(w) + "x" + std::to_string(h) + "+" + std::to_string(x) + "+" + std::to_string(y);
}

// The coarsest scale (in eighths: 1, 2, 4 or 8) at which the crop still has at least the resized
// resolution. libjpeg-turbo also offers 3/8, 5/8, 6/8 and 7/8, but those IDCTs have no SIMD code
// and decode slower than the full 8/8 (measured: a 500×375 photo at 6/8 takes ~1.6× as long).
int choose_eighths(const SampleSpec& s, bool allowed) {
  if (!allowed) return 8;
  for (int e : {1, 2, 4})
    if (static_cast<int64_t>(s.crop_w) * e >= int64_t{8} * s.resize_w && static_cast<int64_t>(s.crop_h) * e >= int64_t{8} * s.resize_h) return e;
  return 8;
}

// Writes the resized window (HWC, `cs` channels) to the sample's slot as CHW, mirrored when asked.
template <typename T, typename Convert>
void write_chw(const uint8_t* px, int cs, const BatchLayout& L, bool flip, T* dst, Convert convert) {
  const int W = L.width, H = L.height;
  const size_t plane = static_cast<size_t>(W) * H;
  for (int c = 0; c < L.channels; c++) {
    T* d = dst + c * plane;
    for (int y = 0; y < H; y++) {
      const uint8_t* p = px + static_cast<size_t>(y) * W * cs;
      T* row = d + static_cast<size_t>(y) * W;
      for (int x = 0; x < W; x++, p += cs) {
        // Grey ← colour is PIL's convert('L') (ITU-R 601-2 luma in 16-bit fixed point), applied
        // after the resize as the sharp path and torchvision's Grayscale transform do.
        int v = cs == L.channels ? p[c] : cs == 1 ? p[0] : (p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16;
        row[flip ? W - 1 - x : x] = convert(c, v);
      }
    }
  }
}

// Resizes the view per the scratch's axis plans and writes the window to the sample's slot.
void resize_and_write(const OrientedView& view, const SampleSpec& s, const BatchLayout& L, Scratch& t) {
  resample(view, t.px, t.py, &t.tmp, &t.acc, &t.resized);
  const int resized_channels = view.channels == 1 ? 1 : 3;
  if (L.float_out)
    write_chw(t.resized.data(), resized_channels, L, s.flip, static_cast<float*>(s.dst), [&](int c, int v) { return L.lut[c][v]; });
  else
    write_chw(t.resized.data(), resized_channels, L, s.flip, static_cast<uint8_t*>(s.dst), [](int, int v) { return static_cast<uint8_t>(v); });
}

void check_crop(const SampleSpec& s, int W, int H) {
  if (s.crop_x < 0 || s.crop_y < 0 || s.crop_w < 1 || s.crop_h < 1 || s.crop_x + s.crop_w > W || s.crop_y + s.crop_h > H)
    throw JpegError("crop " + box_text(s.crop_w, s.crop_h, s.crop_x, s.crop_y) + " does not fit in the " + std::to_string(W) + "x" + std::to_string(H) + " image");
}

// Decoded pixels: the resize reads them where they are (grey), or from an RGBX copy of the rows
// and columns it needs (colour: the resize loads a pixel as one 32-bit word).
void run_pixels(const SampleSpec& s, const BatchLayout& L) {
  const int W = s.pixels_width, H = s.pixels_height, C = s.pixels_channels;
  if (W < 1 || H < 1 || (C != 1 && C != 3) || static_cast<size_t>(W) * H * C != s.size)
    throw JpegError("pixels: " + std::to_string(s.size) + " bytes for a " + std::to_string(W) + "x" + std::to_string(H) + "x" + std::to_string(C) + " image");
  check_crop(s, W, H);
  Scratch& t = scratch();
  TrimOnExit trim{t};
  plan_axis(s.crop_x, s.crop_x + s.crop_w, s.crop_x, s.crop_x + s.crop_w, s.resize_w, s.offset_x, L.width, &t.px);
  plan_axis(s.crop_y, s.crop_y + s.crop_h, s.crop_y, s.crop_y + s.crop_h, s.resize_h, s.offset_y, L.height, &t.py);
  OrientedView view;
  if (C == 1) {
    view.data = s.data;
    view.channels = 1;
    view.du = 1;
    view.dv = W;
  } else {
    const int x0 = t.px.lo, w = t.px.hi - t.px.lo, y0 = t.py.lo, h = t.py.hi - t.py.lo;
    std::vector<uint8_t>& px = t.region.pixels;
    px.resize(static_cast<size_t>(w) * h * 4);
    for (int y = 0; y < h; y++) {
      const uint8_t* src = s.data + (static_cast<size_t>(y0 + y) * W + x0) * 3;
      uint8_t* dst = px.data() + static_cast<size_t>(y) * w * 4;
      for (int x = 0; x < w; x++, src += 3, dst += 4) dst[0] = src[0], dst[1] = src[1], dst[2] = src[2], dst[3] = 0;
    }
    view.data = px.data();
    view.channels = 4;
    view.du = 4;
    view.dv = static_cast<ptrdiff_t>(w) * 4;
    view.origin = -(static_cast<ptrdiff_t>(y0) * view.dv + static_cast<ptrdiff_t>(x0) * 4);
  }
  resize_and_write(view, s, L, t);
}

}  // namespace

size_t sample_bytes(const BatchLayout& L) {
  return static_cast<size_t>(L.width) * L.height * L.channels * (L.float_out ? sizeof(float) : 1);
}

void run_sample(const SampleSpec& s, const BatchLayout& L) {
  if (s.pixels_channels > 0) {
    run_pixels(s, L);
    return;
  }
  JpegDecoder dec(s.data, s.size, L.fail_on);
  const JpegHeader& h = dec.header();
  if (s.orientation < 1 || s.orientation > 8) throw JpegError("EXIF orientation must be 1..8, got " + std::to_string(s.orientation));
  const bool swap = s.orientation >= 5;
  const int W = swap ? h.height : h.width;  // upright size
  const int H = swap ? h.width : h.height;
  if (static_cast<double>(W) * H > L.max_pixels) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%.0f", L.max_pixels);
    throw JpegError("image is " + std::to_string(W) + "x" + std::to_string(H) + " = " + std::to_string(static_cast<int64_t>(W) * H) +
                    " pixels, over the decompression limit of " + limit + " (maxPixels)");
  }
  check_crop(s, W, H);

  const int eighths = choose_eighths(s, L.dct_scaling);
  int sw, sh;  // stored/s size
  dec.start(eighths, &sw, &sh);
  const int stored_size[2] = {sw, sh};
  AxisMap mx, my;
  orientation_axes(s.orientation, &mx, &my);

  // The crop in upright/s, continuous coordinates. libjpeg rounds a scaled size up, so a reversed
  // axis is shifted by the part-pixel it added at the far end.
  const double f = eighths / 8.0;
  const int Ws = stored_size[mx.stored_axis], Hs = stored_size[my.stored_axis];
  const double bx0 = s.crop_x * f + (mx.reversed ? Ws - W * f : 0.0);
  const double by0 = s.crop_y * f + (my.reversed ? Hs - H * f : 0.0);
  const double bx1 = bx0 + s.crop_w * f, by1 = by0 + s.crop_h * f;
  // The resize reads only inside the crop (PIL is handed the cropped image), clamped to pixels.
  const int cx0 = std::max(0, static_cast<int>(std::floor(bx0))), cx1 = std::min(Ws, static_cast<int>(std::ceil(bx1)));
  const int cy0 = std::max(0, static_cast<int>(std::floor(by0))), cy1 = std::min(Hs, static_cast<int>(std::ceil(by1)));

  Scratch& t = scratch();
  TrimOnExit trim{t};
  plan_axis(bx0, bx1, cx0, cx1, s.resize_w, s.offset_x, L.width, &t.px);
  plan_axis(by0, by1, cy0, cy1, s.resize_h, s.offset_y, L.height, &t.py);

  // The upright/s rectangle the resize reads, in stored/s, with the margin; then decode it.
  int lo[2], hi[2];
  auto stored_range = [&](const AxisMap& m, const AxisPlan& plan) {
    const int n = stored_size[m.stored_axis];
    const int a = m.reversed ? n - plan.hi : plan.lo;
    const int b = m.reversed ? n - plan.lo : plan.hi;
    lo[m.stored_axis] = std::max(0, a - kMargin);
    hi[m.stored_axis] = std::min(n, b + kMargin);
  };
  stored_range(mx, t.px);
  stored_range(my, t.py);
  Region& r = t.region;
  dec.decode(lo[0], lo[1], hi[0], hi[1], &r);

  // Upright/s pixel (u, v) → stored/s (x, y) → offset in the region buffer, as origin + u·du + v·dv.
  const ptrdiff_t C = r.channels;  // bytes per pixel
  auto offset = [&](int u, int v) -> ptrdiff_t {
    int p[2];
    p[mx.stored_axis] = mx.reversed ? stored_size[mx.stored_axis] - 1 - u : u;
    p[my.stored_axis] = my.reversed ? stored_size[my.stored_axis] - 1 - v : v;
    return (static_cast<ptrdiff_t>(p[1] - r.y0) * r.width + (p[0] - r.x0)) * C;
  };
  OrientedView view;
  view.data = r.pixels.data();
  view.channels = r.channels;
  view.origin = offset(0, 0);
  view.du = offset(1, 0) - view.origin;
  view.dv = offset(0, 1) - view.origin;
  resize_and_write(view, s, L, t);
}

}  // namespace tessera
