#include "export/infer.h"

#include <torch/torch.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "codec/lzw.h"
#include "codec/pack.h"
#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "device/device_model.h"
#include "device/runtime.h"
#include "export/exporter.h"
#include "host/file_io.h"
#include "host/progress.h"
#include "train/backend.h"
#include "train/run.h"

namespace agilenn::exporter {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kZstdLevel = 19;  // zstd's strongest regular level
constexpr int kGzipLevel = 9;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

uint64_t clock_ns(void*) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

// The device runtime over a model file held in memory, with an arena for every device codec.
class Device {
 public:
  explicit Device(const fs::path& path) : bytes_(read_file(path)) {
    if (agn_model_load(&model_, bytes_.data(), bytes_.size()) != AGN_OK) {
      throw std::runtime_error(path.string() + ": " + model_.error);
    }
    size_t size = 0;
    if (agn_runtime_arena_size(&model_, AGN_CODECS_ALL, &size) != AGN_OK) {
      throw std::runtime_error(path.string() + ": the runtime cannot size an arena for it (no RANS section?)");
    }
    arena_.resize((size + 3) / 4);
    if (agn_runtime_init(&runtime_, &model_, AGN_CODECS_ALL, nullptr, arena_.data(), arena_.size() * 4) != AGN_OK) {
      throw std::runtime_error(path.string() + ": " + runtime_.error);
    }
    agn_runtime_set_clock(&runtime_, clock_ns, nullptr);
  }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const agn_model& model() const { return model_; }
  const agn_stage_ticks& ticks() const { return runtime_.ticks; }

  void run(const std::vector<uint8_t>& image, std::vector<int8_t>& logits) {
    logits.resize(model_.local.classes);
    check(agn_runtime_run(&runtime_, image.data(), image.size(), logits.data(), logits.size()), "run");
  }
  // The last run's symbols, one per byte (the runtime holds them 4 bits each).
  std::vector<uint8_t> symbols() const {
    std::vector<uint8_t> out(model_.symbol_count);
    agn_symbol_map_unpack(agn_runtime_symbols(&runtime_), model_.symbol_count / model_.feature_width,
                          model_.feature_width, out.data());
    return out;
  }
  std::vector<uint8_t> encode(agn_codec codec) {
    std::vector<uint8_t> out(agn_runtime_max_payload(&model_, codec));
    size_t written = 0;
    check(agn_runtime_encode(&runtime_, codec, out.data(), out.size(), &written), "encode");
    out.resize(written);
    return out;
  }

 private:
  void check(agn_status st, const char* what) {
    if (st != AGN_OK) throw std::runtime_error(std::string("device runtime ") + what + ": " + agn_status_str(st) + " " + runtime_.error);
  }
  std::vector<uint8_t> bytes_;
  agn_model model_{};
  std::vector<uint32_t> arena_;  // 4-byte aligned
  agn_runtime runtime_{};
};

// Decoders for every payload, to check that each one gives the symbols back.
class Decoders {
 public:
  explicit Decoders(const agn_model& m) : model_(m), lzw_(std::make_unique<agn_lzw_decoder>()), rans_(std::make_unique<agn_rans_model>()) {
    if (agn_rans_model_load(rans_.get(), m.rans, m.rans_size) != AGN_OK) throw std::runtime_error("model file: bad RANS section");
  }
  void check(const char* codec, const std::vector<uint8_t>& payload, const uint8_t* expected) {
    std::vector<uint8_t> out(model_.symbol_count);
    agn_status st = AGN_OK;
    const std::string name = codec;
    if (name == "raw") {
      st = agn_unpack_symbols(payload.data(), payload.size(), model_.levels, out.data(), out.size());
    } else if (name == "lzw_fixed" || name == "lzw_variable") {
      size_t written = 0;
      st = agn_lzw_decode(lzw_.get(), model_.levels, name == "lzw_fixed" ? AGN_LZW_FIXED : AGN_LZW_VARIABLE, payload.data(),
                          payload.size(), out.data(), out.size(), &written);
      if (st == AGN_OK && written != out.size()) st = AGN_ERR_TRUNCATED;
    } else if (name == "rans") {
      st = agn_rans_decode(rans_.get(), payload.data(), payload.size(), out.data(), out.size());
    } else if (name == "zstd") {
      const size_t n = ZSTD_decompress(out.data(), out.size(), payload.data(), payload.size());
      if (ZSTD_isError(n) || n != out.size()) st = AGN_ERR_CORRUPT;
    } else if (name == "gzip") {
      z_stream z{};
      inflateInit2(&z, 15 + 16);
      z.next_in = const_cast<Bytef*>(payload.data());
      z.avail_in = static_cast<uInt>(payload.size());
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      if (inflate(&z, Z_FINISH) != Z_STREAM_END || z.avail_out != 0) st = AGN_ERR_CORRUPT;
      inflateEnd(&z);
    }
    if (st != AGN_OK || !std::equal(out.begin(), out.end(), expected)) {
      throw std::runtime_error(name + " payload of " + std::to_string(payload.size()) +
                               " bytes does not decode to the symbols it encoded (" + agn_status_str(st) + ")");
    }
  }

