// The exporter on a small AgileNN made here (random weights and batch-norm statistics, random
// images): the int8 simulation stays close to the float network, the device runtime equals the
// golden vectors bit for bit, and the remote half round-trips through its files.
#include "export/exporter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "device/device_model.h"
#include "device/runtime.h"
#include "export/golden.h"
#include "export/remote_model.h"
#include "export/simulate.h"
#include "modelfile/model_spec.h"
#include "support/format_writers.h"

namespace agilenn::exporter {
namespace {

constexpr int kSize = 12;  // image height and width
constexpr int kImages = 48;

train::TrainConfig small_config() {
  train::TrainConfig c = train::TrainConfig::preset_values("smoke");
  c.local_logit_bn = true;  // exercise the logits' batch-norm folding
  return c;
}

// Random weights with batch norms that are far from the identity, in eval mode.
train::AgileNet small_network(const train::TrainConfig& c) {
  torch::manual_seed(7);
  train::AgileNet net(train::agile_options(c, 10));
  torch::NoGradGuard no_grad;
  for (auto& bn : {net->extractor->bn1, net->extractor->bn2}) {
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-0.3, 0.6);
    bn->running_mean.uniform_(-0.5, 0.5);
    bn->running_var.uniform_(0.2, 2.0);
  }
  net->local->bn->weight.uniform_(0.5, 2.0);
  net->local->bn->bias.uniform_(-1, 1);
  net->local->bn->running_mean.uniform_(-0.5, 0.5);
  net->local->bn->running_var.uniform_(0.05, 0.5);
  for (const auto& m : net->remote->modules(/*include_self=*/false)) {  // folded by the server
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.3, 0.6);
      bn->running_mean.uniform_(-0.5, 0.5);
      bn->running_var.uniform_(0.2, 2.0);
    }
  }
  net->alpha->w.fill_(1.3);
  net->eval();
  return net;
}

// Smooth random images (a random colour gradient plus noise) and mean 128/255 so the input zero
// point is 0 and the folded normalisation is exact at the border too.
train::RunData small_data() {
  train::RunData d;
  data::ImageSet& s = d.train_set;
  s.height = s.width = kSize;
  s.channels = 3;
  s.classes = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < kImages; ++i) {
    const double base[3] = {u(rng), u(rng), u(rng)}, slope = u(rng) - 0.5;
    for (int p = 0; p < kSize * kSize; ++p) {
      for (int c = 0; c < 3; ++c) {
        const double v = 255 * (base[c] + slope * (p % kSize) / kSize) + 30 * (u(rng) - 0.5);
        s.pixels.push_back(static_cast<uint8_t>(std::clamp(v, 0.0, 255.0)));
      }
    }
    s.labels.push_back(i % 10);
  }
  d.test_set = s;
  for (size_t i = 0; i < static_cast<size_t>(kImages); ++i) d.train.push_back(i);
  d.test = d.train;
  d.mean = {128.0 / 255, 128.0 / 255, 128.0 / 255};
  d.std = {0.25, 0.3, 0.2};
  d.flip = false;
  d.classes = 10;
  return d;
}

struct Fixture : ::testing::Test {
  train::TrainConfig config = small_config();
  train::AgileNet net = small_network(config);
  train::RunData data = small_data();
  QuantizedNetwork q = quantize_network(net, data, data.train);
};

TEST_F(Fixture, SpecHasTheNetworkShapesAndFoldedInput) {
  const modelfile::ModelSpec& s = q.spec;
  EXPECT_EQ(s.input.zero_point, 0);  // round(255 * 128/255) - 128
  ASSERT_EQ(s.layers.size(), 4u);
  EXPECT_EQ(s.layers[3].out_channels, 24);
  EXPECT_EQ(s.split.k, config.k);
  EXPECT_EQ(s.split.thresholds.size(), static_cast<size_t>(config.levels - 1));
  EXPECT_TRUE(std::is_sorted(s.split.thresholds.begin(), s.split.thresholds.end()));
  EXPECT_NEAR(s.split.alpha, 1.0 / (1.0 + std::exp(-1.3 / config.alpha_temperature)), 1e-6);
  for (const auto& l : s.layers) {
    for (int32_t m : l.multiplier) EXPECT_TRUE(m == 0 || (m >= (1 << 30)));
  }
}

