// Corrupted, truncated and inconsistent model files are rejected with a clear status and message.
#include "device/device_model.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "modelfile/random_model.h"

namespace {

using agilenn::modelfile::random_model;
using agilenn::modelfile::RandomModelOptions;
using agilenn::modelfile::write_model;
using Bytes = std::vector<uint8_t>;

Bytes default_model() {
  static const Bytes bytes = write_model(random_model({}, 7));
  return bytes;
}

void fix_crc(Bytes& f) {
  const size_t body = f.size() - AGN_MODEL_CRC_SIZE;
  agn_store_u32le(f.data() + body, agn_crc32(f.data(), body));
}

uint8_t* entry(Bytes& f, unsigned i) { return f.data() + AGN_MODEL_HEADER_SIZE + AGN_MODEL_SECTION_ENTRY_SIZE * i; }

// Payload of the n-th section of `type`.
uint8_t* section(Bytes& f, uint32_t type, unsigned n = 0) {
  const unsigned count = agn_load_u16le(f.data() + AGN_MODEL_OFFSET_SECTION_COUNT);
  for (unsigned i = 0; i < count; ++i) {
    if (agn_load_u32le(entry(f, i)) == type && n-- == 0) return f.data() + agn_load_u32le(entry(f, i) + 4);
  }
  ADD_FAILURE() << "no section of type " << type;
  return nullptr;
}

struct Result {
  agn_status status;
  std::string error;
};

Result load(const Bytes& f) {
  agn_model m;
  const agn_status st = agn_model_load(&m, f.data(), f.size());
  return {st, m.error};
}

// Applies `patch`, fixes the CRC, and expects `status` with `needle` in the message.
template <typename Patch>
void expect_rejected(Patch patch, agn_status status, const std::string& needle) {
  Bytes f = default_model();
  patch(f);
  fix_crc(f);
  const Result r = load(f);
  EXPECT_EQ(r.status, status) << r.error;
  EXPECT_NE(r.error.find(needle), std::string::npos) << "message: " << r.error;
}

TEST(ModelLoad, DefaultModelFields) {
  const Bytes f = default_model();
  agn_model m;
  ASSERT_EQ(agn_model_load(&m, f.data(), f.size()), AGN_OK) << m.error;
  EXPECT_STREQ(m.error, "");
  EXPECT_EQ(m.layer_count, 4);
  EXPECT_EQ(m.feature_height, 32);
  EXPECT_EQ(m.feature_width, 32);
  EXPECT_EQ(m.feature_channels, 24);
  EXPECT_EQ(m.k, 5);
  EXPECT_EQ(m.levels, 8);
  EXPECT_EQ(m.local.classes, 10);
  EXPECT_EQ(m.symbol_count, 19u * 1024);
  EXPECT_EQ(m.layers[1].in_zero_point, m.layers[0].out_zero_point);
  EXPECT_EQ(m.layers[0].in_zero_point, m.input_zero_point);
  EXPECT_NE(m.rans, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.metadata), m.metadata_size), "{\"source\":\"random_model\",\"seed\":7}");
}

TEST(ModelLoad, EveryBitFlipIsRejected) {
  const Bytes good = default_model();
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes f = good;
    f[i] ^= static_cast<uint8_t>(1u << (i % 8));
    const Result r = load(f);
    ASSERT_NE(r.status, AGN_OK) << "flip at byte " << i;
    ASSERT_FALSE(r.error.empty());
    if (i < 6) {
      ASSERT_EQ(r.status, AGN_ERR_FORMAT) << i;  // magic, version
    } else if (i >= AGN_MODEL_OFFSET_FILE_SIZE && i < AGN_MODEL_OFFSET_FILE_SIZE + 4) {
      ASSERT_TRUE(r.status == AGN_ERR_TRUNCATED || r.status == AGN_ERR_FORMAT) << i;
    } else {
      ASSERT_EQ(r.status, AGN_ERR_CHECKSUM) << "flip at byte " << i << ": " << r.error;
    }
  }
}

