// The Cortex-M7 depthwise kernel's target loops (inline assembly for 3 and 4 channels, even
// widths) against the reference kernel, in QEMU: random 3x3 layers over widths that give odd
// and even loop counts, both padding rows, zero points at the ends of the range, and shapes that
// take the C loops. The pipeline test covers only the default 32-pixel rows.
#include <string.h>

#include "common/byte_order.h"
#include "device/kernels/cm7/cm7_kernels.h"
#include "fw_test.h"

namespace {

constexpr int kMaxChannels = 5;
constexpr int kMaxWidth = 64;

uint32_t g_seed = 12345;
uint32_t next_random() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return g_seed >> 8;
}
int8_t random_int8() { return static_cast<int8_t>(next_random()); }

int8_t g_weights[9 * kMaxChannels];
uint8_t g_bias[4 * kMaxChannels], g_multiplier[4 * kMaxChannels], g_shift[4 * kMaxChannels];
int8_t g_rows[3][kMaxWidth * kMaxChannels];
int8_t g_out_ref[kMaxWidth * kMaxChannels], g_out_cm7[kMaxWidth * kMaxChannels];
const int8_t kThreshold = 0;
agn_model g_model;
alignas(4) uint8_t g_state[4096];

// One random layer of `channels` channels and `width` pixels; every row pattern.
void check_layer(int width, int channels, int32_t zp_in, int32_t zp_out) {
  memset(&g_model, 0, sizeof g_model);
  g_model.layer_count = 1;
  g_model.levels = 2;
  g_model.thresholds = &kThreshold;
  agn_layer& l = g_model.layers[0];
  l.op = AGN_OP_DEPTHWISE;
  l.kernel = 3;
  l.stride = 1;
  l.padding = 1;
  l.in_height = l.out_height = 3;
  l.in_width = l.out_width = static_cast<uint16_t>(width);
  l.in_channels = l.out_channels = static_cast<uint16_t>(channels);
  l.in_zero_point = zp_in;
  l.out_zero_point = zp_out;
  l.act_min = -128;
  l.act_max = 127;
  for (int i = 0; i < 9 * channels; ++i) g_weights[i] = random_int8();
  for (int c = 0; c < channels; ++c) {
    agn_store_u32le(g_bias + 4 * c, static_cast<uint32_t>(static_cast<int32_t>(next_random() % 20001) - 10000));
    agn_store_u32le(g_multiplier + 4 * c, (1u << 30) + next_random() % (1u << 30));
    agn_store_u32le(g_shift + 4 * c, static_cast<uint32_t>(-static_cast<int32_t>(6 + next_random() % 6)));
  }
  l.weights = g_weights;
  l.bias = g_bias;
  l.multiplier = g_multiplier;
  l.shift = g_shift;
  AGN_CHECK(agn_kernels_cm7.state_size(&g_model) <= sizeof g_state);
  agn_kernels_cm7.prepare(&g_model, g_state);
  AGN_CHECK(agilenn::device::cm7::state_of(g_state).layer[0].fast == 1);
  for (int r = 0; r < 3; ++r) {
    for (int i = 0; i < width * channels; ++i) g_rows[r][i] = random_int8();
  }
  const int missing_rows[] = {-1, 0, 2};  // none, row 0, row 2
  for (int missing : missing_rows) {
    const int8_t* rows[3] = {g_rows[0], g_rows[1], g_rows[2]};
    if (missing >= 0) rows[missing] = nullptr;
    memset(g_out_ref, 0, sizeof g_out_ref);
    memset(g_out_cm7, 0x55, sizeof g_out_cm7);
    agn_kernels_reference.depthwise(&l, nullptr, rows, g_out_ref);
    agn_kernels_cm7.depthwise(&l, g_state, rows, g_out_cm7);
    if (!AGN_CHECK(memcmp(g_out_ref, g_out_cm7, static_cast<size_t>(width * channels)) == 0)) {
      agn_console_puts("  width ");
      agn_console_put_i32(width);
      agn_console_puts(" channels ");
      agn_console_put_i32(channels);
      agn_console_puts(" missing row ");
      agn_console_put_i32(missing);
      agn_console_puts("\n");
    }
  }
}

}  // namespace

int main() {
  const int widths[] = {2, 3, 4, 5, 6, 8, 10, 30, 31, 32, 34, 62, 64};
  const int32_t zero_points[][2] = {{0, 0}, {-128, 127}, {127, -128}, {37, -5}};
  for (int width : widths) {
    for (int channels = 3; channels <= kMaxChannels; ++channels) {
      for (const auto& zp : zero_points) check_layer(width, channels, zp[0], zp[1]);
    }
  }
  return agn_fw_test::finish("fw_depthwise_test");
}
