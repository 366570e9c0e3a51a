#include "export/remote_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "codec/rans.h"
#include "export/exporter.h"
#include "host/file_io.h"

namespace agilenn::exporter {
namespace fs = std::filesystem;

namespace {

// The Remote NN for inference (the module's eval-mode function, rebuilt flat): every batch norm is
// folded into the convolution before it (with s = gamma / sqrt(var + eps): w' = w * s,
// b' = (b - mean) * s + beta; exact up to float rounding), ReLU6 is an in-place clamp, and activations are
// channels-last. At batch 1 most of the time is per-operator overhead (tens of µs per LibTorch
// call, more than most layers' arithmetic for one 32x32 image), so fewer calls and no temporaries
// make batch 1 cheaper; at larger batches the arithmetic dominates and channels-last lets oneDNN
// run the depthwise and 1x1 convolutions without reordering the activations (docs/wire.md).
struct FoldedConv {
  torch::Tensor weight, bias;  // bias is undefined for a convolution with no batch norm after it
  int64_t stride = 1, padding = 0, groups = 1;
  bool relu6 = false;
};

struct FoldedBlock {
  std::vector<FoldedConv> convs;
  bool residual = false;  // output = input + convs(input)
};

struct FoldedNet {
  std::vector<FoldedBlock> blocks;
  torch::Tensor fc_weight, fc_bias;

  torch::Tensor forward(torch::Tensor x) const {
    for (const FoldedBlock& block : blocks) {
      torch::Tensor y = x;
      for (const FoldedConv& c : block.convs) {
        y = torch::conv2d(y, c.weight, c.bias, c.stride, c.padding, 1, c.groups);
        if (c.relu6) y.clamp_(0, 6);
      }
      if (block.residual) y.add_(x);
      x = y;
    }
    return torch::linear(x.mean({2, 3}), fc_weight, fc_bias);
  }
};

// The Sequential child "block" of a module, or null.
std::shared_ptr<torch::nn::SequentialImpl> nested_block(const torch::nn::Module& m) {
  const auto children = m.named_children();
  const std::shared_ptr<torch::nn::Module>* block = children.find("block");
  return block ? std::dynamic_pointer_cast<torch::nn::SequentialImpl>(*block) : nullptr;
}

// Appends the layers of `seq` (Conv2d, BatchNorm2d, ReLU6 as nn::Functional) to `block`; nested
// modules (MobileNetV2's inverted residual blocks: one child Sequential "block") become blocks of
// their own, residual when their output has the input's shape (stride 1, same channels), as in
// MobileNetV2. load() checks the result against the module on a probe batch.
void fold_sequential(const torch::nn::Sequential& seq, FoldedNet& net, FoldedBlock& block) {
  for (const std::shared_ptr<torch::nn::Module>& child : seq->children()) {
    if (const auto* conv = child->as<torch::nn::Conv2d>()) {
      const auto& o = conv->options;
      const auto kernel = (*o.kernel_size())[0];
      if ((*o.kernel_size())[1] != kernel || (*o.stride())[0] != (*o.stride())[1] || (*o.dilation())[0] != 1 ||
          (*o.dilation())[1] != 1 || !holds_alternative<torch::ExpandingArray<2>>(o.padding()) ||
          (*get<torch::ExpandingArray<2>>(o.padding()))[0] != kernel / 2 ||
          (*get<torch::ExpandingArray<2>>(o.padding()))[1] != kernel / 2) {
        throw std::runtime_error("a convolution that is not square, strided alike in both axes and 'same'-padded");
      }
      block.convs.push_back({conv->weight.detach().clone(), o.bias() ? conv->bias.detach().clone() : torch::Tensor(),
                             (*o.stride())[0], kernel / 2, o.groups(), false});
    } else if (const auto* bn = child->as<torch::nn::BatchNorm2d>()) {
      if (block.convs.empty() || block.convs.back().relu6) throw std::runtime_error("a batch norm not right after a convolution");
      FoldedConv& c = block.convs.back();
      if (!bn->options.affine() || !bn->options.track_running_stats()) {
        throw std::runtime_error("a batch norm without affine parameters or running statistics");
      }
      const torch::Tensor scale = bn->weight.detach() / torch::sqrt(bn->running_var + bn->options.eps());
      const torch::Tensor shift = bn->bias.detach() - bn->running_mean * scale;
      c.weight = c.weight * scale.reshape({-1, 1, 1, 1});
      c.bias = c.bias.defined() ? c.bias * scale + shift : shift;
    } else if (child->as<torch::nn::Functional>()) {
      if (block.convs.empty()) throw std::runtime_error("an activation before any convolution");
      block.convs.back().relu6 = true;
    } else if (const std::shared_ptr<torch::nn::SequentialImpl> inner = nested_block(*child)) {
      if (!block.convs.empty()) net.blocks.push_back(std::move(block));
      block = {};
      fold_sequential(torch::nn::Sequential(inner), net, block);
      if (block.convs.empty()) throw std::runtime_error("an empty block");
      const FoldedConv& first = block.convs.front();
      block.residual = std::all_of(block.convs.begin(), block.convs.end(), [](const FoldedConv& c) { return c.stride == 1; }) &&
                       first.weight.size(1) * first.groups == block.convs.back().weight.size(0);
      net.blocks.push_back(std::move(block));
      block = {};
    } else {
      throw std::runtime_error("an unexpected layer '" + child->name() + "'");
    }
  }
}

FoldedNet fold(train::RemoteNN& module) {
  torch::NoGradGuard no_grad;
  FoldedNet net;
  FoldedBlock block;
  fold_sequential(module->body, net, block);
  if (!block.convs.empty()) net.blocks.push_back(std::move(block));
  for (FoldedBlock& b : net.blocks) {
    for (FoldedConv& c : b.convs) {
      c.weight = c.weight.contiguous(torch::MemoryFormat::ChannelsLast);
      if (c.bias.defined()) c.bias = c.bias.contiguous();
    }
  }
  net.fc_weight = module->fc->weight.detach().clone();
  net.fc_bias = module->fc->bias.detach().clone();
  return net;
}

constexpr const char* kFormat = "agilenn-remote";
constexpr int kVersion = 1;

template <typename T>
T field(const nlohmann::json& j, const char* key, const fs::path& file) {
  if (!j.contains(key)) throw std::runtime_error(file.string() + ": field '" + key + "' is missing");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file.string() + ": field '" + key + "' has the wrong type: " + e.what());
  }
}

}  // namespace

