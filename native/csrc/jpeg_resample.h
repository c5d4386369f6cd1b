// Antialiased bilinear resize, the algorithm of PIL's Image.resize(BILINEAR) (Pillow's
// libImaging/Resample.c), which torchvision's RandomResizedCrop and Resize run on PIL images: a
// triangle filter widened by the downscale factor, weights normalised per output pixel and rounded
// to 22-bit fixed point, a horizontal pass (rounded to 8 bits) and then a vertical pass. Doing the
// same arithmetic in the same order makes our output equal PIL's bit for bit on the same pixels.
//
// Two generalisations, neither of which changes a PIL-equal case: the source is read through an
// oriented view (so EXIF orientation costs no copy), and only a window of the output is computed
// (Resize + CenterCrop computes the centre only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tessera {

// The taps of one axis: output i (of the computed window) reads inputs first[i] .. first[i] +
// count[i] − 1 with weights k[i·ksize ...] (fixed point, 1.0 = 1 << 22).
struct AxisPlan {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> k;
  bool identity = false;  // every output copies exactly one input
  int lo = 0, hi = 0;     // inputs read by the window: [lo, hi)
};

// Plans resizing the source interval [box0, box1) (continuous coordinates, in input pixels) to
// `out_size` pixels, computing outputs [first_out, first_out + n). Inputs are clamped to
// [clamp0, clamp1), as PIL clamps at the edges of the image it was given (after a crop, the crop).
void plan_axis(double box0, double box1, int clamp0, int clamp1, int out_size, int first_out, int n, AxisPlan* plan);

// Decoded pixels seen in the upright frame: pixel (u, v) starts at data[origin + u·du + v·dv].
struct OrientedView {
  const uint8_t* data = nullptr;
  ptrdiff_t origin = 0, du = 0, dv = 0;
  int channels = 0;  // bytes per pixel: 1 (grey) or 4 (R, G, B, X)
};

// Resizes `src` per the two plans into `out` (HWC, x.first.size() × y.first.size() pixels of 1
// channel for grey, 3 for colour).
// `tmp` holds the horizontal pass; both buffers are reused across calls.
void resample(const OrientedView& src, const AxisPlan& x, const AxisPlan& y, std::vector<uint8_t>* tmp, std::vector<int32_t>* acc, std::vector<uint8_t>* out);

}  // namespace tessera
