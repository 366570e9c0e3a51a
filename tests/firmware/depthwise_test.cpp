// The Cortex-M7 depthwise kernel's target loops (inline assembly for 3 and 4 channels, even
// widths, writing the packed rows of the pointwise layer after them) against the reference
// kernel, in QEMU: random 3x3 layers, each followed by a pointwise layer so that prepare() lets
// it write packed rows where it can, over widths that give odd and even loop counts, both
// padding rows, zero points at the ends of the range, and shapes that take the window loop. The
// pipeline test covers only the default 32-pixel rows.
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
int8_t g_pw_weights[kMaxChannels];
uint8_t g_pw_bias[4], g_pw_multiplier[4], g_pw_shift[4];
int8_t g_rows[3][kMaxWidth * kMaxChannels];
int8_t g_out_ref[kMaxWidth * kMaxChannels];
alignas(4) int8_t g_out_cm7[kMaxWidth * 4 * ((kMaxChannels + 1) / 2)];  // room for a packed row
const int8_t kThreshold = 0;
agn_model g_model;
alignas(4) uint8_t g_state[4096];

// One random layer of `channels` channels and `width` pixels; every row pattern.
void check_layer(int width, int channels, int32_t zp_in, int32_t zp_out) {
  memset(&g_model, 0, sizeof g_model);
  g_model.layer_count = 2;
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
  // The pointwise layer after it (one output channel; only its shape and its fast path matter).
  agn_layer& pw = g_model.layers[1];
  pw.op = AGN_OP_POINTWISE;
  pw.kernel = 1;
  pw.stride = 1;
  pw.in_height = pw.out_height = 3;
  pw.in_width = pw.out_width = l.out_width;
  pw.in_channels = l.out_channels;
  pw.out_channels = 1;
  pw.in_zero_point = zp_out;
  pw.act_min = -128;
  pw.act_max = 127;
  for (int c = 0; c < channels; ++c) g_pw_weights[c] = random_int8();
  agn_store_u32le(g_pw_bias, 0);
  agn_store_u32le(g_pw_multiplier, 1u << 30);
  agn_store_u32le(g_pw_shift, static_cast<uint32_t>(-8));
  pw.weights = g_pw_weights;
  pw.bias = g_pw_bias;
  pw.multiplier = g_pw_multiplier;
  pw.shift = g_pw_shift;
  AGN_CHECK(agn_kernels_cm7.state_size(&g_model) <= sizeof g_state);
  agn_kernels_cm7.prepare(&g_model, g_state);
  const agilenn::device::cm7::State& s = agilenn::device::cm7::state_of(g_state);
  AGN_CHECK(s.layer[0].fast == 1 && s.layer[1].fast == 1);
  // Packed rows (the assembly loops) exactly where their conditions hold.
  const bool packed = width >= 4 && width % 2 == 0 && channels <= 4;
  AGN_CHECK(s.layer[0].packed_out == (packed ? 1u : 0u));
  const int pixel = 2 * ((channels + 1) / 2);  // halfwords of a packed pixel
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
    bool same = true;
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        int16_t v = g_out_cm7[x * channels + c];
        if (packed) memcpy(&v, g_out_cm7 + 2 * (pixel * x + c), 2);
        same = same && v == g_out_ref[x * channels + c];
      }
    }
    if (!AGN_CHECK(same)) {
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
