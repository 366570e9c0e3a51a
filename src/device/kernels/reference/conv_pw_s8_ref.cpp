#include "device/kernels/kernels.h"
#include "device/kernels/requant.h"

extern "C" void agn_conv_pw_s8_ref(const agn_layer* l, const int8_t* const* in_rows, int8_t* out_row) {
  const int in_channels = l->in_channels;
  const int out_channels = l->out_channels;
  const int8_t* row = in_rows[0];
  for (int x = 0; x < l->out_width; ++x) {
    const int8_t* pixel = row + x * in_channels;
    for (int oc = 0; oc < out_channels; ++oc) {
      const int8_t* w = l->weights + oc * in_channels;
      int32_t acc = agn_i32_at(l->bias, oc);
      for (int ic = 0; ic < in_channels; ++ic) acc += w[ic] * (pixel[ic] - l->in_zero_point);
      out_row[x * out_channels + oc] = agn_requantize(acc, agn_i32_at(l->multiplier, oc), agn_i32_at(l->shift, oc),
                                                      l->out_zero_point, l->act_min, l->act_max);
    }
  }
}
