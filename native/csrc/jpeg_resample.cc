// PIL's antialiased bilinear resize; see jpeg_resample.h. Variable names follow Pillow's
// Resample.c (precompute_coeffs, normalize_coeffs_8bpc, ImagingResampleHorizontal/Vertical_8bpc)
// so the two can be read side by side.
#include "jpeg_resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace tessera {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images
constexpr int32_t kHalf = int32_t{1} << (kPrecisionBits - 1);

double triangle(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's clip8 (255 at or above 255 << 22, 0 at or below 0, else v >> 22), written as a clamp
// so that it vectorises: the two agree on every int32.
inline uint8_t clip8(int32_t v) { return static_cast<uint8_t>(std::min(std::max(v >> kPrecisionBits, 0), 255)); }

// The vertical pass is compiled twice on x86-64, for AVX2 and for the baseline, and the loader
// picks one per machine (GCC/Clang function multi-versioning); the horizontal pass picks its SSE4.1
// or plain version at run time. Integer arithmetic throughout: every version gives the same bytes.
#if defined(__x86_64__) && defined(__GNUC__)
#define TESSERA_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TESSERA_CLONES
#endif

// One output pixel of the horizontal pass: the taps of `k` over `count` pixels `du` bytes apart.
// A colour pixel is 4 bytes (R, G, B, X): with SSE4.1 it is widened to four int32 lanes and
// multiplied by the tap's weight in one instruction each; without, three scalar sums. (Two pixels
// per AVX2 step measured no faster: with 3–5 taps per pixel the per-pixel work dominates.)
inline void taps_grey(const uint8_t* p, ptrdiff_t du, const int32_t* k, int count, uint8_t* o) {
  int32_t s = kHalf;
  for (int t = 0; t < count; t++, p += du) s += p[0] * k[t];
  o[0] = clip8(s);
}

inline void taps_rgbx(const uint8_t* p, ptrdiff_t du, const int32_t* k, int count, uint8_t* o) {
  int32_t s0 = kHalf, s1 = kHalf, s2 = kHalf;
  for (int t = 0; t < count; t++, p += du) {
    const int32_t w = k[t];
    s0 += p[0] * w;
    s1 += p[1] * w;
    s2 += p[2] * w;
  }
  o[0] = clip8(s0);
  o[1] = clip8(s1);
  o[2] = clip8(s2);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.1"))) inline void taps_rgbx_sse41(const uint8_t* p, ptrdiff_t du, const int32_t* k, int count, uint8_t* o) {
  __m128i s = _mm_set1_epi32(kHalf);
  for (int t = 0; t < count; t++, p += du) {
    int32_t px;
    std::memcpy(&px, p, sizeof px);
    s = _mm_add_epi32(s, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(px)), _mm_set1_epi32(k[t])));
  }
  // Pillow's clip8 on four lanes: shift, then saturate to 0..255 while packing to bytes.
  s = _mm_srai_epi32(s, kPrecisionBits);
  const int32_t rgbx = _mm_cvtsi128_si32(_mm_packus_epi16(_mm_packs_epi32(s, s), _mm_setzero_si128()));
  std::memcpy(o, &rgbx, 3);
}

#endif

// Horizontal pass: rows [row_lo, row_hi) of the view, every output column of `x`, into tmp (HWC,
// 1 or 3 channels). `Taps` computes one output pixel.
template <int C, typename Taps>
inline void horizontal(const OrientedView& src, const AxisPlan& x, int row_lo, int row_hi, uint8_t* tmp, Taps taps) {
  // Everything the loops read, in locals: stores through `o` (bytes) could alias any field, and
  // the compiler would reload them for every pixel.
  const size_t nx = x.first.size();
  const bool identity = x.identity;
  const int* first = x.first.data();
  const int* count = x.count.data();
  const int32_t* k = x.k.data();
  const int ksize = x.ksize;
  const uint8_t* data = src.data;
  const ptrdiff_t du = src.du, dv = src.dv, origin = src.origin;
  for (int v = row_lo; v < row_hi; v++) {
    // Offsets stay integers until they point at a pixel: the view's origin may lie outside the
    // decoded buffer (it is where pixel (0, 0) would be).
    const ptrdiff_t row = origin + v * dv;
    uint8_t* o = tmp + static_cast<size_t>(v - row_lo) * nx * C;
    for (size_t i = 0; i < nx; i++, o += C) {
      const uint8_t* p = data + (row + first[i] * du);
      if (identity) std::memcpy(o, p, C);
      else taps(p, du, k + i * ksize, count[i], o);
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.1"))) void horizontal_rgbx_sse41(const OrientedView& src, const AxisPlan& x, int row_lo, int row_hi, uint8_t* tmp) {
  horizontal<3>(src, x, row_lo, row_hi, tmp, taps_rgbx_sse41);
}
bool has_sse41() {
  static const bool yes = (__builtin_cpu_init(), __builtin_cpu_supports("sse4.1"));
  return yes;
}
#endif

void horizontal_rgbx(const OrientedView& src, const AxisPlan& x, int row_lo, int row_hi, uint8_t* tmp) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (has_sse41()) return horizontal_rgbx_sse41(src, x, row_lo, row_hi, tmp);
#endif
  horizontal<3>(src, x, row_lo, row_hi, tmp, taps_rgbx);
}

void horizontal_grey(const OrientedView& src, const AxisPlan& x, int row_lo, int row_hi, uint8_t* tmp) {
  horizontal<1>(src, x, row_lo, row_hi, tmp, taps_grey);
}

// One output row of the vertical pass over whole rows of the horizontal pass's output: the inner
// loops run along contiguous rows and vectorise. Integer sums do not depend on their order.
TESSERA_CLONES void vertical_row(const uint8_t* first, size_t row_len, const int32_t* k, int count, int32_t* acc, uint8_t* out) {
  for (size_t e = 0; e < row_len; e++) acc[e] = kHalf;
  for (int t = 0; t < count; t++) {
    const uint8_t* r = first + t * row_len;
    const int32_t w = k[t];
    for (size_t e = 0; e < row_len; e++) acc[e] += r[e] * w;
  }
  for (size_t e = 0; e < row_len; e++) out[e] = clip8(acc[e]);
}

}  // namespace