void save_remote_model(const fs::path& out, train::AgileNet& net, const train::TrainConfig& c,
                       const std::vector<std::string>& class_names, const std::vector<uint8_t>& rans_model,
                       int feature_height, int feature_width) {
  const train::AgileOptions& o = net->options();
  train::RemoteOptions r = o.remote;
  r.in_channels = o.extractor.out_channels - o.k;
  r.classes = o.classes;
  const torch::Tensor levels = net->quantizer->levels().detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const nlohmann::json j = {
      {"format", kFormat},
      {"version", kVersion},
      {"remote",
       {{"in_channels", r.in_channels}, {"classes", r.classes}, {"width", r.width}, {"blocks", r.blocks},
        {"strides", r.strides}, {"last_channels", r.last_channels}}},
      {"k", o.k},
      {"feature_channels", o.extractor.out_channels},
      {"feature_height", feature_height},
      {"feature_width", feature_width},
      {"levels", std::vector<float>(levels.data_ptr<float>(), levels.data_ptr<float>() + levels.numel())},
      {"alpha", net->alpha->forward().item<double>()},
      {"class_names", class_names},
      {"dataset", c.dataset},
      {"checkpoint", "remote.pt"},
      {"rans", "rans.bin"}};
  write_file_atomic(out / "remote.pt", [&](const fs::path& tmp) {
    torch::serialize::OutputArchive archive, sub;
    net->remote->save(sub);
    archive.write("remote", sub);
    archive.save_to(tmp.string());
  });
  write_file_atomic(out / "rans.bin", std::string_view(reinterpret_cast<const char*>(rans_model.data()), rans_model.size()));
  write_file_atomic(out / "remote.json", j.dump(2) + "\n");
}