 private:
  const agn_model& model_;
  std::unique_ptr<agn_lzw_decoder> lzw_;
  std::unique_ptr<agn_rans_model> rans_;
};

std::vector<uint8_t> zstd_compress(const uint8_t* data, size_t n) {
  std::vector<uint8_t> out(ZSTD_compressBound(n));
  const size_t written = ZSTD_compress(out.data(), out.size(), data, n, kZstdLevel);
  if (ZSTD_isError(written)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(written));
  out.resize(written);
  return out;
}

std::vector<uint8_t> gzip_compress(const uint8_t* data, size_t n) {
  z_stream z{};
  if (deflateInit2(&z, kGzipLevel, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib: deflateInit2");
  std::vector<uint8_t> out(deflateBound(&z, static_cast<uLong>(n)));
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(n);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int st = deflate(&z, Z_FINISH);
  deflateEnd(&z);
  if (st != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
  out.resize(out.size() - z.avail_out);
  return out;
}

train::TrainConfig read_config(const fs::path& path) {
  if (!fs::exists(path)) throw std::runtime_error(path.string() + ": not found (is this a folder written by agilenn export?)");
  try {
    return train::config_from_json(nlohmann::json::parse(read_text_file(path)));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
}

// The float network of the export folder: the device half from float_device.pt, the Remote NN
// from remote.pt.
train::AgileNet load_float_network(const fs::path& dir, const train::TrainConfig& c, int classes) {
  train::AgileNet net(train::agile_options(c, classes));
  const auto load = [](const fs::path& path, const std::vector<std::pair<std::string, torch::nn::Module*>>& modules) {
    if (!fs::exists(path)) throw std::runtime_error(path.string() + ": not found");
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(path.string());
      for (const auto& [name, m] : modules) {
        torch::serialize::InputArchive sub;
        archive.read(name, sub);
        m->load(sub);
      }
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      throw std::runtime_error(path.string() + ": not the network train_config.json describes: " + what.substr(0, what.find('\n')));
    }
  };
  load(dir / "float_device.pt", float_device_modules(net));
  load(dir / "remote.pt", {{"remote", net->remote.ptr().get()}});
  net->eval();
  return net;
}

// --n takes evenly spaced images of the split: data sets often store the test images sorted by
// class, so the first n would be a biased sample.
std::vector<size_t> evenly_spaced(const std::vector<size_t>& test, int64_t count) {
  const size_t n = count > 0 ? std::min<size_t>(static_cast<size_t>(count), test.size()) : test.size();
  std::vector<size_t> images(n);
  for (size_t i = 0; i < n; ++i) images[i] = test[i * test.size() / n];
  return images;
}

template <typename T>
int64_t argmax(const T* v, size_t n) {
  return std::max_element(v, v + n) - v;
}

}  // namespace

std::vector<std::optional<std::vector<float>>> InProcessRemote::remote_logits(const std::vector<std::vector<uint8_t>>& payloads) {
  const size_t per = model_.symbols_per_image();
  std::vector<uint8_t> symbols(payloads.size() * per);
  for (size_t i = 0; i < payloads.size(); ++i) {
    const std::vector<uint8_t> s = model_.decode(payloads[i].data(), payloads[i].size());
    std::copy(s.begin(), s.end(), symbols.begin() + static_cast<std::ptrdiff_t>(i * per));
  }
  const std::vector<float> logits = model_.logits(symbols.data(), payloads.size());
  const size_t classes = static_cast<size_t>(model_.classes());
  std::vector<std::optional<std::vector<float>>> out;
  for (size_t i = 0; i < payloads.size(); ++i) {
    out.emplace_back(std::vector<float>(logits.begin() + static_cast<std::ptrdiff_t>(i * classes),
                                        logits.begin() + static_cast<std::ptrdiff_t>((i + 1) * classes)));
  }
  return out;
}

nlohmann::json InferReport::to_json() const {
  nlohmann::json bytes_j = nlohmann::json::object(), max_j = nlohmann::json::object();
  for (const CodecBytes& b : bytes) {
    bytes_j[b.name] = b.mean;
    max_j[b.name] = b.max;
  }
  nlohmann::json host = nlohmann::json::object(), device = nlohmann::json::object();
  for (const auto& [k, v] : host_ms) host[k] = v;
  for (const auto& [k, v] : device_ms) device[k] = v;
  return {{"accuracy",
           {{"final", final_accuracy}, {"local", local_accuracy}, {"remote", remote_accuracy}, {"float_final", float_final},
            {"float_local", float_local}, {"float_remote", float_remote}}},
          {"coder", "rans"},
          {"bytes_per_image", bytes_j},
          {"max_bytes", max_j},
          {"symbols_per_image", symbols_per_image},
          {"alpha", alpha},
          {"fallbacks", fallbacks},
          {"host_ms_per_image", host},
          {"device_ms_per_image", device},
          {"reference_codecs", {{"zstd_level", kZstdLevel}, {"gzip_level", kGzipLevel}, {"input", "one byte per symbol"}}},
          {"count", count}};
}

TestImages load_test_images(const InferOptions& o) {
  if (o.model_dir.empty()) throw std::invalid_argument("--model is required");
  if (o.count < 0) throw std::invalid_argument("--n must be 0 (all) or more");
  train::TrainConfig c = read_config(fs::path(o.model_dir) / "train_config.json");
  if (!o.data_dir.empty()) c.data_dir = o.data_dir;
  const train::RunData d = train::load_run_data(c);
  TestImages t;
  for (const size_t idx : evenly_spaced(d.test, o.count)) {
    t.images.push_back(device_image(d.test_set, idx));
    t.labels.push_back(d.test_set.labels[idx]);
  }
  return t;
}

InferReport run_infer(const InferOptions& o, RemoteBackend& backend) {
  if (o.model_dir.empty()) throw std::invalid_argument("--model is required");
  if (o.count < 0) throw std::invalid_argument("--n must be 0 (all) or more");
  if (o.batch < 1) throw std::invalid_argument("batch must be at least 1");
  const fs::path dir = o.model_dir;
  if (!fs::is_directory(dir)) throw std::runtime_error(dir.string() + ": not a folder (expected one written by agilenn export)");
  train::TrainConfig c = read_config(dir / "train_config.json");
  if (!o.data_dir.empty()) c.data_dir = o.data_dir;
  Device device(dir / "model.agnm");
  const agn_model& m = device.model();
  train::set_compute_threads(c.threads);
  const train::RunData d = train::load_run_data(c);
  if (d.test_set.height != m.input_height || d.test_set.width != m.input_width) {
    throw std::runtime_error((dir / "model.agnm").string() + ": the model takes " + std::to_string(m.input_height) + "x" +
                             std::to_string(m.input_width) + " images, the data set has " + std::to_string(d.test_set.height) +
                             "x" + std::to_string(d.test_set.width));
  }
  train::AgileNet net = load_float_network(dir, c, d.classes);
  Decoders decoders(m);

  const std::vector<size_t> images = evenly_spaced(d.test, o.count);
  const size_t n = images.size();
  const size_t classes = m.local.classes;
  static const char* kCodecs[] = {"raw", "lzw_fixed", "lzw_variable", "rans", "zstd", "gzip"};
  static const agn_codec kDeviceCodecs[] = {AGN_CODEC_RAW, AGN_CODEC_LZW_FIXED, AGN_CODEC_LZW_VARIABLE, AGN_CODEC_RANS};
  constexpr size_t kCodecCount = 6;
  std::vector<double> sum_bytes(kCodecCount, 0);
  std::vector<int64_t> max_bytes(kCodecCount, 0);
  std::vector<double> stage_ms(kCodecCount + 3, 0);  // device, each codec's encode, remote, float
  int64_t correct_final = 0, correct_local = 0, correct_remote = 0, answered = 0;
  int64_t float_final = 0, float_local = 0, float_remote = 0;
  const double alpha = m.alpha;

  Progress bar("infer", n, "img");
  for (size_t start = 0; start < n; start += static_cast<size_t>(o.batch)) {
    const size_t b = std::min(static_cast<size_t>(o.batch), n - start);
    std::vector<std::vector<float>> local(b);
    std::vector<std::vector<uint8_t>> payloads(b);
    std::vector<int8_t> logits;
    for (size_t i = 0; i < b; ++i) {
      const size_t idx = images[start + i];
      const std::vector<uint8_t> image = device_image(d.test_set, idx);
      auto t = Clock::now();
      device.run(image, logits);
      stage_ms[0] += ms_since(t);
      for (size_t j = 0; j < classes; ++j) local[i].push_back(m.local.logits_scale * static_cast<float>(logits[j] - m.local.logits_zero_point));
      correct_local += argmax(logits.data(), classes) == d.test_set.labels[idx];
      const std::vector<uint8_t> symbols = device.symbols();
      for (size_t k = 0; k < kCodecCount; ++k) {
        t = Clock::now();
        const std::vector<uint8_t> payload = k < 4 ? device.encode(kDeviceCodecs[k])
                                             : k == 4 ? zstd_compress(symbols.data(), symbols.size())
                                                      : gzip_compress(symbols.data(), symbols.size());
        stage_ms[1 + k] += ms_since(t);
        decoders.check(kCodecs[k], payload, symbols.data());
        sum_bytes[k] += static_cast<double>(payload.size());
        max_bytes[k] = std::max<int64_t>(max_bytes[k], static_cast<int64_t>(payload.size()));
        if (k == 3) payloads[i] = payload;
      }
    }
    auto t = Clock::now();
    const std::vector<std::optional<std::vector<float>>> remote = backend.remote_logits(payloads);
    stage_ms[kCodecCount + 1] += ms_since(t);
    if (remote.size() != b) throw std::runtime_error("remote backend answered " + std::to_string(remote.size()) + " of " + std::to_string(b) + " images");
    for (size_t i = 0; i < b; ++i) {
      const int32_t label = d.test_set.labels[images[start + i]];
      std::vector<float> final = local[i];
      if (remote[i] && remote[i]->size() == classes) {
        ++answered;
        correct_remote += argmax(remote[i]->data(), classes) == label;
        for (size_t j = 0; j < classes; ++j) final[j] = static_cast<float>(alpha * local[i][j] + (1 - alpha) * (*remote[i])[j]);
      }
      correct_final += argmax(final.data(), classes) == label;
    }
    t = Clock::now();
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor x = train::make_images(d.test_set, images.data() + start, b, d, nullptr, 0);
      const torch::Tensor y = train::make_labels(d.test_set, images.data() + start, b);
      const train::AgileOutput out = net->forward(x);
      float_final += out.final.argmax(1).eq(y).sum().item<int64_t>();
      float_local += out.local.argmax(1).eq(y).sum().item<int64_t>();
      float_remote += out.remote.argmax(1).eq(y).sum().item<int64_t>();
    }
    stage_ms[kCodecCount + 2] += ms_since(t);
    bar.add(b);
  }
  bar.finish();
  InferReport r;
  const double dn = static_cast<double>(std::max<size_t>(n, 1));
  for (size_t k = 0; k < kCodecCount; ++k) r.bytes.push_back({kCodecs[k], sum_bytes[k] / dn, max_bytes[k]});
  // "LZW" is the smaller of the two widths, as one choice for every image (a device sends one format).
  r.bytes.insert(r.bytes.begin() + 3, r.bytes[1].mean <= r.bytes[2].mean ? r.bytes[1] : r.bytes[2]);
  r.bytes[3].name = "lzw";
  static const char* kStages[] = {"device_run", "encode_raw", "encode_lzw_fixed", "encode_lzw_variable", "encode_rans",
                                  "zstd", "gzip", "remote", "float_pipeline"};
  for (size_t k = 0; k < stage_ms.size(); ++k) r.host_ms.emplace_back(kStages[k], stage_ms[k] / dn);
  const agn_stage_ticks& ticks = device.ticks();
  const double runs = std::max<double>(ticks.runs, 1) * 1e6;  // ns -> ms per run
  r.device_ms.emplace_back("input", static_cast<double>(ticks.input) / runs);
  static const char* kLayers[] = {"dw1", "pw1", "dw2", "pw2"};
  for (size_t l = 0; l < m.layer_count; ++l) {
    r.device_ms.emplace_back(m.layer_count == 4 ? kLayers[l] : "layer" + std::to_string(l), static_cast<double>(ticks.layer[l]) / runs);
  }
  r.device_ms.emplace_back("split", static_cast<double>(ticks.split) / runs);
  r.device_ms.emplace_back("local", static_cast<double>(ticks.local) / runs);
  r.count = static_cast<int64_t>(n);
  r.fallbacks = r.count - answered;
  r.final_accuracy = static_cast<double>(correct_final) / dn;
  r.local_accuracy = static_cast<double>(correct_local) / dn;
  r.remote_accuracy = answered > 0 ? static_cast<double>(correct_remote) / static_cast<double>(answered) : 0;
  r.float_final = static_cast<double>(float_final) / dn;
  r.float_local = static_cast<double>(float_local) / dn;
  r.float_remote = static_cast<double>(float_remote) / dn;
  r.alpha = alpha;
  r.symbols_per_image = m.symbol_count;
  return r;
}

}  // namespace agilenn::exporter
