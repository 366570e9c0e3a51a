#include "device/kernels/kernels.h"
#include "device/kernels/requant.h"

extern "C" void agn_conv_dw_s8_ref(const agn_layer* l, const int8_t* const* in_rows, int8_t* out_row) {
  const int k = l->kernel;
  const int channels = l->out_channels;
  const int in_width = l->in_width;
  for (int ox = 0; ox < l->out_width; ++ox) {
    const int x0 = ox * l->stride - l->padding;
    for (int c = 0; c < channels; ++c) {
      int32_t acc = agn_i32_at(l->bias, c);
      for (int ky = 0; ky < k; ++ky) {
        const int8_t* row = in_rows[ky];
        if (row == nullptr) continue;
        for (int kx = 0; kx < k; ++kx) {
          const int x = x0 + kx;
          if (x < 0 || x >= in_width) continue;
          acc += l->weights[(ky * k + kx) * channels + c] * (row[x * channels + c] - l->in_zero_point);
        }
      }
      out_row[ox * channels + c] = agn_requantize(acc, agn_i32_at(l->multiplier, c), agn_i32_at(l->shift, c),
                                                  l->out_zero_point, l->act_min, l->act_max);
    }
  }
}
