#include "modelfile/model_spec.h"

#include <gtest/gtest.h>

#include <bit>
#include <stdexcept>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/device_model.h"
#include "device/runtime.h"
#include "modelfile/c_source.h"

namespace {

using agilenn::modelfile::LayerOp;
using agilenn::modelfile::LayerSpec;
using agilenn::modelfile::ModelSpec;
using agilenn::modelfile::write_model;

// 4x4x3 input -> depthwise 3x3 -> pointwise 3->4; Local NN on k = 1 channel, 2 classes, L = 4.
ModelSpec tiny_spec() {
  ModelSpec s;
  s.input = {4, 4, 3, 0.5f, -3};
  LayerSpec dw;
  dw.op = LayerOp::depthwise;
  dw.kernel = 3;
  dw.stride = 1;
  dw.padding = 1;
  dw.in_height = dw.out_height = 4;
  dw.in_width = dw.out_width = 4;
  dw.in_channels = dw.out_channels = 3;
  dw.out_zero_point = 5;
  dw.out_scale = 0.25f;
  for (int i = 0; i < 27; ++i) dw.weights.push_back(static_cast<int8_t>(i - 13));
  dw.bias = {1, -2, 3};
  dw.multiplier = {1 << 30, 1 << 30, 0x7FFFFFFF};
  dw.shift = {0, -1, 2};
  LayerSpec pw;
  pw.in_height = pw.out_height = 4;
  pw.in_width = pw.out_width = 4;
  pw.in_channels = 3;
  pw.out_channels = 4;
  pw.out_zero_point = -128;
  pw.act_min = -128;
  pw.act_max = 40;
  pw.weights.assign(12, 7);
  pw.bias.assign(4, -9);
  pw.multiplier.assign(4, 1 << 30);
  pw.shift.assign(4, -3);
  s.layers = {dw, pw};
  s.local.in_channels = 1;
  s.local.classes = 2;
  s.local.pool_multiplier = 1 << 30;
  s.local.pool_shift = -4;
  s.local.weights = {3, -4};
  s.local.bias = {10, 20};
  s.local.multiplier = {1 << 30, 1 << 30};
  s.local.shift = {-1, -2};
  s.split.k = 1;
  s.split.levels = 4;
  s.split.alpha = 0.75f;
  s.split.thresholds = {-100, -20, 60};
  s.split.level_values = {0.0f, 1.0f, 2.0f, 3.0f};
  s.metadata = "{\"classes\":[\"a\",\"b\"]}";
  return s;
}

struct Section {
  uint32_t type, offset, size;
};

std::vector<Section> table(const std::vector<uint8_t>& f) {
  std::vector<Section> out;
  const unsigned n = agn_load_u16le(f.data() + AGN_MODEL_OFFSET_SECTION_COUNT);
  for (unsigned i = 0; i < n; ++i) {
    const uint8_t* e = f.data() + AGN_MODEL_HEADER_SIZE + AGN_MODEL_SECTION_ENTRY_SIZE * i;
    out.push_back({agn_load_u32le(e), agn_load_u32le(e + 4), agn_load_u32le(e + 8)});
  }
  return out;
}

TEST(ModelWriter, HeaderTableAndCrc) {
  const std::vector<uint8_t> f = write_model(tiny_spec());
  ASSERT_GE(f.size(), 64u);
  EXPECT_EQ(agn_load_u32le(f.data()), AGN_MODEL_MAGIC);
  EXPECT_EQ(f[0], 'A');
  EXPECT_EQ(f[3], 'M');
  EXPECT_EQ(agn_load_u16le(f.data() + AGN_MODEL_OFFSET_VERSION), AGN_MODEL_VERSION);
  EXPECT_EQ(agn_load_u32le(f.data() + AGN_MODEL_OFFSET_FILE_SIZE), f.size());
  EXPECT_EQ(agn_load_u32le(f.data() + AGN_MODEL_OFFSET_FLAGS), 0u);
  EXPECT_EQ(agn_load_u32le(f.data() + f.size() - 4), agn_crc32(f.data(), f.size() - 4));

  const std::vector<Section> t = table(f);
  const std::vector<uint32_t> types = {AGN_SECTION_INPUT, AGN_SECTION_LAYER, AGN_SECTION_LAYER,
                                       AGN_SECTION_LOCAL, AGN_SECTION_SPLIT, AGN_SECTION_METADATA};
  ASSERT_EQ(t.size(), types.size());
  uint32_t end = AGN_MODEL_HEADER_SIZE + AGN_MODEL_SECTION_ENTRY_SIZE * static_cast<uint32_t>(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(t[i].type, types[i]);
    EXPECT_EQ(t[i].offset % 4, 0u);
    EXPECT_GE(t[i].offset, end);
    end = t[i].offset + t[i].size;
  }
  EXPECT_LE(end, f.size() - 4);
  // Payload sizes from the documented formulas.
  EXPECT_EQ(t[0].size, 16u);
  EXPECT_EQ(t[1].size, 32u + 28u + 12u * 3u);  // 27 weights pad to 28
  EXPECT_EQ(t[2].size, 32u + 12u + 12u * 4u);
  EXPECT_EQ(t[3].size, 28u + 4u + 12u * 2u);
  EXPECT_EQ(t[4].size, 8u + 4u + 4u * 4u);
  EXPECT_EQ(t[5].size, tiny_spec().metadata.size());
}

TEST(ModelWriter, FieldsAtDocumentedOffsets) {
  const ModelSpec s = tiny_spec();
  const std::vector<uint8_t> f = write_model(s);
  const std::vector<Section> t = table(f);
  const uint8_t* in = f.data() + t[0].offset;
  EXPECT_EQ(agn_load_u16le(in), 4);
  EXPECT_EQ(agn_load_u16le(in + 4), 3);
  EXPECT_EQ(std::bit_cast<float>(agn_load_u32le(in + 8)), 0.5f);
  EXPECT_EQ(static_cast<int32_t>(agn_load_u32le(in + 12)), -3);

  const uint8_t* dw = f.data() + t[1].offset;
  EXPECT_EQ(dw[0], AGN_OP_DEPTHWISE);
  EXPECT_EQ(dw[1], 3);
  EXPECT_EQ(dw[3], 1);
  EXPECT_EQ(agn_load_u16le(dw + 14), 3);  // out_channels
  EXPECT_EQ(static_cast<int32_t>(agn_load_u32le(dw + 16)), 5);
  EXPECT_EQ(static_cast<int8_t>(dw[32]), -13);
  EXPECT_EQ(static_cast<int8_t>(dw[32 + 26]), 13);
  EXPECT_EQ(dw[32 + 27], 0);  // pad4
  EXPECT_EQ(static_cast<int32_t>(agn_load_u32le(dw + 60 + 4)), -2);             // bias[1]
  EXPECT_EQ(agn_load_u32le(dw + 60 + 12 + 8), 0x7FFFFFFFu);                    // multiplier[2]
  EXPECT_EQ(static_cast<int32_t>(agn_load_u32le(dw + 60 + 24 + 4)), -1);       // shift[1]

  const uint8_t* pw = f.data() + t[2].offset;
  EXPECT_EQ(static_cast<int32_t>(agn_load_u32le(pw + 24)), 40);  // act_max

  const uint8_t* split = f.data() + t[4].offset;
  EXPECT_EQ(agn_load_u16le(split), 1);
  EXPECT_EQ(agn_load_u16le(split + 2), 4);
  EXPECT_EQ(std::bit_cast<float>(agn_load_u32le(split + 4)), 0.75f);
  EXPECT_EQ(static_cast<int8_t>(split[8]), -100);
  EXPECT_EQ(static_cast<int8_t>(split[10]), 60);
  EXPECT_EQ(std::bit_cast<float>(agn_load_u32le(split + 12 + 12)), 3.0f);

  const std::string meta(f.begin() + t[5].offset, f.begin() + t[5].offset + t[5].size);
  EXPECT_EQ(meta, s.metadata);
}

TEST(ModelWriter, RejectsArraysThatDoNotMatchShapes) {
  const auto expect_error = [](ModelSpec s, const std::string& field) {
    try {
      write_model(s);
      ADD_FAILURE() << "no error for " << field;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  ModelSpec s = tiny_spec();
  s.layers[0].weights.pop_back();
  expect_error(s, "layers[0].weights");
  s = tiny_spec();
  s.layers[1].shift.push_back(0);
  expect_error(s, "layers[1].shift");
  s = tiny_spec();
  s.local.bias.clear();
  expect_error(s, "local.bias");
  s = tiny_spec();
  s.split.thresholds.push_back(100);
  expect_error(s, "split.thresholds");
  s = tiny_spec();
  s.input.zero_point = 128;
  expect_error(s, "input.zero_point");
  s = tiny_spec();
  s.layers[1].out_channels = 70000;
  expect_error(s, "layers[1].out_channels");
}

// The runtime's loader reads back what the writer wrote, and the writer stored its arena size.
TEST(ModelWriter, LoaderReadsTheSpecBack) {
  const ModelSpec s = tiny_spec();
  const std::vector<uint8_t> f = write_model(s);
  agn_model m;
  ASSERT_EQ(agn_model_load(&m, f.data(), f.size()), AGN_OK) << m.error;
  EXPECT_EQ(m.input_zero_point, -3);
  ASSERT_EQ(m.layer_count, 2);
  EXPECT_EQ(m.layers[0].op, AGN_OP_DEPTHWISE);
  EXPECT_EQ(m.layers[1].in_zero_point, 5);
  EXPECT_EQ(m.layers[1].act_max, 40);
  EXPECT_EQ(agn_i32_at(m.layers[0].shift, 2), 2);
  EXPECT_EQ(agn_i32_at(m.layers[1].bias, 3), -9);
  EXPECT_EQ(m.layers[0].weights[26], 13);
  EXPECT_EQ(m.local.pool_count, 16u);
  EXPECT_EQ(m.local.in_zero_point, -128);
  EXPECT_EQ(agn_i32_at(m.local.shift, 1), -2);
  EXPECT_EQ(m.k, 1);
  EXPECT_EQ(m.levels, 4);
  EXPECT_EQ(m.alpha, 0.75f);
  EXPECT_EQ(m.thresholds[1], -20);
  EXPECT_EQ(agn_f32_at(m.level_values, 3), 3.0f);
  EXPECT_EQ(m.symbol_count, 3u * 16);
  EXPECT_EQ(m.rans, nullptr);
  size_t arena = 0;
  ASSERT_EQ(agn_runtime_arena_size(&m, AGN_CODEC_BIT(AGN_CODEC_RAW) | AGN_CODEC_BIT(AGN_CODEC_LZW_FIXED) |
                                           AGN_CODEC_BIT(AGN_CODEC_LZW_VARIABLE), &arena), AGN_OK);
  EXPECT_EQ(m.stored_arena_size, arena);
}

TEST(CSource, DeclaresAndDefinesTheBytes) {
  const std::vector<uint8_t> f = write_model(tiny_spec());
  const auto src = agilenn::modelfile::generate_c_source(f, "agn_model", "agn_model.h", "test", "tiny");
  EXPECT_EQ(src.header.rfind("// Generated by test from tiny; do not edit.\n", 0), 0u);
  EXPECT_NE(src.header.find("#define AGN_MODEL_SIZE " + std::to_string(f.size()) + "u"), std::string::npos);
  EXPECT_NE(src.header.find("#define AGN_MODEL_ARENA_SIZE "), std::string::npos);
  EXPECT_NE(src.header.find("extern const uint8_t agn_model[AGN_MODEL_SIZE];"), std::string::npos);
  EXPECT_NE(src.source.find("#include \"agn_model.h\""), std::string::npos);
  EXPECT_NE(src.source.find("alignas(4) const uint8_t agn_model[AGN_MODEL_SIZE] = {\n    0x41, 0x47, 0x4e, 0x4d,"),
            std::string::npos);
  // Every byte appears once, in order.
  size_t count = 0;
  for (size_t p = src.source.find("0x"); p != std::string::npos; p = src.source.find("0x", p + 1)) ++count;
  EXPECT_EQ(count, f.size());
  EXPECT_THROW(agilenn::modelfile::generate_c_source(f, "9bad", "h.h", "t", "o"), std::invalid_argument);
  EXPECT_THROW(agilenn::modelfile::generate_c_source({1, 2}, "ok", "h.h", "t", "o"), std::invalid_argument);
}

}  // namespace
