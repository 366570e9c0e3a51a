#include "device/kernels/kernels.h"
#include "device/kernels/requant.h"

// Every layer op in one loop (one reference kernel keeps the device image small: the Cortex-M7
// table links it for its fallbacks and the general convolution). Pointwise is the convolution
// with K = 1; a depthwise output channel reads only its own input channel, with the weights
// [ky][kx][c] instead of [oc][ky][kx][ic] (model_format.h).
extern "C" void agn_conv_s8_ref(const agn_layer* l, const void*, const int8_t* const* in_rows, int8_t* out_row) {
  const int k = l->kernel;
  const int in_channels = l->in_channels;
  const int out_channels = l->out_channels;
  const int in_width = l->in_width;
  const bool depthwise = l->op == AGN_OP_DEPTHWISE;
  // Weight (oc, tap, ic) at oc * oc_step + tap * tap_step + ic; input channel oc * pixel_step + ic.
  const int products = depthwise ? 1 : in_channels;  // per output value and tap
  const int oc_step = depthwise ? 1 : k * k * in_channels;
  const int tap_step = depthwise ? out_channels : in_channels;
  const int pixel_step = depthwise ? 1 : 0;
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
          const int8_t* w = l->weights + oc * oc_step + (ky * k + kx) * tap_step;
          const int8_t* pixel = row + x * in_channels + oc * pixel_step;
          for (int ic = 0; ic < products; ++ic) acc += w[ic] * (pixel[ic] - l->in_zero_point);
        }
      }
      out_row[ox * out_channels + oc] = agn_requantize(acc, agn_i32_at(l->multiplier, oc),
                                                       agn_i32_at(l->shift, oc), l->out_zero_point, l->act_min,
                                                       l->act_max);
    }
  }
}