struct RemoteModel::Impl {
  int k = 0, channels = 0, height = 0, width = 0, classes = 0;
  double alpha = 0;
  std::vector<float> levels;
  std::vector<std::string> class_names;
  FoldedNet net;  // read-only after load(): forward() may run on several threads at once
  std::vector<uint8_t> rans_bytes;  // rans.bin; `rans` points into it
  agn_rans_model rans{};
};

RemoteModel RemoteModel::load(const fs::path& dir) {
  const fs::path json_path = dir / "remote.json";
  if (!fs::exists(json_path)) {
    throw std::runtime_error(json_path.string() + ": not found (is " + dir.string() + " a folder written by agilenn export?)");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(json_path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(json_path.string() + ": not valid JSON: " + e.what());
  }
  if (field<std::string>(j, "format", json_path) != kFormat || field<int>(j, "version", json_path) != kVersion) {
    throw std::runtime_error(json_path.string() + ": not an agilenn-remote version " + std::to_string(kVersion) + " file");
  }
  auto impl = std::make_shared<Impl>();
  const nlohmann::json ro = field<nlohmann::json>(j, "remote", json_path);
  train::RemoteOptions r;
  r.in_channels = field<int>(ro, "in_channels", json_path);
  r.classes = field<int>(ro, "classes", json_path);
  r.width = field<double>(ro, "width", json_path);
  r.blocks = field<std::array<int, 7>>(ro, "blocks", json_path);
  r.strides = field<std::array<int, 7>>(ro, "strides", json_path);
  r.last_channels = field<int>(ro, "last_channels", json_path);
  impl->k = field<int>(j, "k", json_path);
  impl->channels = field<int>(j, "feature_channels", json_path) - impl->k;
  impl->height = field<int>(j, "feature_height", json_path);
  impl->width = field<int>(j, "feature_width", json_path);
  impl->classes = r.classes;
  impl->alpha = field<double>(j, "alpha", json_path);
  impl->levels = field<std::vector<float>>(j, "levels", json_path);
  impl->class_names = field<std::vector<std::string>>(j, "class_names", json_path);
  if (impl->channels != r.in_channels || impl->k < 1 || impl->height < 1 || impl->width < 1 || impl->levels.size() < 2 ||
      impl->levels.size() > AGN_RANS_MAX_LEVELS) {
    throw std::runtime_error(json_path.string() + ": inconsistent shapes (k, feature_channels, remote.in_channels, levels)");
  }
  const fs::path ckpt = dir / field<std::string>(j, "checkpoint", json_path);
  if (!fs::exists(ckpt)) throw std::runtime_error(ckpt.string() + ": not found");
  train::RemoteNN module(r);
  try {
    torch::serialize::InputArchive archive, sub;
    archive.load_from(ckpt.string());
    archive.read("remote", sub);
    std::map<std::string, std::vector<int64_t>> expected;
    for (const auto& p : module->named_parameters()) expected[p.key()] = p.value().sizes().vec();
    for (const auto& b : module->named_buffers()) expected[b.key()] = b.value().sizes().vec();
    module->load(sub);
    // Module::load replaces tensors without comparing shapes.
    for (const auto& p : module->named_parameters()) {
      if (p.value().sizes().vec() != expected[p.key()]) throw std::runtime_error("'" + p.key() + "' has another shape");
    }
    for (const auto& b : module->named_buffers()) {
      if (b.value().sizes().vec() != expected[b.key()]) throw std::runtime_error("'" + b.key() + "' has another shape");
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw std::runtime_error(ckpt.string() + ": not the Remote NN that remote.json describes: " + what.substr(0, what.find('\n')));
  }
  module->eval();
  try {
    impl->net = fold(module);
    // The folded network must compute the module's function (a probe batch of level values).
    torch::NoGradGuard no_grad;
    torch::manual_seed(0);
    const torch::Tensor levels = torch::tensor(impl->levels);
    const torch::Tensor probe = levels.index({torch::randint(static_cast<int64_t>(impl->levels.size()),
                                                             {2, impl->channels, impl->height, impl->width}, torch::kLong)});
    const torch::Tensor want = module->forward(probe);
    const torch::Tensor got = impl->net.forward(probe.contiguous(torch::MemoryFormat::ChannelsLast));
    const double tolerance = 1e-4 * (1 + want.abs().max().item<double>());
    if (!torch::allclose(got, want, 0, tolerance)) {
      throw std::runtime_error("the folded network differs from the module by " +
                               std::to_string((got - want).abs().max().item<double>()));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(ckpt.string() + ": cannot prepare the Remote NN for inference: " + e.what());
  }
  const fs::path rans_path = dir / field<std::string>(j, "rans", json_path);
  impl->rans_bytes = read_file(rans_path);
  const agn_status st = agn_rans_model_load(&impl->rans, impl->rans_bytes.data(), impl->rans_bytes.size());
  if (st != AGN_OK) throw std::runtime_error(rans_path.string() + ": not a rANS model: " + agn_status_str(st));
  if (impl->rans.channels != impl->channels || impl->rans.height != impl->height || impl->rans.width != impl->width ||
      impl->rans.levels != impl->levels.size()) {
    throw std::runtime_error(rans_path.string() + ": tables for " + std::to_string(impl->rans.channels) + "x" +
                             std::to_string(impl->rans.height) + "x" + std::to_string(impl->rans.width) + " maps of " +
                             std::to_string(impl->rans.levels) + " levels, remote.json says " + std::to_string(impl->channels) +
                             "x" + std::to_string(impl->height) + "x" + std::to_string(impl->width) + " of " +
                             std::to_string(impl->levels.size()));
  }
  RemoteModel m;
  m.impl_ = impl;
  return m;
}

int RemoteModel::k() const { return impl_->k; }
int RemoteModel::channels() const { return impl_->channels; }
int RemoteModel::height() const { return impl_->height; }
int RemoteModel::width() const { return impl_->width; }
int RemoteModel::levels() const { return static_cast<int>(impl_->levels.size()); }
int RemoteModel::classes() const { return impl_->classes; }
double RemoteModel::alpha() const { return impl_->alpha; }
const std::vector<float>& RemoteModel::level_values() const { return impl_->levels; }
const std::vector<std::string>& RemoteModel::class_names() const { return impl_->class_names; }
size_t RemoteModel::symbols_per_image() const {
  return static_cast<size_t>(impl_->channels) * static_cast<size_t>(impl_->height) * static_cast<size_t>(impl_->width);
}

std::vector<uint8_t> RemoteModel::decode(const uint8_t* payload, size_t size) const {
  std::vector<uint8_t> symbols(symbols_per_image());
  const agn_status st = agn_rans_decode(&impl_->rans, payload, size, symbols.data(), symbols.size());
  if (st != AGN_OK) throw std::runtime_error(std::string("rANS payload: ") + agn_status_str(st));
  return symbols;
}

std::vector<float> RemoteModel::logits(const uint8_t* symbols, size_t batch) const {
  const size_t channels = static_cast<size_t>(impl_->channels);
  const size_t plane = static_cast<size_t>(impl_->height) * static_cast<size_t>(impl_->width);
  const size_t levels = impl_->levels.size();
  for (size_t i = 0; i < batch * channels * plane; ++i) {
    if (symbols[i] >= levels) {
      throw std::invalid_argument("symbol " + std::to_string(symbols[i]) + " at " + std::to_string(i) + " is not below " +
                                  std::to_string(levels) + " levels");
    }
  }
  c10::InferenceMode inference;
  // Dequantised straight into the channels-last layout: image b, pixel p, channel c at
  // (b * plane + p) * channels + c; the symbols are channel-major per image.
  torch::Tensor x = torch::empty({static_cast<int64_t>(batch), impl_->channels, impl_->height, impl_->width},
                                 torch::TensorOptions().memory_format(torch::MemoryFormat::ChannelsLast));
  float* dst = x.data_ptr<float>();
  const float* value = impl_->levels.data();
  for (size_t b = 0; b < batch; ++b) {
    const uint8_t* image = symbols + b * channels * plane;
    float* out = dst + b * channels * plane;
    for (size_t c = 0; c < channels; ++c) {
      for (size_t p = 0; p < plane; ++p) out[p * channels + c] = value[image[c * plane + p]];
    }
  }
  const torch::Tensor y = impl_->net.forward(x).contiguous();
  return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

}  // namespace agilenn::exporter
