#include "device/kernels/kernels.h"
#include "device/kernels/requant.h"

extern "C" void agn_conv_s8_ref(const agn_layer* l, const int8_t* const* in_rows, int8_t* out_row) {
  const int k = l->kernel;
  const int in_channels = l->in_channels;
  const int out_channels = l->out_channels;
  const int in_width = l->in_width;
  for (int ox = 0; ox < l->out_width; ++ox) {
    const int x0 = ox * l->stride - l->padding;
    for (int oc = 0; oc < out_channels; ++oc) {
      int32_t acc = agn_i32_at(l->bias, oc);
      for (int ky = 0; ky < k; ++ky) {
        const int8_t* row = in_rows[ky];
        if (row == nullptr) continue;
        for (int kx = 0; kx < k; ++kx) {
          const int x = x0 + kx;
          if (x < 0 || x >= in_width) continue;
          const int8_t* w = l->weights + ((oc * k + ky) * k + kx) * in_channels;  // OHWI
          const int8_t* pixel = row + x * in_channels;
          for (int ic = 0; ic < in_channels; ++ic) acc += w[ic] * (pixel[ic] - l->in_zero_point);
        }
      }
      out_row[ox * out_channels + oc] = agn_requantize(acc, agn_i32_at(l->multiplier, oc),
                                                       agn_i32_at(l->shift, oc), l->out_zero_point, l->act_min,
                                                       l->act_max);
    }
  }
}
