#include "device/kernels/kernels.h"
#include "device/kernels/requant.h"

extern "C" void agn_local_s8_ref(const agn_local_layer* l, const int32_t* pool_sums, int8_t* pooled,
                                 int8_t* logits) {
  const int k = l->in_channels;
  for (int c = 0; c < k; ++c) {
    pooled[c] = agn_requantize(pool_sums[c], l->pool_multiplier, l->pool_shift, l->pool_zero_point, -128, 127);
  }
  for (int j = 0; j < l->classes; ++j) {
    const int8_t* w = l->weights + j * k;
    int32_t acc = agn_i32_at(l->bias, j);
    for (int i = 0; i < k; ++i) acc += w[i] * (pooled[i] - l->pool_zero_point);
    logits[j] = agn_requantize(acc, agn_i32_at(l->multiplier, j), agn_i32_at(l->shift, j), l->logits_zero_point,
                               -128, 127);
  }
}