void plan_axis(double box0, double box1, int clamp0, int clamp1, int out_size, int first_out, int n, AxisPlan* plan) {
  if (!(box1 > box0) || clamp1 <= clamp0 || out_size <= 0 || n <= 0 || first_out < 0 || first_out + n > out_size)
    throw std::logic_error("jpeg: bad resize plan");
  // Pillow works in the coordinates of the image it was handed; for us that is [clamp0, clamp1).
  const int in_size = clamp1 - clamp0;
  const double in0 = box0 - clamp0;
  const double in1 = box1 - clamp0;
  const double scale = (in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;  // the triangle's support is 1
  const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  plan->ksize = ksize;
  plan->first.assign(n, 0);
  plan->count.assign(n, 0);
  plan->k.assign(static_cast<size_t>(n) * ksize, 0);
  std::vector<double> kk(ksize);
  bool identity = true;
  int lo = clamp1, hi = clamp0;
  for (int i = 0; i < n; i++) {
    const int xx = first_out + i;
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; x++) {
      double w = triangle((x + xmin - center + 0.5) * ss);
      kk[x] = w;
      ww += w;
    }
    int32_t* k = &plan->k[static_cast<size_t>(i) * ksize];
    for (int x = 0; x < xmax; x++) {
      double w = ww != 0.0 ? kk[x] / ww : kk[x];
      k[x] = w < 0 ? static_cast<int32_t>(-0.5 + w * (1 << kPrecisionBits)) : static_cast<int32_t>(0.5 + w * (1 << kPrecisionBits));
    }
    // Trailing zero weights read pixels for nothing (and may lie past what was decoded): drop them.
    while (xmax > 0 && k[xmax - 1] == 0) xmax--;
    if (xmax <= 0) throw std::logic_error("jpeg: resize output with no input pixels");
    plan->first[i] = clamp0 + xmin;
    plan->count[i] = xmax;
    identity = identity && xmax == 1 && k[0] == (1 << kPrecisionBits);
    lo = std::min(lo, clamp0 + xmin);
    hi = std::max(hi, clamp0 + xmin + xmax);
  }
  plan->identity = identity;
  plan->lo = lo;
  plan->hi = hi;
}

void resample(const OrientedView& src, const AxisPlan& x, const AxisPlan& y, std::vector<uint8_t>* tmp, std::vector<int32_t>* acc, std::vector<uint8_t>* out) {
  const int C = src.channels == 1 ? 1 : 3;  // output channels
  const size_t nx = x.first.size();
  const size_t ny = y.first.size();
  const size_t row_len = nx * C;
  tmp->resize(static_cast<size_t>(y.hi - y.lo) * row_len);
  if (src.channels == 1) horizontal_grey(src, x, y.lo, y.hi, tmp->data());
  else if (src.channels == 4) horizontal_rgbx(src, x, y.lo, y.hi, tmp->data());
  else throw std::logic_error("jpeg: resample reads 1 or 4 bytes per pixel");

  out->resize(ny * row_len);
  acc->resize(row_len);
  for (size_t j = 0; j < ny; j++) {
    uint8_t* o = out->data() + j * row_len;
    const uint8_t* first = tmp->data() + static_cast<size_t>(y.first[j] - y.lo) * row_len;
    if (y.identity) std::copy(first, first + row_len, o);
    else vertical_row(first, row_len, &y.k[j * y.ksize], y.count[j], acc->data(), o);
  }
}

}  // namespace tessera