TEST(ModelLoad, TruncationAndTrailingBytesAreRejected) {
  const Bytes good = default_model();
  for (size_t n = 1; n < good.size(); ++n) {
    const Bytes f(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    const Result r = load(f);
    ASSERT_EQ(r.status, AGN_ERR_TRUNCATED) << n << ": " << r.error;
  }
  EXPECT_NE(load(Bytes(good.begin(), good.end() - 1)).error.find("truncated"), std::string::npos);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(load(longer).status, AGN_ERR_FORMAT);
  agn_model m;
  EXPECT_EQ(agn_model_load(&m, nullptr, 10), AGN_ERR_ARG);
  EXPECT_EQ(agn_model_load(nullptr, good.data(), good.size()), AGN_ERR_ARG);
}

TEST(ModelLoad, WrongMagicVersionOrFlags) {
  expect_rejected([](Bytes& f) { f[0] = 'X'; }, AGN_ERR_FORMAT, "AGNM");
  expect_rejected([](Bytes& f) { agn_store_u16le(f.data() + AGN_MODEL_OFFSET_VERSION, 2); }, AGN_ERR_FORMAT,
                  "version 2");
  expect_rejected([](Bytes& f) { f[AGN_MODEL_OFFSET_FLAGS] = 1; }, AGN_ERR_FORMAT, "flags");
}

TEST(ModelLoad, BadSectionTable) {
  expect_rejected([](Bytes& f) { agn_store_u16le(f.data() + AGN_MODEL_OFFSET_SECTION_COUNT, 0); },
                  AGN_ERR_CORRUPT, "section count 0");
  expect_rejected([](Bytes& f) { agn_store_u16le(f.data() + AGN_MODEL_OFFSET_SECTION_COUNT, 5000); },
                  AGN_ERR_CORRUPT, "section count");
  // Payload past the checksum, unaligned, overlapping the previous one, overlapping the table.
  expect_rejected([](Bytes& f) { agn_store_u32le(entry(f, 2) + 8, 1u << 20); }, AGN_ERR_CORRUPT, "section 2");
  expect_rejected([](Bytes& f) { agn_store_u32le(entry(f, 2) + 8, 0xFFFFFFF0u); }, AGN_ERR_CORRUPT, "section 2");
  expect_rejected([](Bytes& f) { agn_store_u32le(entry(f, 1) + 4, agn_load_u32le(entry(f, 1) + 4) + 2); },
                  AGN_ERR_CORRUPT, "section 1");
  expect_rejected([](Bytes& f) { agn_store_u32le(entry(f, 3) + 4, agn_load_u32le(entry(f, 2) + 4)); },
                  AGN_ERR_CORRUPT, "section 3");
  expect_rejected([](Bytes& f) { agn_store_u32le(entry(f, 0) + 4, 8); }, AGN_ERR_CORRUPT, "section 0");
  expect_rejected([](Bytes& f) { agn_store_u32le(entry(f, 0), 99); }, AGN_ERR_CORRUPT, "unknown type 99");
  // LOCAL (entry 5) turned into a second SPLIT; RANS (entry 7) turned into a layer; LOCAL missing.
  expect_rejected([](Bytes& f) { agn_store_u32le(entry(f, 5), AGN_SECTION_SPLIT); }, AGN_ERR_CORRUPT,
                  "second section");
  expect_rejected([](Bytes& f) { agn_store_u32le(entry(f, 7), AGN_SECTION_LAYER); }, AGN_ERR_CORRUPT, "layer 4");
  expect_rejected(
      [](Bytes& f) {
        agn_store_u32le(entry(f, 8), 0x7F);  // metadata out of the way
        agn_store_u32le(entry(f, 5), AGN_SECTION_METADATA);
        agn_store_u32le(entry(f, 8), AGN_SECTION_RANS);
      },
      AGN_ERR_CORRUPT, "second section");
}

TEST(ModelLoad, ShapesAndParametersThatDoNotFit) {
  // Layer fields: 0 op, 1 kernel, 2 stride, 3 padding, 4.. in h/w/c, 10.. out h/w/c, 16 zp, 20 min, 24 max.
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_LAYER, 1) + 8, 4); }, AGN_ERR_CORRUPT,
                  "layer 1: input");
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_LAYER, 0) + 10, 31); }, AGN_ERR_CORRUPT,
                  "layer 0: output");
  expect_rejected([](Bytes& f) { section(f, AGN_SECTION_LAYER, 1)[1] = 3; }, AGN_ERR_CORRUPT, "not a valid layer");
  expect_rejected([](Bytes& f) { section(f, AGN_SECTION_LAYER, 0)[3] = 3; }, AGN_ERR_CORRUPT, "not a valid layer");
  expect_rejected([](Bytes& f) { section(f, AGN_SECTION_LAYER, 0)[0] = 7; }, AGN_ERR_CORRUPT, "not a valid layer");
  expect_rejected([](Bytes& f) { section(f, AGN_SECTION_LAYER, 2)[2] = 2; }, AGN_ERR_CORRUPT, "layer 2: output");
  expect_rejected([](Bytes& f) { agn_store_u32le(section(f, AGN_SECTION_LAYER, 2) + 16, 200); }, AGN_ERR_CORRUPT,
                  "zero point 200");
  expect_rejected([](Bytes& f) { agn_store_u32le(section(f, AGN_SECTION_LAYER, 3) + 20, 100); }, AGN_ERR_CORRUPT,
                  "clamp 100..");
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_LAYER, 3) + 14, 25); }, AGN_ERR_CORRUPT,
                  "layer 3:");
  // pw2 (24 out channels, 4 inputs): weights 96, bias at 32 + 96, multipliers at +96, shifts at +192.
  expect_rejected([](Bytes& f) { agn_store_u32le(section(f, AGN_SECTION_LAYER, 3) + 128 + 96, 5); },
                  AGN_ERR_CORRUPT, "multiplier[0] = 5");
  expect_rejected([](Bytes& f) { agn_store_u32le(section(f, AGN_SECTION_LAYER, 3) + 128 + 192 + 4, 31); },
                  AGN_ERR_CORRUPT, "shift[1] = 31");
  expect_rejected([](Bytes& f) { agn_store_u32le(section(f, AGN_SECTION_LAYER, 3) + 128, 0x7FFF0000u); },
                  AGN_ERR_CORRUPT, "overflow");
  // Split: k, levels, alpha, thresholds.
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_SPLIT), 24); }, AGN_ERR_CORRUPT, "k = 24");
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_SPLIT), 6); }, AGN_ERR_CORRUPT, "LOCAL");
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_SPLIT) + 2, 9); }, AGN_ERR_CORRUPT,
                  "SPLIT section");
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_SPLIT) + 2, 17); }, AGN_ERR_CORRUPT,
                  "17 levels; the device holds a symbol in 4 bits, so at most 16");
  expect_rejected([](Bytes& f) { agn_store_u32le(section(f, AGN_SECTION_SPLIT) + 4, std::bit_cast<uint32_t>(1.5f)); },
                  AGN_ERR_CORRUPT, "alpha");
  expect_rejected(
      [](Bytes& f) {
        uint8_t* t = section(f, AGN_SECTION_SPLIT) + 8;
        t[3] = static_cast<uint8_t>(static_cast<int8_t>(t[2]) == -128 ? 0 : static_cast<int8_t>(t[2]) - 1);
        t[2] = static_cast<uint8_t>(static_cast<int8_t>(t[3]) + 1);  // t[2] > t[3]
      },
      AGN_ERR_CORRUPT, "threshold 3");
  // Local: classes and pooling multiplier.
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_LOCAL) + 2, 11); }, AGN_ERR_CORRUPT,
                  "LOCAL section");
  expect_rejected([](Bytes& f) { agn_store_u32le(section(f, AGN_SECTION_LOCAL) + 4, 12345); }, AGN_ERR_CORRUPT,
                  "LOCAL pooling");
  // RANS tables for the wrong channel count: the rANS model's own size and CRC no longer match.
  expect_rejected([](Bytes& f) { agn_store_u16le(section(f, AGN_SECTION_RANS) + 8, 18); }, AGN_ERR_CORRUPT,
                  "RANS section: not a rANS model");
}

TEST(ModelLoad, WriterRejectsWhatTheLoaderRejects) {
  auto spec = random_model({}, 8);
  spec.split.k = 24;
  spec.local.in_channels = 24;
  spec.local.weights.resize(240);
  try {
    write_model(spec);
    ADD_FAILURE() << "write_model accepted k = C";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("k = 24"), std::string::npos) << e.what();
  }
}

}  // namespace