TEST_F(Fixture, IntegerSimulationStaysCloseToTheFloatNetwork) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = train::make_images(data.train_set, data.train.data(), kImages, data, nullptr, 0);
  const train::AgileOutput out = net->forward(x);
  const modelfile::LayerSpec& last = q.spec.layers.back();
  const double fscale = last.out_scale, lscale = q.spec.local.logits_scale;
  double feature_err = 0, feature_max = 0, logit_err = 0;
  int64_t same_symbols = 0, symbols = 0, same_class = 0;
  const torch::Tensor float_symbols = net->quantizer->symbols(out.features.narrow(1, config.k, 24 - config.k)).contiguous();
  for (int i = 0; i < kImages; ++i) {
    const Simulation sim = simulate(q.spec, data.train_set.image(static_cast<size_t>(i)));
    const torch::Tensor f = out.features[i].permute({1, 2, 0}).contiguous();  // HWC
    const float* fp = f.data_ptr<float>();
    for (size_t j = 0; j < sim.layers.back().size(); ++j) {
      const double e = std::fabs(fscale * (sim.layers.back()[j] - last.out_zero_point) - fp[j]);
      feature_err += e;
      feature_max = std::max(feature_max, e);
    }
    const int64_t* sp = float_symbols[i].data_ptr<int64_t>();
    for (size_t j = 0; j < sim.symbols.size(); ++j, ++symbols) same_symbols += sim.symbols[j] == sp[j];
    for (int j = 0; j < 10; ++j) {
      logit_err = std::max(logit_err, std::fabs(lscale * (sim.logits[static_cast<size_t>(j)] - q.spec.local.logits_zero_point) -
                                                out.local[i][j].item<double>()));
    }
    same_class += std::max_element(sim.logits.begin(), sim.logits.end()) - sim.logits.begin() == out.local[i].argmax().item<int64_t>();
  }
  const double n = static_cast<double>(kImages) * kSize * kSize * 24;
  // Four requantised layers: the mean error is about one step of the feature scale.
  EXPECT_LT(feature_err / n, 1.5 * fscale) << "scale " << fscale;
  EXPECT_LT(feature_max, 12 * fscale);
  EXPECT_GT(static_cast<double>(same_symbols) / static_cast<double>(symbols), 0.9);
  EXPECT_LT(logit_err, 6 * lscale) << "logits scale " << lscale;
  EXPECT_GE(same_class, kImages * 8 / 10);
}

TEST_F(Fixture, RuntimeEqualsGoldenVectorsBitForBit) {
  const RansTables tables = learn_rans_tables(q.spec, data.train_set, data.train);
  EXPECT_GT(tables.events_per_image, 0.0);
  EXPECT_GE(tables.entropy_bytes, 0.0);
  q.spec.rans_model = tables.model;
  const std::vector<uint8_t> model_bytes = modelfile::write_model(q.spec);
  std::vector<GoldenImage> golden;
  for (size_t i = 0; i < 8; ++i) {
    GoldenImage g;
    g.label = static_cast<uint32_t>(data.train_set.labels[i]);
    g.input = device_image(data.train_set, i);
    g.expected = simulate(q.spec, g.input.data());
    golden.push_back(std::move(g));
  }
  const std::vector<GoldenImage> read_back = read_golden(write_golden(golden));

  agn_model model{};
  ASSERT_EQ(agn_model_load(&model, model_bytes.data(), model_bytes.size()), AGN_OK) << model.error;
  size_t arena_size = 0;
  ASSERT_EQ(agn_runtime_arena_size(&model, AGN_CODECS_ALL, &arena_size), AGN_OK);
  std::vector<uint32_t> arena((arena_size + 3) / 4);
  agn_runtime rt{};
  ASSERT_EQ(agn_runtime_init(&rt, &model, AGN_CODECS_ALL, nullptr, arena.data(), arena.size() * 4), AGN_OK) << rt.error;
  auto rans = std::make_unique<agn_rans_model>();  // a view of tables.model
  ASSERT_EQ(agn_rans_model_load(rans.get(), tables.model.data(), tables.model.size()), AGN_OK);
  for (const GoldenImage& g : read_back) {
    std::vector<int8_t> logits(10);
    ASSERT_EQ(agn_runtime_run(&rt, g.input.data(), g.input.size(), logits.data(), logits.size()), AGN_OK) << rt.error;
    EXPECT_EQ(logits, g.expected.logits);
    ASSERT_EQ(model.symbol_count, g.expected.symbols.size());
    std::vector<uint8_t> symbols(model.symbol_count);  // the runtime's symbol map, one per byte
    agn_symbol_map_unpack(agn_runtime_symbols(&rt), model.symbol_count / model.feature_width, model.feature_width,
                          symbols.data());
    EXPECT_EQ(symbols, g.expected.symbols);
    // The device's rANS payload decodes with the exported tables to the same symbols.
    std::vector<uint8_t> payload(agn_runtime_max_payload(&model, AGN_CODEC_RANS));
    size_t written = 0;
    ASSERT_EQ(agn_runtime_encode(&rt, AGN_CODEC_RANS, payload.data(), payload.size(), &written), AGN_OK);
    std::vector<uint8_t> decoded(g.expected.symbols.size());
    ASSERT_EQ(agn_rans_decode(rans.get(), payload.data(), written, decoded.data(), decoded.size()), AGN_OK);
    EXPECT_EQ(decoded, g.expected.symbols);
  }
}

