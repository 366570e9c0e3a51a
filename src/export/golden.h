// Golden vectors: a few images and every int8 tensor the device model must produce for them,
// computed by the exporter's integer simulation (export/simulate.h), never by the runtime. The
// runtime's tests compare against them bit for bit.
//
// File format (golden.bin in an export folder; all multi-byte fields little-endian):
//   1. u32 magic 0x474E4741 (bytes "AGNG"), u16 version = 1, u16 image count N
//   2. u16 layer count Lc (the model's extractor layers), u16 reserved = 0
//   3. N image records, each a sequence of (u32 length, bytes) fields:
//        a. u32 label: the image's class index in its data set (0xFFFFFFFF if unknown), no length
//        b. the input image, u8, HWC (the model's INPUT section shape)
//        c. Lc fields: layer i's output, i8, HWC
//        d. the Local NN's pooled features, i8 (k values)
//        e. the Local NN's logits, i8 (classes values)
//        f. the remote symbols, u8 in [0, L), channel-major ((C - k) * H * W)
//   4. u32 CRC-32 (common/crc32.h) of every byte before it.
// The shapes are the model file's; a reader checks the lengths against its model.
#pragma once

#include <cstdint>
#include <vector>

#include "export/simulate.h"

namespace agilenn::exporter {

inline constexpr uint32_t kGoldenMagic = 0x474E4741u;
inline constexpr uint16_t kGoldenVersion = 1;
inline constexpr uint32_t kGoldenNoLabel = 0xFFFFFFFFu;

struct GoldenImage {
  uint32_t label = kGoldenNoLabel;
  std::vector<uint8_t> input;
  Simulation expected;
};

std::vector<uint8_t> write_golden(const std::vector<GoldenImage>& images);
// Throws std::runtime_error naming what is wrong (magic, version, truncation, checksum, trailing
// bytes, images with different layer counts).
std::vector<GoldenImage> read_golden(const std::vector<uint8_t>& bytes);

}  // namespace agilenn::exporter
