#include "export/remote_model.h"

#include <torch/torch.h>

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "codec/rans.h"
#include "export/exporter.h"
#include "host/file_io.h"

namespace agilenn::exporter {
namespace fs = std::filesystem;

struct RemoteModel::Impl {
  int k = 0, channels = 0, height = 0, width = 0, classes = 0;
  double alpha = 0;
  std::vector<float> levels;
  std::vector<std::string> class_names;
  mutable train::RemoteNN net{nullptr};  // forward() is not const; eval mode, no state changes
  std::vector<uint8_t> rans_bytes;  // rans.bin; `rans` points into it
  agn_rans_model rans{};
};

namespace {

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
  impl->net = train::RemoteNN(r);
  try {
    torch::serialize::InputArchive archive, sub;
    archive.load_from(ckpt.string());
    archive.read("remote", sub);
    std::map<std::string, std::vector<int64_t>> expected;
    for (const auto& p : impl->net->named_parameters()) expected[p.key()] = p.value().sizes().vec();
    for (const auto& b : impl->net->named_buffers()) expected[b.key()] = b.value().sizes().vec();
    impl->net->load(sub);
    // Module::load replaces tensors without comparing shapes.
    for (const auto& p : impl->net->named_parameters()) {
      if (p.value().sizes().vec() != expected[p.key()]) throw std::runtime_error("'" + p.key() + "' has another shape");
    }
    for (const auto& b : impl->net->named_buffers()) {
      if (b.value().sizes().vec() != expected[b.key()]) throw std::runtime_error("'" + b.key() + "' has another shape");
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw std::runtime_error(ckpt.string() + ": not the Remote NN that remote.json describes: " + what.substr(0, what.find('\n')));
  }
  impl->net->eval();
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
  const size_t per = symbols_per_image();
  torch::Tensor x = torch::empty({static_cast<int64_t>(batch), impl_->channels, impl_->height, impl_->width});
  float* dst = x.data_ptr<float>();
  const size_t levels = impl_->levels.size();
  for (size_t i = 0; i < batch * per; ++i) {
    if (symbols[i] >= levels) {
      throw std::invalid_argument("symbol " + std::to_string(symbols[i]) + " at " + std::to_string(i) + " is not below " +
                                  std::to_string(levels) + " levels");
    }
    dst[i] = impl_->levels[symbols[i]];
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor y = impl_->net->forward(x).contiguous();
  return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

}  // namespace agilenn::exporter