TEST_F(Fixture, RemoteModelRoundTripsThroughItsFiles) {
  testing::TempDir dir;
  const RansTables tables = learn_rans_tables(q.spec, data.train_set, data.train);
  save_remote_model(dir.path(), net, config, data.train_set.classes, tables.model, kSize, kSize);
  const RemoteModel remote = RemoteModel::load(dir.path());
  EXPECT_EQ(remote.k(), config.k);
  EXPECT_EQ(remote.channels(), 24 - config.k);
  EXPECT_EQ(remote.symbols_per_image(), static_cast<size_t>((24 - config.k) * kSize * kSize));
  const Simulation a = simulate(q.spec, data.train_set.image(0)), b = simulate(q.spec, data.train_set.image(1));
  std::vector<uint8_t> symbols = a.symbols;
  symbols.insert(symbols.end(), b.symbols.begin(), b.symbols.end());
  const std::vector<float> logits = remote.logits(symbols.data(), 2);
  // The same symbols through the float Remote NN of the network in memory.
  torch::NoGradGuard no_grad;
  const torch::Tensor levels = net->quantizer->levels();
  const torch::Tensor idx = torch::from_blob(symbols.data(), {2, 24 - config.k, kSize, kSize}, torch::kUInt8).to(torch::kLong);
  const torch::Tensor expected = net->remote->forward(levels.index({idx})).contiguous();
  ASSERT_EQ(logits.size(), 20u);
  // The server's network has the batch norms folded into the convolutions: equal up to rounding.
  const float scale = 1 + expected.abs().max().item<float>();
  for (size_t i = 0; i < 20; ++i) EXPECT_NEAR(logits[i], expected.data_ptr<float>()[i], 1e-5f * scale);

  // decode() inverts the device's encoder; damage is an error, not a crash.
  auto model = std::make_unique<agn_rans_model>();
  ASSERT_EQ(agn_rans_model_load(model.get(), tables.model.data(), tables.model.size()), AGN_OK);
  std::vector<uint8_t> payload(agn_rans_max_encoded_size(model.get()));
  size_t written = 0;
  std::vector<uint8_t> map(agn_symbol_map_size(size_t{model->channels} * model->height, model->width));
  ASSERT_EQ(agn_symbol_map_pack(a.symbols.data(), size_t{model->channels} * model->height, model->width, map.data()), AGN_OK);
  ASSERT_EQ(agn_rans_encode(model.get(), map.data(), map.size(), payload.data(), payload.size(), &written), AGN_OK);
  EXPECT_EQ(remote.decode(payload.data(), written), a.symbols);
  EXPECT_THROW(remote.decode(payload.data(), written - 1), std::runtime_error);
  symbols[5] = 200;
  EXPECT_THROW(remote.logits(symbols.data(), 1), std::invalid_argument);

  // A missing checkpoint or a damaged description is named.
  std::filesystem::remove(dir / "remote.pt");
  EXPECT_THROW(RemoteModel::load(dir.path()), std::runtime_error);
  EXPECT_THROW(RemoteModel::load(dir / "nowhere"), std::runtime_error);
}

}  // namespace
}  // namespace agilenn::exporter
