#include "export/exporter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "codec/rans.h"
#include "common/byte_order.h"
#include "export/golden.h"
#include "export/quantize.h"
#include "export/remote_model.h"
#include "export/simulate.h"
#include "host/file_io.h"
#include "host/progress.h"
#include "modelfile/c_source.h"
#include "train/backend.h"

namespace agilenn::exporter {
namespace fs = std::filesystem;
using modelfile::LayerOp;
using modelfile::LayerSpec;

namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// A float tensor's range over the calibration images, and its per-channel mean (dim 1; over
// images and positions) for the next layer's bias correction.
struct Range {
  double min = INFINITY, max = -INFINITY;
  torch::Tensor channel_sum;
  double per_channel = 0;
  void add(const torch::Tensor& t) {
    min = std::min(min, t.min().item<double>());
    max = std::max(max, t.max().item<double>());
    const torch::Tensor s = (t.dim() == 4 ? t.sum({0, 2, 3}) : t.sum(0)).to(torch::kFloat64);
    channel_sum = channel_sum.defined() ? channel_sum + s : s;
    per_channel += static_cast<double>(t.numel() / t.size(1));
  }
  std::vector<double> channel_mean() const {
    const torch::Tensor m = (channel_sum / per_channel).contiguous();
    return std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  }
};

// The float network's tensors at each point the int8 model requantises.
struct FloatStages {
  torch::Tensor dw1, pw1, dw2, features, pooled, logits;
};

FloatStages float_stages(train::AgileNet& net, const torch::Tensor& x) {
  auto& e = net->extractor;
  FloatStages s;
  s.dw1 = e->dw1->forward(x);
  s.pw1 = torch::relu6(e->bn1->forward(e->pw1->forward(s.dw1)));
  s.dw2 = e->dw2->forward(s.pw1);
  s.features = torch::relu6(e->bn2->forward(e->pw2->forward(s.dw2)));
  const torch::Tensor local = s.features.narrow(1, 0, net->options().k);
  s.pooled = local.mean({2, 3});
  s.logits = net->local->forward(local);
  return s;
}

modelfile::QuantizedMultiplier checked_multiplier(double real, const std::string& where) {
  try {
    return modelfile::quantize_multiplier(real);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
}

// Quantises per-output-channel float weights (rows of `row` values, already folded) and biases
// for an input of scale `in_scale` and per-channel mean `in_mean` and an output with `out`. The
// bias absorbs the weights' rounding at the input's mean (rounding_bias_correction).
void fill_weights(LayerSpec& l, const std::vector<float>& rows, const std::vector<double>& bias, double in_scale,
                  const std::vector<double>& in_mean, const ActivationParams& out, const std::string& name) {
  const ChannelWeights w = quantize_per_channel(rows, l.out_channels);
  const std::vector<double> correction = rounding_bias_correction(rows, w, in_mean, l.op == LayerOp::depthwise);
  l.out_scale = static_cast<float>(out.scale);
  l.out_zero_point = out.zero_point;
  l.bias.clear();
  l.multiplier.clear();
  l.shift.clear();
  for (int c = 0; c < l.out_channels; ++c) {
    const double acc_scale = in_scale * w.scale[static_cast<size_t>(c)];
    l.bias.push_back(quantize_bias(bias[static_cast<size_t>(c)] + correction[static_cast<size_t>(c)], acc_scale));
    const modelfile::QuantizedMultiplier m = checked_multiplier(acc_scale / out.scale, name + " channel " + std::to_string(c));
    l.multiplier.push_back(m.multiplier);
    l.shift.push_back(m.shift);
  }
  l.weights = w.q;
}

LayerSpec layer_shape(LayerOp op, int kernel, int stride, int padding, int in_h, int in_w, int in_c, int out_c) {
  LayerSpec l;
  l.op = op;
  l.kernel = kernel;
  l.stride = stride;
  l.padding = padding;
  l.in_height = in_h;
  l.in_width = in_w;
  l.in_channels = in_c;
  l.out_height = (in_h + 2 * padding - kernel) / stride + 1;
  l.out_width = (in_w + 2 * padding - kernel) / stride + 1;
  l.out_channels = out_c;
  return l;
}

// Depthwise torch weight [C, 1, K, K] -> per-channel rows [c][ky*K + kx] scaled by row_scale[c].
std::vector<float> depthwise_rows(const torch::Tensor& w, const std::vector<double>& row_scale) {
  std::vector<float> v = to_vector(w);
  const size_t row = v.size() / row_scale.size();
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(v[i] * row_scale[i / row]);
  return v;
}

// Per-channel rows [c][tap] -> the file's depthwise layout [tap][c].
std::vector<int8_t> depthwise_layout(const std::vector<int8_t>& rows, int channels) {
  const size_t taps = rows.size() / static_cast<size_t>(channels);
  std::vector<int8_t> out(rows.size());
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    for (size_t t = 0; t < taps; ++t) out[t * static_cast<size_t>(channels) + c] = rows[c * taps + t];
  }
  return out;
}

// Pointwise weights [O, I, 1, 1] with batch norm folded: rows [o][i] * factor[o], bias[o].
void pointwise_folded(const torch::Tensor& w, const torch::nn::BatchNorm2d& bn, std::vector<float>& rows, std::vector<double>& bias) {
  const FoldedBatchNorm f = fold_batch_norm(to_vector(bn->weight), to_vector(bn->bias), to_vector(bn->running_mean),
                                            to_vector(bn->running_var), bn->options.eps());
  rows = to_vector(w);
  const size_t row = rows.size() / f.factor.size();
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(rows[i] * f.factor[i / row]);
  bias = f.bias;
}

TensorRange tensor_range(const std::string& name, const Range& r, const ActivationParams& p) {
  return {name, r.min, r.max, p.scale, p.zero_point};
}

void require_file(const fs::path& path, const std::string& what) {
  if (!fs::exists(path)) throw std::runtime_error(path.string() + ": not found (" + what + ")");
}

std::string op_name(LayerOp op) {
  switch (op) {
    case LayerOp::depthwise: return "depthwise";
    case LayerOp::pointwise: return "pointwise";
    case LayerOp::conv: return "conv";
  }
  return "?";
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::vector<std::pair<std::string, torch::nn::Module*>> float_device_modules(train::AgileNet& net) {
  return {{"extractor", net->extractor.ptr().get()},
          {"local", net->local.ptr().get()},
          {"quantizer", net->quantizer.ptr().get()},
          {"alpha", net->alpha.ptr().get()}};
}

std::vector<uint8_t> device_image(const data::ImageSet& set, size_t i) {
  const uint8_t* src = set.image(i);
  if (set.channels == 3) return std::vector<uint8_t>(src, src + set.image_bytes());
  const size_t px = static_cast<size_t>(set.height * set.width);
  std::vector<uint8_t> out(px * 3);
  for (size_t p = 0; p < px; ++p) {
    for (size_t c = 0; c < 3; ++c) out[p * 3 + c] = src[p * static_cast<size_t>(set.channels)];
  }
  return out;
}

QuantizedNetwork quantize_network(train::AgileNet& net, const train::RunData& d, const std::vector<size_t>& calibration) {
  if (calibration.empty()) throw std::invalid_argument("calibration needs at least one image");
  torch::NoGradGuard no_grad;
  net->eval();
  auto& e = net->extractor;
  const train::ExtractorOptions& eo = e->options();
  const int k = net->options().k, classes = net->options().classes;
  const data::ImageSet& set = d.train_set;

  // 1. Calibration: float ranges at every requantisation point.
  Range r_dw1, r_pw1, r_dw2, r_features, r_pooled, r_logits;
  {
    Progress bar("calibrate", calibration.size(), "img");
    const size_t batch = 256;
    for (size_t start = 0; start < calibration.size(); start += batch) {
      const size_t n = std::min(batch, calibration.size() - start);
      const FloatStages s = float_stages(net, train::make_images(set, calibration.data() + start, n, d, nullptr, 0));
      r_dw1.add(s.dw1);
      r_pw1.add(s.pw1);
      r_dw2.add(s.dw2);
      r_features.add(s.features);
      r_pooled.add(s.pooled);
      r_logits.add(s.logits);
      bar.add(n);
    }
  }
  QuantizedNetwork q;
  q.calibration_images = static_cast<int64_t>(calibration.size());
  modelfile::ModelSpec& spec = q.spec;

  // 2. Input: q = pixel - 128 at scale 1/255; the zero point is the average training pixel.
  double mean_of_means = 0;
  for (double m : d.mean) mean_of_means += m / static_cast<double>(d.mean.size());
  spec.input.height = set.height;
  spec.input.width = set.width;
  spec.input.channels = 3;
  spec.input.scale = static_cast<float>(1.0 / 255.0);
  spec.input.zero_point = static_cast<int32_t>(std::clamp(std::round(255.0 * mean_of_means) - 128.0, -128.0, 127.0));
  const double in_scale = spec.input.scale;
  q.ranges.push_back({"input", (-128.0 - spec.input.zero_point) / 255.0, (127.0 - spec.input.zero_point) / 255.0, in_scale,
                      spec.input.zero_point});

  // 3. dw1 with the normalisation folded in (per channel c: w / std_c, bias sum(w) * offset_c).
  const auto channel_stat = [&](const std::vector<double>& v, int c) { return v[v.size() == 1 ? 0 : static_cast<size_t>(c)]; };
  std::vector<double> inv_std(3), dw1_bias(3);
  const std::vector<float> dw1_w = to_vector(e->dw1->weight);
  const size_t taps = dw1_w.size() / 3;
  for (int c = 0; c < 3; ++c) {
    inv_std[static_cast<size_t>(c)] = 1.0 / channel_stat(d.std, c);
    double sum = 0;
    for (size_t t = 0; t < taps; ++t) sum += dw1_w[static_cast<size_t>(c) * taps + t];
    const double offset = ((spec.input.zero_point + 128.0) / 255.0 - channel_stat(d.mean, c)) / channel_stat(d.std, c);
    dw1_bias[static_cast<size_t>(c)] = sum * offset;
  }
  const int h = set.height, w = set.width;
  const ActivationParams p_dw1 = choose_activation_params(r_dw1.min, r_dw1.max);
  LayerSpec dw1 = layer_shape(LayerOp::depthwise, 3, eo.stride, 1, h, w, 3, 3);
  std::vector<double> in_mean(3);  // the input's real value: pixel / 255 - (zero point + 128) / 255
  for (int c = 0; c < 3; ++c) in_mean[static_cast<size_t>(c)] = channel_stat(d.mean, c) - (spec.input.zero_point + 128.0) / 255.0;
  fill_weights(dw1, depthwise_rows(e->dw1->weight, inv_std), dw1_bias, in_scale, in_mean, p_dw1, "dw1");
  dw1.weights = depthwise_layout(dw1.weights, 3);
  q.ranges.push_back(tensor_range("dw1", r_dw1, p_dw1));

  // 4. pw1 + bn1 + ReLU6.
  const ActivationParams p_pw1 = choose_activation_params(r_pw1.min, r_pw1.max);
  LayerSpec pw1 = layer_shape(LayerOp::pointwise, 1, 1, 0, dw1.out_height, dw1.out_width, 3, eo.mid_channels);
  std::vector<float> rows;
  std::vector<double> bias;
  pointwise_folded(e->pw1->weight, e->bn1, rows, bias);
  fill_weights(pw1, rows, bias, p_dw1.scale, r_dw1.channel_mean(), p_pw1, "pw1");
  const ActivationRange relu_pw1 = relu6_range(p_pw1);
  pw1.act_min = relu_pw1.min;
  pw1.act_max = relu_pw1.max;
  q.ranges.push_back(tensor_range("pw1", r_pw1, p_pw1));

  // 5. dw2 (no bias in the float network).
  const ActivationParams p_dw2 = choose_activation_params(r_dw2.min, r_dw2.max);
  LayerSpec dw2 = layer_shape(LayerOp::depthwise, 3, 1, 1, pw1.out_height, pw1.out_width, eo.mid_channels, eo.mid_channels);
  fill_weights(dw2, depthwise_rows(e->dw2->weight, std::vector<double>(static_cast<size_t>(eo.mid_channels), 1.0)),
               std::vector<double>(static_cast<size_t>(eo.mid_channels), 0.0), p_pw1.scale, r_pw1.channel_mean(), p_dw2, "dw2");
  dw2.weights = depthwise_layout(dw2.weights, eo.mid_channels);
  q.ranges.push_back(tensor_range("dw2", r_dw2, p_dw2));

  // 6. pw2 + bn2 + ReLU6: the feature map.
  const ActivationParams p_f = choose_activation_params(r_features.min, r_features.max);
  LayerSpec pw2 = layer_shape(LayerOp::pointwise, 1, 1, 0, dw2.out_height, dw2.out_width, eo.mid_channels, eo.out_channels);
  pointwise_folded(e->pw2->weight, e->bn2, rows, bias);
  fill_weights(pw2, rows, bias, p_dw2.scale, r_dw2.channel_mean(), p_f, "pw2");
  const ActivationRange relu_pw2 = relu6_range(p_f);
  pw2.act_min = relu_pw2.min;
  pw2.act_max = relu_pw2.max;
  q.ranges.push_back(tensor_range("pw2", r_features, p_f));
  spec.layers = {dw1, pw1, dw2, pw2};

  // 7. Local NN: pooling with its own scale, then dense with the logits' batch norm folded in.
  const ActivationParams p_pool = choose_activation_params(r_pooled.min, r_pooled.max);
  const ActivationParams p_logits = choose_activation_params(r_logits.min, r_logits.max);
  auto& local = spec.local;
  local.in_channels = k;
  local.classes = classes;
  const int64_t plane = static_cast<int64_t>(pw2.out_height) * pw2.out_width;
  const modelfile::QuantizedMultiplier pool_m = checked_multiplier(p_f.scale / (static_cast<double>(plane) * p_pool.scale), "pooling");
  local.pool_multiplier = pool_m.multiplier;
  local.pool_shift = pool_m.shift;
  local.pool_zero_point = p_pool.zero_point;
  local.pool_scale = static_cast<float>(p_pool.scale);
  local.logits_zero_point = p_logits.zero_point;
  local.logits_scale = static_cast<float>(p_logits.scale);
  std::vector<float> fc_w = to_vector(net->local->fc->weight);
  std::vector<double> fc_b;
  for (float b : to_vector(net->local->fc->bias)) fc_b.push_back(b);
  if (net->local->bn) {
    const auto& bn = net->local->bn;
    const FoldedBatchNorm f = fold_batch_norm(to_vector(bn->weight), to_vector(bn->bias), to_vector(bn->running_mean),
                                              to_vector(bn->running_var), bn->options.eps());
    for (size_t i = 0; i < fc_w.size(); ++i) fc_w[i] = static_cast<float>(fc_w[i] * f.factor[i / static_cast<size_t>(k)]);
    for (size_t j = 0; j < fc_b.size(); ++j) fc_b[j] = fc_b[j] * f.factor[j] + f.bias[j];
  }
  const ChannelWeights fcq = quantize_per_channel(fc_w, classes);
  // The pooled means sit far from 0 next to their spread, so the weights' rounding at that mean
  // would shift each class's logit by a constant: the bias takes it back.
  const std::vector<double> fc_correction = rounding_bias_correction(fc_w, fcq, r_pooled.channel_mean(), false);
  local.weights = fcq.q;
  for (size_t j = 0; j < static_cast<size_t>(classes); ++j) {
    const double acc_scale = p_pool.scale * fcq.scale[j];
    local.bias.push_back(quantize_bias(fc_b[j] + fc_correction[j], acc_scale));
    const modelfile::QuantizedMultiplier m = checked_multiplier(acc_scale / p_logits.scale, "local dense class " + std::to_string(j));
    local.multiplier.push_back(m.multiplier);
    local.shift.push_back(m.shift);
  }
  q.ranges.push_back(tensor_range("pooled", r_pooled, p_pool));
  q.ranges.push_back(tensor_range("logits", r_logits, p_logits));

  // 8. The split and the feature quantiser's thresholds on the int8 features.
  auto& split = spec.split;
  split.k = k;
  split.levels = net->options().quantizer.levels;
  split.alpha = net->alpha->forward().item<float>();
  split.level_values = to_vector(net->quantizer->levels());
  for (size_t j = 0; j + 1 < split.level_values.size(); ++j) {
    const double mid = 0.5 * (static_cast<double>(split.level_values[j]) + split.level_values[j + 1]);
    split.thresholds.push_back(static_cast<int8_t>(std::clamp(std::ceil(mid / p_f.scale + p_f.zero_point), -128.0, 127.0)));
  }
  return q;
}

RansTables learn_rans_tables(const modelfile::ModelSpec& spec, const data::ImageSet& set, const std::vector<size_t>& images) {
  const LayerSpec& last = spec.layers.back();
  const unsigned remote = static_cast<unsigned>(last.out_channels - spec.split.k);
  const unsigned levels = static_cast<unsigned>(spec.split.levels);
  const unsigned threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<agn_rans_counts>> partial;
  for (unsigned t = 0; t < threads; ++t) {
    partial.push_back(std::make_unique<agn_rans_counts>());
    if (agn_rans_counts_init(partial.back().get(), levels, remote, static_cast<unsigned>(last.out_height),
                             static_cast<unsigned>(last.out_width)) != AGN_OK) {
      throw std::invalid_argument("rANS tables: " + std::to_string(remote) + " channels of " + std::to_string(levels) +
                                  " levels exceed the coder's limits (codec/rans.h)");
    }
  }
  {
    Progress bar("rANS tables", images.size(), "img");
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (size_t i = t; i < images.size(); i += threads) {
          const Simulation sim = simulate(spec, device_image(set, images[i]).data());
          agn_rans_counts_add(partial[t].get(), sim.symbols.data(), sim.symbols.size());  // symbols < levels
          bar.add();
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  agn_rans_counts& counts = *partial[0];
  for (unsigned t = 1; t < threads; ++t) {
    for (unsigned c = 0; c < remote; ++c) {
      for (unsigned k = 0; k < AGN_RANS_RUN_CONTEXTS; ++k) {
        for (unsigned s = 0; s < AGN_RANS_RUN_SYMBOLS; ++s) counts.run[c][k][s] += partial[t]->run[c][k][s];
      }
      for (unsigned k = 0; k < AGN_RANS_VALUE_CONTEXTS; ++k) {
        for (unsigned s = 0; s + 1 < levels; ++s) counts.value[c][k][s] += partial[t]->value[c][k][s];
      }
    }
  }
  // Ideal cost of the events under their full contexts (before merging and 8-bit frequencies).
  double bits = 0, events = 0;
  auto add_entropy = [&](const uint32_t* n, unsigned size) {
    double total = 0;
    for (unsigned s = 0; s < size; ++s) total += n[s];
    events += total;
    for (unsigned s = 0; s < size; ++s) {
      if (n[s] > 0 && size > 1) bits -= n[s] * std::log2(n[s] / total);
    }
  };
  for (unsigned c = 0; c < remote; ++c) {
    for (unsigned k = 0; k < AGN_RANS_RUN_CONTEXTS; ++k) add_entropy(counts.run[c][k], AGN_RANS_RUN_SYMBOLS);
    for (unsigned k = 0; k < AGN_RANS_VALUE_CONTEXTS; ++k) add_entropy(counts.value[c][k], levels - 1);
  }
  RansTables r;
  const double n = images.empty() ? 1.0 : static_cast<double>(images.size());
  r.entropy_bytes = bits / 8.0 / n;
  r.events_per_image = events / n;
  r.model.resize(agn_rans_model_max_size(levels, remote));
  size_t written = 0;
  if (agn_rans_model_build(&counts, kRansMinEvents, r.model.data(), r.model.size(), &written) != AGN_OK) {
    throw std::runtime_error("rANS tables: cannot build the model");
  }
  r.model.resize(written);
  return r;
}

nlohmann::json ExportReport::to_json() const {
  nlohmann::json ranges_j = nlohmann::json::object();
  for (const TensorRange& r : ranges) {
    ranges_j[r.name] = {{"min", r.min}, {"max", r.max}, {"scale", r.scale}, {"zero_point", r.zero_point}};
  }
  nlohmann::json layers_j = nlohmann::json::array();
  for (const LayerReport& l : layers) {
    layers_j.push_back({{"name", l.name},
                        {"op", l.op},
                        {"in", {l.in_h, l.in_w, l.in_c}},
                        {"out", {l.out_h, l.out_w, l.out_c}},
                        {"macs", l.macs},
                        {"weight_bytes", l.weight_bytes}});
  }
  return {{"run", run},
          {"out", out},
          {"model_bytes", model_bytes},
          {"arena_bytes", arena_bytes},
          {"k", k},
          {"levels", levels},
          {"classes", classes},
          {"alpha", alpha},
          {"remote_channels", remote_channels},
          {"symbols_per_image", static_cast<int64_t>(remote_channels) * plane},
          {"input_zero_point", input_zero_point},
          {"calibration", {{"images", calibration_images}, {"source", "training split, first images of the run's shuffled order"},
                           {"statistic", "min/max"}, {"ranges", ranges_j}}},
          {"rans", {{"images", table_images}, {"scale_bits", AGN_RANS_SCALE_BITS}, {"min_events", kRansMinEvents},
                    {"table_bytes", rans_table_bytes}, {"events_per_image", rans_events_per_image},
                    {"entropy_bytes", rans_entropy_bytes}}},
          {"golden_images", golden_images},
          {"layers", layers_j},
          {"macs", macs},
          {"seconds", seconds}};
}

ExportReport run_export(const ExportOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (o.run.empty()) throw std::invalid_argument("--run is required");
  if (o.out.empty()) throw std::invalid_argument("--out is required");
  if (o.calibration < 1) throw std::invalid_argument("--calibration must be at least 1, got " + std::to_string(o.calibration));
  if (o.table_images < 0) throw std::invalid_argument("--table-images must be 0 (all) or more");
  if (o.golden < 1) throw std::invalid_argument("--golden must be at least 1");
  const fs::path run = o.run, out = o.out;
  if (!fs::is_directory(run)) throw std::runtime_error(run.string() + ": not a folder (expected a run folder written by agilenn train)");
  require_file(run / "config.json", "is " + run.string() + " a run folder written by agilenn train?");
  require_file(run / "agilenn.pt", "the run's AgileNN stage has not finished");
  train::TrainConfig c;
  try {
    c = train::config_from_json(nlohmann::json::parse(read_text_file(run / "config.json")));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error((run / "config.json").string() + ": not valid JSON: " + e.what());
  }
  c.out = run.string();
  if (!o.data_dir.empty()) c.data_dir = o.data_dir;
  train::set_compute_threads(c.threads);
  const train::RunData d = train::load_run_data(c);
  train::AgileNet net = train::load_agilenn(run, c, d.classes);

  const std::vector<size_t> calibration(d.train.begin(), d.train.begin() + std::min<int64_t>(o.calibration, static_cast<int64_t>(d.train.size())));
  QuantizedNetwork q = quantize_network(net, d, calibration);
  const std::vector<size_t> table_idx(
      d.train.begin(), d.train.begin() + (o.table_images > 0 ? std::min<int64_t>(o.table_images, static_cast<int64_t>(d.train.size()))
                                                             : static_cast<int64_t>(d.train.size())));
  const RansTables tables = learn_rans_tables(q.spec, d.train_set, table_idx);
  q.spec.rans_model = tables.model;
  nlohmann::json meta = {{"run", fs::absolute(run).string()},
                         {"dataset", c.dataset},
                         {"classes", d.train_set.classes},
                         {"mean", d.mean},
                         {"std", d.std}};
  q.spec.metadata = meta.dump();
  const std::vector<uint8_t> model = modelfile::write_model(q.spec);

  std::vector<GoldenImage> golden;
  for (size_t i = 0; i < std::min<size_t>(static_cast<size_t>(o.golden), d.test.size()); ++i) {
    GoldenImage g;
    g.label = static_cast<uint32_t>(d.test_set.labels[d.test[i]]);
    g.input = device_image(d.test_set, d.test[i]);
    g.expected = simulate(q.spec, g.input.data());
    golden.push_back(std::move(g));
  }

  ExportReport r;
  r.run = run.string();
  r.out = out.string();
  r.model_bytes = static_cast<int64_t>(model.size());
  r.arena_bytes = agn_load_u32le(model.data() + AGN_MODEL_OFFSET_ARENA_SIZE);
  const LayerSpec& last = q.spec.layers.back();
  r.k = q.spec.split.k;
  r.levels = q.spec.split.levels;
  r.classes = q.spec.local.classes;
  r.alpha = q.spec.split.alpha;
  r.remote_channels = last.out_channels - r.k;
  r.plane = last.out_height * last.out_width;
  r.input_zero_point = q.spec.input.zero_point;
  r.calibration_images = q.calibration_images;
  r.table_images = static_cast<int64_t>(table_idx.size());
  r.golden_images = static_cast<int64_t>(golden.size());
  r.rans_entropy_bytes = tables.entropy_bytes;
  r.rans_events_per_image = tables.events_per_image;
  r.rans_table_bytes = static_cast<int64_t>(tables.model.size());
  r.ranges = q.ranges;
  static const char* kNames[] = {"dw1", "pw1", "dw2", "pw2"};
  for (size_t i = 0; i < q.spec.layers.size(); ++i) {
    const LayerSpec& l = q.spec.layers[i];
    const int64_t out_px = static_cast<int64_t>(l.out_height) * l.out_width;
    const int64_t per_px = l.op == LayerOp::depthwise ? static_cast<int64_t>(l.kernel) * l.kernel * l.out_channels
                                                      : static_cast<int64_t>(l.weights.size());
    r.layers.push_back({kNames[i], op_name(l.op), l.in_height, l.in_width, l.in_channels, l.out_height, l.out_width,
                        l.out_channels, out_px * per_px, static_cast<int64_t>(l.weights.size() + 12 * l.bias.size())});
  }
  // Pooling adds, it does not multiply: 0 MACs (as agn_model_count_macs counts).
  r.layers.push_back({"pool", "average", last.out_height, last.out_width, r.k, 1, 1, r.k, 0, 0});
  r.layers.push_back({"dense", "dense", 1, 1, r.k, 1, 1, r.classes, static_cast<int64_t>(r.k) * r.classes,
                      static_cast<int64_t>(q.spec.local.weights.size() + 12 * q.spec.local.bias.size())});
  for (const LayerReport& l : r.layers) r.macs += l.macs;

  fs::create_directories(out);
  write_file_atomic(out / "model.agnm", std::string_view(reinterpret_cast<const char*>(model.data()), model.size()));
  const modelfile::CSource src =
      modelfile::generate_c_source(model, "agilenn_model", "agilenn_model.h", "agilenn export", (run / "agilenn.pt").string());
  write_file_atomic(out / "agilenn_model.h", src.header);
  write_file_atomic(out / "agilenn_model.cpp", src.source);
  const std::vector<uint8_t> golden_bytes = write_golden(golden);
  write_file_atomic(out / "golden.bin", std::string_view(reinterpret_cast<const char*>(golden_bytes.data()), golden_bytes.size()));
  save_remote_model(out, net, c, d.train_set.classes, tables.model, last.out_height, last.out_width);
  write_file_atomic(out / "float_device.pt", [&](const fs::path& tmp) {
    torch::serialize::OutputArchive archive;
    for (const auto& [name, module] : float_device_modules(net)) {
      torch::serialize::OutputArchive sub;
      module->save(sub);
      archive.write(name, sub);
    }
    archive.save_to(tmp.string());
  });
  write_file_atomic(out / "train_config.json", train::to_json(c).dump(2) + "\n");
  r.seconds = seconds_since(start);
  write_file_atomic(out / "export.json", r.to_json().dump(2) + "\n");
  return r;
}

}  // namespace agilenn::exporter
