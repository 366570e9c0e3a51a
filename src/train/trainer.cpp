#include "train/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>

#include "host/file_io.h"
#include "host/progress.h"
#include "train/backend.h"
#include "train/channel_selection.h"
#include "train/data/dataset.h"
#include "train/local_refit.h"
#include "train/models.h"
#include "train/run.h"
#include "train/xai.h"

namespace agilenn::train {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

nlohmann::json EvalReport::to_json() const {
  return {{"accuracy",
           {{"final", final_accuracy}, {"local", local_accuracy}, {"remote", remote_accuracy},
            {"reference", reference_accuracy}}},
          {"skewness", skewness},
          {"disorder_rate", disorder_rate},
          {"alpha", alpha},
          {"entropy_bytes", entropy_bytes},
          {"count", count},
          {"channel_importance", channel_importance},
          {"disorder_weakest_local", disorder_weakest_local},
          {"disorder_strongest_remote", disorder_strongest_remote},
          {"dead_local_rate", dead_local_rate}};
}

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Data: the train split minus a held-out validation split, the test split, augmentation.

RunData load_run_data(const TrainConfig& c) {
  if (c.augment_pad_mode != "zero" && c.augment_pad_mode != "reflect") {
    throw std::invalid_argument("--augment-pad-mode must be zero or reflect, got '" + c.augment_pad_mode + "'");
  }
  std::optional<fs::path> dir;
  if (!c.data_dir.empty()) dir = c.data_dir;
  const data::DatasetLocation loc =
      data::locate_dataset(data::parse_dataset_kind(c.dataset), data::LocateOptions::from_environment(dir));
  std::fprintf(stderr, "dataset %s: %s layout at %s\n", data::dataset_name(loc.kind), data::format_name(loc.format),
               loc.root.string().c_str());
  RunData d;
  d.train_set = data::load_split(loc, data::Split::kTrain);
  d.test_set = data::load_split(loc, data::Split::kTest);
  d.classes = static_cast<int>(d.train_set.classes.size());
  d.flip = c.flip >= 0 ? c.flip == 1 : !(loc.kind == data::DatasetKind::kSvhn || loc.kind == data::DatasetKind::kIdx);
  d.reflect_pad = c.augment_pad_mode == "reflect";

  std::vector<size_t> order(d.train_set.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(c.seed ^ 0x5eed5eedULL);
  std::shuffle(order.begin(), order.end(), rng);
  int64_t val = c.val_count >= 0 ? c.val_count
                                 : (loc.kind == data::DatasetKind::kCifar10 ? 5000 : static_cast<int64_t>(order.size() / 10));
  val = std::min<int64_t>(val, static_cast<int64_t>(order.size()) - 1);
  d.val.assign(order.begin(), order.begin() + val);
  d.train.assign(order.begin() + val, order.end());
  if (c.train_limit > 0 && static_cast<size_t>(c.train_limit) < d.train.size()) d.train.resize(static_cast<size_t>(c.train_limit));
  std::sort(d.val.begin(), d.val.end());
  d.test.resize(d.test_set.size());
  std::iota(d.test.begin(), d.test.end(), size_t{0});
  if (c.test_limit > 0 && static_cast<size_t>(c.test_limit) < d.test.size()) {
    // A seeded sample: the test files come sorted by class.
    std::shuffle(d.test.begin(), d.test.end(), rng);
    d.test.resize(static_cast<size_t>(c.test_limit));
    std::sort(d.test.begin(), d.test.end());
  }

  // Normalisation statistics of the training images actually used.
  const size_t c_in = static_cast<size_t>(d.train_set.channels), px = d.train_set.image_bytes() / c_in;
  std::vector<double> sum(c_in, 0), sq(c_in, 0);
  for (size_t i : d.train) {
    const uint8_t* p = d.train_set.image(i);
    for (size_t k = 0; k < px; ++k) {
      for (size_t ch = 0; ch < c_in; ++ch) {
        const double v = p[k * c_in + ch] / 255.0;
        sum[ch] += v;
        sq[ch] += v * v;
      }
    }
  }
  const double n = static_cast<double>(d.train.size() * px);
  for (size_t ch = 0; ch < c_in; ++ch) {
    d.mean.push_back(sum[ch] / n);
    d.std.push_back(std::sqrt(std::max(sq[ch] / n - d.mean.back() * d.mean.back(), 1e-8)));
  }
  std::fprintf(stderr, "split: %zu train, %zu validation, %zu test images, %d classes\n", d.train.size(), d.val.size(),
               d.test.size(), d.classes);
  return d;
}

// A normalised NCHW float batch; with `rng` the images are shifted by up to `pad` pixels (black
// or mirrored borders, d.reflect_pad) and flipped at random.
torch::Tensor make_images(const data::ImageSet& set, const size_t* idx, size_t n, const RunData& d, std::mt19937_64* rng,
                          int pad) {
  const int h = set.height, w = set.width, cin = set.channels;
  torch::Tensor out = torch::empty({static_cast<int64_t>(n), 3, h, w});
  float* dst = out.data_ptr<float>();
  std::uniform_int_distribution<int> shift(-pad, pad);
  std::bernoulli_distribution coin(0.5);
  for (size_t b = 0; b < n; ++b) {
    const uint8_t* src = set.image(idx[b]);
    int dy = 0, dx = 0;
    bool flip = false;
    if (rng) {
      dy = shift(*rng);
      dx = shift(*rng);
      flip = d.flip && coin(*rng);
    }
    for (int ch = 0; ch < 3; ++ch) {
      const int sc = cin == 1 ? 0 : ch;
      const float scale = static_cast<float>(1.0 / (255.0 * d.std[static_cast<size_t>(sc)]));
      const float offset = static_cast<float>(d.mean[static_cast<size_t>(sc)] / d.std[static_cast<size_t>(sc)]);
      float* plane = dst + (b * 3 + static_cast<size_t>(ch)) * static_cast<size_t>(h * w);
      for (int y = 0; y < h; ++y) {
        const int sy = y + dy;
        for (int x = 0; x < w; ++x) {
          const int sx = (flip ? w - 1 - x : x) + dx;
          uint8_t v = 0;
          if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
            v = src[(sy * w + sx) * cin + sc];
          } else if (d.reflect_pad) {  // mirrored about the edge pixel (pad < image size)
            const int ry = sy < 0 ? -sy : sy >= h ? 2 * (h - 1) - sy : sy;
            const int rx = sx < 0 ? -sx : sx >= w ? 2 * (w - 1) - sx : sx;
            v = src[(ry * w + rx) * cin + sc];
          }
          plane[y * w + x] = static_cast<float>(v) * scale - offset;
        }
      }
    }
  }
  return out;
}

torch::Tensor make_labels(const data::ImageSet& set, const size_t* idx, size_t n) {
  torch::Tensor out = torch::empty({static_cast<int64_t>(n)}, torch::kLong);
  for (size_t b = 0; b < n; ++b) out[static_cast<int64_t>(b)] = set.labels[idx[b]];
  return out;
}

namespace {

// The shuffled training order of an epoch: a function of (seed, epoch) only, so a resumed run
// sees the same batches as an uninterrupted one.
std::vector<size_t> epoch_order(const std::vector<size_t>& train, uint64_t seed, int epoch) {
  std::vector<size_t> order = train;
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

// ---------------------------------------------------------------------------------------------
// Models from the configuration.

ExtractorOptions extractor_options(const TrainConfig& c) {
  return ExtractorOptions{3, c.extractor_mid, c.extractor_out, c.extractor_stride};
}

RemoteOptions remote_options(const TrainConfig& c, int classes) {
  RemoteOptions r;
  r.classes = classes;
  r.width = c.remote_width;
  r.blocks = c.remote_blocks;
  r.strides = c.remote_strides;
  return r;
}

ReferenceOptions reference_options(const TrainConfig& c, int classes) {
  return ReferenceOptions{c.extractor_out, classes, c.reference_width, c.reference_stride};
}

}  // namespace

AgileOptions agile_options(const TrainConfig& c, int classes) {
  AgileOptions o;
  o.extractor = extractor_options(c);
  o.k = c.k;
  o.classes = classes;
  o.local_logit_batch_norm = c.local_logit_bn;
  o.remote = remote_options(c, classes);
  o.quantizer = QuantizerOptions{c.levels, c.quant_softness};
  o.alpha_temperature = c.alpha_temperature;
  return o;
}

namespace {

// Per-channel learned symbol probabilities for the optional rate term: the bits the remote
// symbols would cost under this static model, estimated from soft assignments.
class RateModelImpl : public torch::nn::Module {
 public:
  RateModelImpl(int64_t channels, int64_t levels) {
    logits = register_parameter("logits", torch::zeros({channels, levels}));
  }
  // [C, L]: each symbol's cost in bits, -log2 of its probability.
  torch::Tensor cost() const { return torch::log_softmax(logits, 1) / -std::log(2.0); }
  torch::Tensor logits;
};
TORCH_MODULE(RateModel);

// ---------------------------------------------------------------------------------------------
// Checkpoints: named modules and optimisers plus scalar counters in one archive, written
// atomically.

struct Counters {
  int64_t epoch = 0;       // epochs completed
  int64_t step = 0;        // optimiser steps taken
  double elapsed_s = 0;    // training wall time so far
  double best = -1;        // best validation accuracy so far
};

void save_archive(const fs::path& path, const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
                  const std::vector<std::pair<std::string, torch::optim::Optimizer*>>& optimizers, const Counters& counters) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, m] : modules) {
    torch::serialize::OutputArchive sub;
    m->save(sub);
    archive.write(name, sub);
  }
  for (const auto& [name, o] : optimizers) {
    torch::serialize::OutputArchive sub;
    o->save(sub);
    archive.write(name, sub);
  }
  archive.write("counters", torch::tensor({static_cast<double>(counters.epoch), static_cast<double>(counters.step),
                                           counters.elapsed_s, counters.best},
                                          torch::kFloat64));
  write_file_atomic(path, [&](const fs::path& tmp) { archive.save_to(tmp.string()); });
}

Counters load_archive(const fs::path& path, const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
                      const std::vector<std::pair<std::string, torch::optim::Optimizer*>>& optimizers) {
  if (!fs::exists(path)) throw std::runtime_error(path.string() + ": not found");
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    for (const auto& [name, m] : modules) {
      // Module::load replaces tensors without comparing shapes: check them against the model.
      std::map<std::string, std::vector<int64_t>> expected;
      for (const auto& p : m->named_parameters()) expected[p.key()] = p.value().sizes().vec();
      for (const auto& b : m->named_buffers()) expected[b.key()] = b.value().sizes().vec();
      torch::serialize::InputArchive sub;
      archive.read(name, sub);
      m->load(sub);
      const auto check = [&](const std::string& key, const torch::Tensor& t) {
        if (t.sizes().vec() != expected[key]) {
          throw std::runtime_error(path.string() + ": not a checkpoint of this model: '" + name + "." + key + "' has shape " +
                                   c10::str(t.sizes()) + ", the model expects " + c10::str(c10::IntArrayRef(expected[key])) +
                                   " (saved with other options?)");
        }
      };
      for (const auto& p : m->named_parameters()) check(p.key(), p.value());
      for (const auto& b : m->named_buffers()) check(b.key(), b.value());
    }
    for (const auto& [name, o] : optimizers) {
      torch::serialize::InputArchive sub;
      archive.read(name, sub);
      o->load(sub);
    }
    torch::Tensor t;
    archive.read("counters", t);
    Counters c;
    c.epoch = static_cast<int64_t>(t[0].item<double>());
    c.step = static_cast<int64_t>(t[1].item<double>());
    c.elapsed_s = t[2].item<double>();
    c.best = t[3].item<double>();
    return c;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw std::runtime_error(path.string() + ": not a checkpoint of this model (corrupt, truncated, or saved with "
                                             "other options): " +
                             what.substr(0, what.find('\n')));
  }
}

// ---------------------------------------------------------------------------------------------
// The schedule: cosine learning rate over steps, or over wall time when a budget is set.

struct Schedule {
  int epochs;
  int64_t steps_per_epoch;
  double budget_s;
  double progress(int64_t step, double elapsed_s) const {
    if (budget_s > 0) return std::min(1.0, elapsed_s / budget_s);
    return std::min(1.0, static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, epochs * steps_per_epoch)));
  }
  bool done(int64_t epoch, double elapsed_s) const {
    return epoch >= epochs || (budget_s > 0 && elapsed_s >= budget_s);
  }
};

double cosine_lr(double base, double progress) { return base * 0.5 * (1.0 + std::cos(M_PI * progress)); }

void set_lr(torch::optim::SGD& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
}

torch::optim::SGD make_sgd(const std::vector<torch::Tensor>& params, const TrainConfig& c, double lr) {
  return torch::optim::SGD(params, torch::optim::SGDOptions(lr).momentum(c.momentum).weight_decay(c.weight_decay).nesterov(true));
}

void set_requires_grad(torch::nn::Module& m, bool on) {
  for (torch::Tensor& p : m.parameters()) p.requires_grad_(on);
}

// Appends one line to metrics.jsonl (append + flush: a killed run keeps every completed line).
void log_metrics(const fs::path& dir, const nlohmann::json& line) {
  std::ofstream out(dir / "metrics.jsonl", std::ios::app);
  out << line.dump() << "\n";
}

// A fresh (not resumed) run of some stages drops their earlier lines from metrics.jsonl and keeps
// the other stages' lines: `--stage plain` beside an AgileNN run must not erase its history.
void forget_metrics(const fs::path& dir, const std::vector<std::string>& stages) {
  const fs::path path = dir / "metrics.jsonl";
  if (!fs::exists(path)) return;
  std::istringstream in(read_text_file(path));
  std::string kept, line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    const bool drop = !j.is_discarded() && j.contains("stage") && j["stage"].is_string() &&
                      std::find(stages.begin(), stages.end(), j["stage"].get<std::string>()) != stages.end();
    if (!drop) kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.argmax(1).eq(labels).sum().item<double>();
}

// ---------------------------------------------------------------------------------------------
// Evaluation of AgileNN (and its reference) on a list of images.

struct Evaluator {
  const RunData& d;
  const TrainConfig& c;
  torch::Device device;
};

EvalReport evaluate_agile(AgileNet& net, ReferenceNN& body, const data::ImageSet& set, const std::vector<size_t>& idx,
                          const Evaluator& ev, double alpha_override) {
  net->eval();
  body->eval();
  EvalReport r;
  const int64_t metric_n = ev.c.metric_samples > 0 ? std::min<int64_t>(ev.c.metric_samples, static_cast<int64_t>(idx.size()))
                                                   : static_cast<int64_t>(idx.size());
  ImportanceProfile profile;
  const int64_t levels = ev.c.levels, remote_c = ev.c.extractor_out - ev.c.k;
  torch::Tensor symbol_counts = torch::zeros({remote_c, levels}, torch::kFloat64);
  const size_t batch = 256;
  for (size_t start = 0; start < idx.size(); start += batch) {
    const size_t n = std::min(batch, idx.size() - start);
    const torch::Tensor x = make_images(set, idx.data() + start, n, ev.d, nullptr, 0).to(ev.device);
    const torch::Tensor y = make_labels(set, idx.data() + start, n).to(ev.device);
    torch::Tensor features;
    {
      torch::NoGradGuard no_grad;
      const AgileOutput out = net->forward(x, alpha_override);
      r.final_accuracy += accuracy(out.final, y);
      r.local_accuracy += accuracy(out.local, y);
      r.remote_accuracy += accuracy(out.remote, y);
      r.alpha = out.alpha.item<double>();
      features = out.features;
      const torch::Tensor sym = net->quantizer->symbols(features.narrow(1, ev.c.k, remote_c));  // [B, C, H, W]
      const torch::Tensor flat = (sym + torch::arange(remote_c, sym.options()).view({1, remote_c, 1, 1}) * levels).flatten();
      symbol_counts += torch::bincount(flat.cpu(), {}, remote_c * levels).to(torch::kFloat64).view({remote_c, levels});
    }
    const int64_t take = std::min<int64_t>(static_cast<int64_t>(n), metric_n - static_cast<int64_t>(start));
    if (take > 0) {
      const Attribution a = attribute([&](const torch::Tensor& f) { return body->forward_folded(f); },
                                      features.narrow(0, 0, take), y.narrow(0, 0, take), parse_xai_method(ev.c.xai),
                                      ev.c.ig_steps, false);
      const torch::Tensor imp = a.importance.index({a.correct}).detach();
      if (imp.size(0) > 0) profile.add(imp, ev.c.k);
    }
    {
      torch::NoGradGuard no_grad;
      r.reference_accuracy += accuracy(body->forward(features), y);
    }
  }
  const double n = static_cast<double>(idx.size());
  r.count = static_cast<int64_t>(idx.size());
  r.final_accuracy /= n;
  r.local_accuracy /= n;
  r.remote_accuracy /= n;
  r.reference_accuracy /= n;
  const auto fractions = [](std::vector<double> v, double of) {
    for (double& x : v) x = of > 0 ? x / of : 0.0;
    return v;
  };
  r.channel_importance = fractions(profile.importance, profile.rows);
  r.disorder_weakest_local = fractions(profile.weakest_local, profile.disordered);
  r.disorder_strongest_remote = fractions(profile.strongest_remote, profile.disordered);
  r.dead_local_rate = profile.rows > 0 ? profile.dead_local / profile.rows : 0.0;
  // achieved_skewness and disorder_rate (xai.h) over all the rows at once.
  r.disorder_rate = profile.rows > 0 ? profile.disordered / profile.rows : 0.0;
  const std::vector<double>& mean = r.channel_importance;
  r.skewness = mean.empty() ? 0.0 : std::accumulate(mean.begin(), mean.begin() + ev.c.k, 0.0);
  const torch::Tensor p = symbol_counts / symbol_counts.sum(1, true).clamp_min(1);
  const double bits = -(symbol_counts * torch::log2(p.clamp_min(1e-12))).sum().item<double>();
  r.entropy_bytes = bits / 8.0 / n;
  return r;
}

double evaluate_classifier(const std::function<torch::Tensor(const torch::Tensor&)>& forward, const data::ImageSet& set,
                           const std::vector<size_t>& idx, const Evaluator& ev) {
  torch::NoGradGuard no_grad;
  double correct = 0;
  for (size_t start = 0; start < idx.size(); start += 256) {
    const size_t n = std::min<size_t>(256, idx.size() - start);
    correct += accuracy(forward(make_images(set, idx.data() + start, n, ev.d, nullptr, 0).to(ev.device)),
                        make_labels(set, idx.data() + start, n).to(ev.device));
  }
  return correct / static_cast<double>(idx.size());
}

// "Precise" batch-norm statistics (--bn-recal-batches) over the first c.bn_recal_batches batches
// of the training split, augmented as in training (the distribution the running averages
// estimate) with a fixed seed; `forward` runs the networks on a batch. Evaluation, the XAI
// losses' reference and the int8 export all read the running statistics, which lag behind an
// extractor trained at a high rate (docs/training.md).
void recalibrate_on_train_batches(const std::vector<torch::nn::Module*>& modules, const TrainConfig& c, const RunData& d,
                                   const torch::Device& device, const std::function<void(const torch::Tensor&)>& forward) {
  if (c.bn_recal_batches <= 0) return;
  std::mt19937_64 aug(c.seed * 7919ULL + 104729ULL);
  recalibrate_batch_norm(modules, [&] {
    const size_t batch = static_cast<size_t>(c.batch);
    const size_t n = std::min(d.train.size() / batch, static_cast<size_t>(c.bn_recal_batches));
    for (size_t b = 0; b < n; ++b) {
      forward(make_images(d.train_set, d.train.data() + b * batch, batch, d, &aug, c.augment_pad).to(device));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// One training stage: epochs of batches with a schedule, a checkpoint after each epoch, the best
// model on validation kept, resumable.

struct StageSpec {
  std::string name;                      // "reference", "agilenn", "plain"
  Schedule schedule;
  std::vector<std::pair<std::string, torch::nn::Module*>> modules;
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers;
  // Trains on one batch (already on the device) with learning-rate progress p; returns metrics
  // to accumulate, summed over batches and at the end of the epoch divided by the image count,
  // or by the sum of the count named in `per` (counts are keys starting with "n_"; they are not
  // reported). `step` counts the stage's steps from 0 (resumes included).
  std::function<std::map<std::string, double>(const torch::Tensor& x, const torch::Tensor& y, double p, int64_t step)> step;
  std::map<std::string, std::string> per;
  // Validation metrics of the epoch; "val_accuracy" picks the best model.
  std::function<nlohmann::json()> validate;
};

void print_epoch(const nlohmann::json& m) {
  std::string line = "  ";
  for (const auto& [key, value] : m.items()) {
    if (key == "stage") continue;
    char buf[96];
    if (value.is_number_float()) {
      std::snprintf(buf, sizeof buf, "%s %.4g  ", key.c_str(), value.get<double>());
    } else {
      std::snprintf(buf, sizeof buf, "%s %s  ", key.c_str(), value.dump().c_str());
    }
    line += buf;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

// Returns the stage's training wall time.
double run_stage(const StageSpec& s, const TrainConfig& c, const RunData& d, const torch::Device& device) {
  const fs::path dir = c.out;
  const fs::path ckpt = dir / (s.name + ".ckpt");
  Counters counters;
  if (c.resume && fs::exists(ckpt)) {
    counters = load_archive(ckpt, s.modules, s.optimizers);
    std::fprintf(stderr, "%s: resuming after epoch %lld (step %lld)\n", s.name.c_str(),
                 static_cast<long long>(counters.epoch), static_cast<long long>(counters.step));
  }
  const int64_t batch = c.batch;
  while (!s.schedule.done(counters.epoch, counters.elapsed_s)) {
    const auto epoch_start = Clock::now();
    const std::vector<size_t> order = epoch_order(d.train, c.seed, static_cast<int>(counters.epoch));
    std::mt19937_64 aug(c.seed * 7919ULL + static_cast<uint64_t>(counters.epoch));
    std::map<std::string, double> sums;
    const int64_t batches = static_cast<int64_t>(order.size()) / batch;  // drop the ragged tail
    Progress bar(s.name + " epoch " + std::to_string(counters.epoch + 1), static_cast<uint64_t>(batches * batch), "img");
    int64_t seen = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const double elapsed = counters.elapsed_s + seconds_since(epoch_start);
      if (s.schedule.budget_s > 0 && elapsed >= s.schedule.budget_s) break;
      const size_t* idx = order.data() + b * batch;
      const torch::Tensor x = make_images(d.train_set, idx, static_cast<size_t>(batch), d, &aug, c.augment_pad).to(device);
      const torch::Tensor y = make_labels(d.train_set, idx, static_cast<size_t>(batch)).to(device);
      const std::map<std::string, double> step = s.step(x, y, s.schedule.progress(counters.step, elapsed), counters.step);
      if (const auto loss = step.find("train_loss"); loss != step.end() && !std::isfinite(loss->second)) {
        throw std::runtime_error(s.name + " stage: the training loss is not finite at step " + std::to_string(counters.step) +
                                 " (epoch " + std::to_string(counters.epoch + 1) +
                                 "); the run folder keeps the last epoch's checkpoint. Lower the learning rates "
                                 "(--lr, --reference-lr, --reference-adapt-lr, --plain-lr) and train again");
      }
      for (const auto& [k, v] : step) sums[k] += v;
      ++counters.step;
      seen += batch;
      bar.add(static_cast<uint64_t>(batch));
    }
    bar.finish();
    const double train_s = seconds_since(epoch_start);
    counters.elapsed_s += train_s;
    ++counters.epoch;
    nlohmann::json m = {{"stage", s.name}, {"epoch", counters.epoch}};
    for (const auto& [k, v] : sums) {
      if (k.starts_with("n_")) continue;
      const auto count = s.per.find(k);
      const double n = count == s.per.end() ? static_cast<double>(seen) : sums[count->second];
      m[k] = n > 0 ? v / n : 0.0;
    }
    const nlohmann::json val_metrics = s.validate();
    for (const auto& [k, v] : val_metrics.items()) m[k] = v;
    m["epoch_s"] = train_s;
    m["images_per_s"] = train_s > 0 ? static_cast<double>(seen) / train_s : 0.0;
    m["lr_progress"] = s.schedule.progress(counters.step, counters.elapsed_s);
    const double val = m.value("val_accuracy", 0.0);
    if (val > counters.best) {
      counters.best = val;
      save_archive(dir / (s.name + ".pt"), s.modules, {}, counters);
      m["best"] = true;
    }
    save_archive(ckpt, s.modules, s.optimizers, counters);
    log_metrics(dir, m);
    print_epoch(m);
  }
  return counters.elapsed_s;
}

// ---------------------------------------------------------------------------------------------
// The stages.

void train_reference(const TrainConfig& c, const RunData& d, const torch::Device& device, nlohmann::json& summary) {
  std::fprintf(stderr, "\n== reference stage: extractor-shaped stem + reference body, trained end to end ==\n");
  ReferenceNet net(extractor_options(c), reference_options(c, d.classes));
  net->to(device);
  torch::optim::SGD opt = make_sgd(net->parameters(), c, c.reference_lr);
  Evaluator ev{d, c, device};
  StageSpec s;
  s.name = "reference";
  s.schedule = {c.reference_epochs, static_cast<int64_t>(d.train.size()) / c.batch, c.reference_budget_s};
  s.modules = {{"net", net.ptr().get()}};
  s.optimizers = {{"optim", &opt}};
  s.step = [&](const torch::Tensor& x, const torch::Tensor& y, double p, int64_t) {
    net->train();
    set_lr(opt, cosine_lr(c.reference_lr, p));
    const torch::Tensor logits = net->forward(x);
    const torch::Tensor loss = F::cross_entropy(logits, y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    const double n = static_cast<double>(x.size(0));
    return std::map<std::string, double>{{"train_loss", loss.item<double>() * n}, {"train_accuracy", accuracy(logits, y)}};
  };
  s.validate = [&] {
    recalibrate_on_train_batches({net.ptr().get()}, c, d, device, [&](const torch::Tensor& x) { net->forward(x); });
    net->eval();
    return nlohmann::json{{"val_accuracy", evaluate_classifier([&](const torch::Tensor& x) { return net->forward(x); },
                                                               d.train_set, d.val, ev)}};
  };
  const double wall = run_stage(s, c, d, device);
  load_archive(fs::path(c.out) / "reference.pt", s.modules, {});
  net->eval();
  const double test = evaluate_classifier([&](const torch::Tensor& x) { return net->forward(x); }, d.test_set, d.test, ev);
  summary["reference"] = {{"test_accuracy", test}, {"train_s", wall}};
  std::fprintf(stderr, "reference: test accuracy %.4f, %.0f s of training\n", test, wall);
}

// Loads the reference stage's result into `stem` and `body`.
void load_reference(const TrainConfig& c, int classes, FeatureExtractor& stem, ReferenceNN& body) {
  ReferenceNet ref(extractor_options(c), reference_options(c, classes));
  const fs::path path = fs::path(c.out) / "reference.pt";
  if (!fs::exists(path)) {
    throw std::runtime_error(path.string() + ": not found; run the reference stage first (--stage reference, or all)");
  }
  load_archive(path, {{"net", ref.ptr().get()}}, {});
  torch::NoGradGuard no_grad;
  const auto copy = [](torch::nn::Module& from, torch::nn::Module& to) {
    auto src = from.named_parameters(), dst = to.named_parameters();
    for (auto& item : src) dst[item.key()].copy_(item.value());
    auto bsrc = from.named_buffers(), bdst = to.named_buffers();
    for (auto& item : bsrc) bdst[item.key()].copy_(item.value());
  };
  copy(*ref->stem, *stem);
  copy(*ref->body, *body);
}

// Algorithm 1 over (part of) the training set, then the mapping applied to the extractor and
// the reference body.
void select_channels(const TrainConfig& c, const RunData& d, const torch::Device& device, FeatureExtractor& extractor,
                     ReferenceNN& body, nlohmann::json& summary) {
  std::fprintf(stderr, "\n== Algorithm 1: channel selection with the trained reference ==\n");
  extractor->eval();
  body->eval();
  ChannelScorer scorer(c.extractor_out, c.k, parse_channel_score(c.channel_score));
  std::vector<size_t> idx = d.train;
  if (c.selection_samples > 0 && static_cast<size_t>(c.selection_samples) < idx.size()) idx.resize(static_cast<size_t>(c.selection_samples));
  Progress bar("score channels", idx.size(), "img");
  for (size_t start = 0; start < idx.size(); start += 256) {
    const size_t n = std::min<size_t>(256, idx.size() - start);
    torch::Tensor f;
    {
      torch::NoGradGuard no_grad;
      f = extractor->forward(make_images(d.train_set, idx.data() + start, n, d, nullptr, 0).to(device));
    }
    const Attribution a = attribute([&](const torch::Tensor& x) { return body->forward_folded(x); }, f,
                                    make_labels(d.train_set, idx.data() + start, n).to(device), parse_xai_method(c.xai),
                                    c.ig_steps, false);
    scorer.add(a.importance, a.correct);
    bar.add(n);
  }
  bar.finish();
  const std::vector<int64_t> order = scorer.order();
  extractor->permute_output_channels(order);
  body->permute_input_channels(order);
  const std::vector<int64_t> chosen(order.begin(), order.begin() + c.k);
  std::string list;
  for (int64_t ch : chosen) list += std::to_string(ch) + " ";
  std::fprintf(stderr, "local channels (original indices): %s(scored on %lld correctly classified images)\n", list.c_str(),
               static_cast<long long>(scorer.samples()));
  const nlohmann::json channels = {{"score", c.channel_score}, {"scores", scorer.scores()}, {"order", order},
                                   {"local_channels", chosen}, {"samples", scorer.samples()}};
  write_file_atomic(fs::path(c.out) / "channels.json", channels.dump(2) + "\n");
  summary["channels"] = channels;
}

// The AgileNN stage's networks, optimisers and one training step; also timed by bench_train_step.
struct AgileModel {
  const TrainConfig& c;
  AgileNet net;
  ReferenceNN body;
  RateModel rate;
  std::unique_ptr<torch::optim::SGD> opt, ref_opt;
  XaiMethod method;
  bool adapt, per_element;
  // --xai-remote: the remote channels' factor detached in the skewness loss, in the disorder loss.
  bool detach_skewness, detach_disorder;

  AgileModel(const TrainConfig& config, int classes)
      : c(config),
        net(agile_options(config, classes)),
        body(reference_options(config, classes)),
        rate(config.extractor_out - config.k, config.levels),
        method(parse_xai_method(config.xai)),
        adapt(config.reference_mode == "adapt"),
        per_element(config.disorder == "element"),
        detach_skewness(config.xai_remote != "full"),
        detach_disorder(config.xai_remote == "detach") {
    if (!adapt && c.reference_mode != "frozen") {
      throw std::invalid_argument("--reference-mode must be adapt or frozen, got '" + c.reference_mode + "'");
    }
    if (!per_element && c.disorder != "channel") {
      throw std::invalid_argument("--disorder must be channel or element, got '" + c.disorder + "'");
    }
    if (c.xai_remote != "full" && c.xai_remote != "detach" && c.xai_remote != "detach-skewness") {
      throw std::invalid_argument("--xai-remote must be full, detach or detach-skewness, got '" + c.xai_remote + "'");
    }
    if (c.xai_every < 1) throw std::invalid_argument("--xai-every must be at least 1, got " + std::to_string(c.xai_every));
    set_batch_norm_momentum(*body, c.reference_bn_momentum);
  }

  // The denominators of step()'s per-sample metrics (StageSpec::per).
  static std::map<std::string, std::string> per_count() {
    return {{"train_xai_correct", "n_xai"},
            {"train_reference_accuracy", "n_adapt"},
            {"train_skewness", "n_xai_correct"},
            {"train_disorder_rate", "n_xai_correct"}};
  }

  // After the weights are in place and on their device.
  void make_optimizers() {
    std::vector<torch::Tensor> params = net->parameters();
    if (c.rate_weight > 0) {
      for (const auto& p : rate->parameters()) params.push_back(p);
    }
    opt = std::make_unique<torch::optim::SGD>(make_sgd(params, c, c.lr));
    ref_opt = std::make_unique<torch::optim::SGD>(make_sgd(body->parameters(), c, c.reference_adapt_lr));
  }

  std::vector<std::pair<std::string, torch::nn::Module*>> modules() {
    return {{"net", net.ptr().get()}, {"reference", body.ptr().get()}, {"rate", rate.ptr().get()}};
  }

  // One training step. The XAI losses and the reference's adaptation run on one step in
  // c.xai_every (step % xai_every == 0) with their weight multiplied by xai_every, so their
  // average weight is the paper's; the other steps train on the prediction losses alone.
  std::map<std::string, double> step(const torch::Tensor& x, const torch::Tensor& y, double p, int64_t step_index) {
    torch::optim::SGD& net_opt = *opt;
    torch::optim::SGD& body_opt = *ref_opt;
    const bool xai_step = step_index % c.xai_every == 0;
    net->train();
    set_lr(net_opt, cosine_lr(c.lr, p));
    const AgileOutput out = net->forward(x);
    const torch::Tensor ce = F::cross_entropy(out.final, y);
    torch::Tensor loss = c.lambda * ce;
    if (c.local_weight > 0) loss = loss + c.local_weight * F::cross_entropy(out.local, y);
    double rate_bits = 0;
    if (c.rate_weight > 0) {
      const torch::Tensor bits = net->quantizer->rate_bits(out.features.narrow(1, c.k, c.extractor_out - c.k), rate->cost());
      loss = loss + c.rate_weight * bits;
      rate_bits = bits.item<double>();
    }
    const double n = static_cast<double>(x.size(0));
    std::map<std::string, double> metrics = {{"train_accuracy", accuracy(out.final, y)}, {"train_rate_bits", rate_bits * n}};
    // XAI on the first xai_samples images of the (shuffled) batch, with the reference in eval
    // mode (batch norm folded into its convolutions) and its parameters out of the graph: the XAI
    // losses train the extractor only.
    const int64_t n_xai = c.xai_samples > 0 ? std::min<int64_t>(c.xai_samples, x.size(0)) : x.size(0);
    Attribution a;
    if (xai_step) {
      body->eval();
      set_requires_grad(*body, false);
      a = attribute([&](const torch::Tensor& f) { return body->forward_folded(f); }, out.features.narrow(0, 0, n_xai),
                    y.narrow(0, 0, n_xai), method, c.ig_steps, true, detach_skewness ? c.k : -1);
      const int64_t n_correct = a.correct.sum().item<int64_t>();
      double skew = 0, dis = 0;
      if (n_correct > 0) {
        const torch::Tensor imp = a.importance.index({a.correct});
        const torch::Tensor skew_l = skewness_loss(imp, c.k, c.rho);
        const torch::Tensor& dis_attribution = detach_disorder ? a.attribution : a.full_attribution;
        const torch::Tensor& dis_importance = detach_disorder ? a.importance : a.full_importance;
        const torch::Tensor dis_l = per_element ? disorder_loss_per_element(dis_attribution.index({a.correct}), c.k, c.disorder_margin)
                                                : disorder_loss(dis_importance.index({a.correct}), c.k, c.disorder_margin);
        loss = loss + static_cast<double>(c.xai_every) * (1 - c.lambda) * (skew_l + dis_l);
        skew = achieved_skewness(imp.detach(), c.k) * static_cast<double>(n_correct);
        dis = disorder_rate(imp.detach(), c.k) * static_cast<double>(n_correct);
      }
      // Skewness and disorder are means over the XAI samples the reference classifies correctly
      // (those the losses see), the rest over the XAI samples (per_count).
      metrics["n_xai"] = static_cast<double>(n_xai);
      metrics["n_xai_correct"] = static_cast<double>(n_correct);
      metrics["train_xai_correct"] = static_cast<double>(n_correct);
      metrics["train_skewness"] = skew;
      metrics["train_disorder_rate"] = dis;
    }
    net_opt.zero_grad();
    loss.backward();
    net_opt.step();
    metrics["train_loss"] = loss.item<double>() * n;
    if (xai_step) {
      set_requires_grad(*body, true);
      if (adapt) {
        // The reference keeps learning the current features, detached, from its own loss only, on
        // the XAI samples (a quarter of the batch by default: it follows the extractor's drift) or
        // the first --reference-adapt-samples images.
        body->train();
        const int64_t n_adapt = c.reference_adapt_samples > 0 ? std::min<int64_t>(c.reference_adapt_samples, x.size(0)) : n_xai;
        const torch::Tensor y_adapt = y.narrow(0, 0, n_adapt);
        const torch::Tensor ref_logits = body->forward(out.features.narrow(0, 0, n_adapt).detach());
        const torch::Tensor ref_loss = F::cross_entropy(ref_logits, y_adapt);
        body_opt.zero_grad();
        ref_loss.backward();
        body_opt.step();
        metrics["n_adapt"] = static_cast<double>(n_adapt);
        metrics["train_reference_accuracy"] = accuracy(ref_logits, y_adapt);
      }
    }
    return metrics;
  }
};

// The k local channels' spatial means [N, k], the Remote NN's logits and the labels of `idx`
// (clean images, eval mode), on the CPU.
struct LocalFeatures {
  torch::Tensor pooled, remote, labels;
};

LocalFeatures local_features(AgileNet& net, const data::ImageSet& set, const std::vector<size_t>& idx, const Evaluator& ev) {
  torch::NoGradGuard no_grad;
  net->eval();
  std::vector<torch::Tensor> pooled, remote, labels;
  Progress bar("local refit features", idx.size(), "img");
  for (size_t start = 0; start < idx.size(); start += 256) {
    const size_t n = std::min<size_t>(256, idx.size() - start);
    const AgileOutput out = net->forward(make_images(set, idx.data() + start, n, ev.d, nullptr, 0).to(ev.device));
    pooled.push_back(out.features.narrow(1, 0, ev.c.k).mean({2, 3}).cpu());
    remote.push_back(out.remote.cpu());
    labels.push_back(make_labels(set, idx.data() + start, n));
    bar.add(n);
  }
  bar.finish();
  return {torch::cat(pooled), torch::cat(remote), torch::cat(labels)};
}

// --local-refit: the Local NN's dense layer refit on the training split's frozen features
// (local_refit.h), for its own cross-entropy and the final prediction's at the trained alpha
// (the quick preset's lambda and --local-weight weigh the two alike). Kept when it raises the
// Local NN's validation accuracy and costs the final prediction at most half a point there; then
// agilenn.pt is rewritten (its counters unchanged).
void refit_local_head(const TrainConfig& c, const RunData& d, AgileModel& m, const Evaluator& ev, const Counters& counters,
                      nlohmann::json& summary) {
  const auto start = Clock::now();
  std::fprintf(stderr, "local refit: the Local NN's dense layer on the frozen features of %zu training images\n", d.train.size());
  const LocalFeatures train = local_features(m.net, d.train_set, d.train, ev);
  const LocalFeatures val = local_features(m.net, d.train_set, d.val, ev);
  torch::NoGradGuard no_grad;
  LocalNNImpl& local = *m.net->local;
  local.eval();
  const double alpha = m.net->alpha->forward().item<double>();
  const auto logits = [&](const torch::Tensor& pooled) {
    return local.forward(pooled.to(ev.device).unsqueeze(2).unsqueeze(3)).cpu();
  };
  const auto share = [](const torch::Tensor& l, const torch::Tensor& y) {
    return l.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
  };
  const auto measure = [&] {
    const torch::Tensor v = logits(val.pooled);
    return std::array<double, 3>{share(logits(train.pooled), train.labels), share(v, val.labels),
                                 share(alpha * v + (1 - alpha) * val.remote, val.labels)};
  };
  const std::array<double, 3> before = measure();  // train local, val local, val final
  const torch::Tensor old_weight = local.fc->weight.clone(), old_bias = local.fc->bias.clone();
  set_local_head(local, fit_linear_head(train.pooled, train.labels, d.classes, 1e-4, train.remote, alpha));
  const std::array<double, 3> after = measure();
  const bool kept = after[1] > before[1] && after[2] >= before[2] - 0.005;
  if (kept) {
    save_archive(fs::path(c.out) / "agilenn.pt", m.modules(), {}, counters);
  } else {
    local.fc->weight.copy_(old_weight);
    local.fc->bias.copy_(old_bias);
  }
  const nlohmann::json line = {{"stage", "local-refit"},         {"train_local_before", before[0]}, {"train_local", after[0]},
                               {"val_local_before", before[1]},   {"val_local", after[1]},
                               {"val_accuracy_before", before[2]}, {"val_accuracy", after[2]},
                               {"kept", kept},                     {"refit_s", seconds_since(start)}};
  log_metrics(c.out, line);
  summary["local_refit"] = line;
  std::fprintf(stderr, "local refit: validation local %.4f -> %.4f, final %.4f -> %.4f (train local %.4f -> %.4f): %s (%.0f s)\n",
               before[1], after[1], before[2], after[2], before[0], after[0],
               kept ? "kept" : "not kept (validation local did not rise, or final fell by more than 0.005)",
               seconds_since(start));
}

// The end of the AgileNN stage: its best network, the Local NN refit when asked, the test set.
void conclude_agilenn(const TrainConfig& c, const RunData& d, AgileModel& m, const Evaluator& ev, bool refit, double wall,
                      nlohmann::json& summary) {
  const Counters best = load_archive(fs::path(c.out) / "agilenn.pt", m.modules(), {});
  if (refit) refit_local_head(c, d, m, ev, best, summary);
  const EvalReport test = evaluate_agile(m.net, m.body, d.test_set, d.test, ev, -1.0);
  summary["agilenn"] = test.to_json();
  summary["agilenn"]["train_s"] = wall;
  std::fprintf(stderr,
               "AgileNN test: final %.4f  local %.4f  remote %.4f  reference %.4f  skewness %.3f  disorder %.3f  alpha "
               "%.3f  (%.0f s of training)\n",
               test.final_accuracy, test.local_accuracy, test.remote_accuracy, test.reference_accuracy, test.skewness,
               test.disorder_rate, test.alpha, wall);
}

void train_agilenn(const TrainConfig& c, const RunData& d, const torch::Device& device, nlohmann::json& summary) {
  AgileModel m(c, d.classes);
  const fs::path ckpt = fs::path(c.out) / "agilenn.ckpt";
  const bool resuming = c.resume && fs::exists(ckpt);
  load_reference(c, d.classes, m.net->extractor, m.body);
  m.net->to(device);
  m.body->to(device);
  m.rate->to(device);
  if (!resuming) select_channels(c, d, device, m.net->extractor, m.body, summary);
  std::fprintf(stderr, "\n== AgileNN stage: k = %d of %d channels local, rho %.2f, lambda %.2f, XAI %s (%d steps), "
                       "reference %s ==\n",
               c.k, c.extractor_out, c.rho, c.lambda, c.xai.c_str(), c.ig_steps, c.reference_mode.c_str());
  m.make_optimizers();
  Evaluator ev{d, c, device};
  StageSpec s;
  s.name = "agilenn";
  s.schedule = {c.agilenn_epochs, static_cast<int64_t>(d.train.size()) / c.batch, c.agilenn_budget_s};
  s.modules = m.modules();
  s.optimizers = {{"optim", m.opt.get()}, {"reference_optim", m.ref_opt.get()}};
  s.step = [&](const torch::Tensor& x, const torch::Tensor& y, double p, int64_t step) { return m.step(x, y, p, step); };
  s.per = AgileModel::per_count();
  s.validate = [&] {
    recalibrate_on_train_batches({m.net.ptr().get(), m.body.ptr().get()}, c, d, device,
                                 [&](const torch::Tensor& x) { m.body->forward(m.net->forward(x).features); });
    const EvalReport r = evaluate_agile(m.net, m.body, d.train_set, d.val, ev, -1.0);
    return nlohmann::json{{"val_accuracy", r.final_accuracy}, {"val_local", r.local_accuracy},
                          {"val_remote", r.remote_accuracy},  {"val_reference", r.reference_accuracy},
                          {"val_skewness", r.skewness},       {"val_disorder_rate", r.disorder_rate},
                          {"alpha", r.alpha},                 {"val_entropy_bytes", r.entropy_bytes}};
  };
  const double wall = run_stage(s, c, d, device);
  conclude_agilenn(c, d, m, ev, c.local_refit, wall, summary);
}

// The plain baseline's network, optimiser and one training step.
struct PlainModel {
  const TrainConfig& c;
  PlainNet net;
  std::unique_ptr<torch::optim::SGD> opt;

  PlainModel(const TrainConfig& config, int classes)
      : c(config), net(extractor_options(config), remote_options(config, classes)) {}
  void make_optimizers() { opt = std::make_unique<torch::optim::SGD>(make_sgd(net->parameters(), c, c.plain_lr)); }

  std::map<std::string, double> step(const torch::Tensor& x, const torch::Tensor& y, double p) {
    net->train();
    set_lr(*opt, cosine_lr(c.plain_lr, p));
    const torch::Tensor logits = net->forward(x);
    const torch::Tensor loss = F::cross_entropy(logits, y);
    opt->zero_grad();
    loss.backward();
    opt->step();
    return {{"train_loss", loss.item<double>() * static_cast<double>(x.size(0))}, {"train_accuracy", accuracy(logits, y)}};
  }
};

void train_plain(const TrainConfig& c, const RunData& d, const torch::Device& device, double budget_s, nlohmann::json& summary) {
  std::fprintf(stderr, "\n== plain stage: the same extractor + Remote NN on all %d channels, no split, no XAI%s ==\n",
               c.extractor_out, budget_s > 0 ? (", " + std::to_string(static_cast<int>(budget_s)) + " s budget").c_str() : "");
  PlainModel m(c, d.classes);
  m.net->to(device);
  m.make_optimizers();
  Evaluator ev{d, c, device};
  StageSpec s;
  s.name = "plain";
  s.schedule = {c.plain_epochs, static_cast<int64_t>(d.train.size()) / c.batch, budget_s};
  s.modules = {{"net", m.net.ptr().get()}};
  s.optimizers = {{"optim", m.opt.get()}};
  s.step = [&](const torch::Tensor& x, const torch::Tensor& y, double p, int64_t) { return m.step(x, y, p); };
  s.validate = [&] {
    recalibrate_on_train_batches({m.net.ptr().get()}, c, d, device, [&](const torch::Tensor& x) { m.net->forward(x); });
    m.net->eval();
    return nlohmann::json{{"val_accuracy", evaluate_classifier([&](const torch::Tensor& x) { return m.net->forward(x); },
                                                               d.train_set, d.val, ev)}};
  };
  const double wall = run_stage(s, c, d, device);
  load_archive(fs::path(c.out) / "plain.pt", s.modules, {});
  m.net->eval();
  const double test = evaluate_classifier([&](const torch::Tensor& x) { return m.net->forward(x); }, d.test_set, d.test, ev);
  summary["plain"] = {{"test_accuracy", test}, {"train_s", wall}};
  std::fprintf(stderr, "plain: test accuracy %.4f, %.0f s of training\n", test, wall);
}

torch::Device pick_device(const std::string& name) {
  if (name == "cuda" && !torch::cuda::is_available()) {
    throw std::runtime_error("--device cuda: no CUDA device is available to this LibTorch build");
  }
  if (name != "cpu" && name != "cuda") throw std::invalid_argument("--device must be cpu or cuda, got '" + name + "'");
  return torch::Device(name == "cuda" ? torch::kCUDA : torch::kCPU);
}

nlohmann::json read_json_if_exists(const fs::path& path) {
  if (!fs::exists(path)) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
}

// A run folder's own configuration (its config.json), with `out` set to the folder and, when
// `data_dir` is not empty, that data folder; `missing` ends the error when there is no config.json.
TrainConfig run_config(const std::string& run_dir, const std::string& data_dir, const std::string& missing) {
  const fs::path config_path = fs::path(run_dir) / "config.json";
  if (!fs::exists(config_path)) throw std::runtime_error(config_path.string() + ": not found (" + missing + ")");
  TrainConfig c = config_from_json(read_json_if_exists(config_path));
  c.out = run_dir;
  if (!data_dir.empty()) c.data_dir = data_dir;
  return c;
}

// --stage local-refit: the refit of a finished AgileNN stage, under the run's own configuration
// (its config.json, which stays as it is) with this invocation's data folder, device and threads.
void refit_run(const TrainConfig& given) {
  const fs::path dir = given.out;
  TrainConfig c = run_config(given.out, given.data_dir, "--stage local-refit needs a run folder with a finished AgileNN stage");
  c.stage = given.stage;
  c.device = given.device;
  c.threads = given.threads;
  const auto start = Clock::now();
  set_compute_threads(c.threads);
  torch::manual_seed(c.seed);
  const torch::Device device = pick_device(c.device);
  forget_metrics(dir, {c.stage});
  const RunData d = load_run_data(c);
  nlohmann::json summary = read_json_if_exists(dir / "summary.json");
  AgileModel m(c, d.classes);
  m.net->to(device);
  m.body->to(device);
  m.rate->to(device);
  const double wall = summary.contains("agilenn") ? summary["agilenn"].value("train_s", 0.0) : 0.0;
  conclude_agilenn(c, d, m, Evaluator{d, c, device}, true, wall, summary);
  write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");
  std::fprintf(stderr, "\nlocal refit finished in %.0f s; results in %s (summary.json, metrics.jsonl)\n", seconds_since(start),
               dir.string().c_str());
}

}  // namespace

void run_train(const TrainConfig& c) {
  if (c.out.empty()) throw std::invalid_argument("--out is required");
  if (c.stage != "all" && c.stage != "reference" && c.stage != "agilenn" && c.stage != "plain" && c.stage != "local-refit") {
    throw std::invalid_argument("--stage must be all, reference, agilenn, plain or local-refit, got '" + c.stage + "'");
  }
  if (c.stage == "local-refit") return refit_run(c);
  const auto start = Clock::now();
  set_compute_threads(c.threads);
  torch::manual_seed(c.seed);
  const torch::Device device = pick_device(c.device);
  const fs::path dir = c.out;
  fs::create_directories(dir);
  if (!c.resume) {
    std::vector<std::string> stages{c.stage};
    if (c.stage == "all") stages = {"reference", "agilenn", "local-refit"};
    if (c.stage == "agilenn") stages.push_back("local-refit");  // its lines follow the stage's
    forget_metrics(dir, stages);
  }
  write_file_atomic(dir / "config.json", to_json(c).dump(2) + "\n");
  const RunData d = load_run_data(c);
  nlohmann::json summary = read_json_if_exists(dir / "summary.json");
  const auto save_summary = [&] { write_file_atomic(dir / "summary.json", summary.dump(2) + "\n"); };

  if (c.stage == "all" || c.stage == "reference") {
    train_reference(c, d, device, summary);
    summary["reference"]["run_s"] = seconds_since(start);
    save_summary();
  }
  if (c.stage == "all" || c.stage == "agilenn") {
    const double before = seconds_since(start);
    train_agilenn(c, d, device, summary);
    // Plain's budget: the reference stage's wall time (also when it ran as a command of its own,
    // --stage reference then --stage agilenn) plus this stage's.
    const double reference_s = summary.contains("reference") ? summary["reference"].value("run_s", before) : before;
    summary["agilenn_run_s"] = reference_s + seconds_since(start) - before;
    save_summary();
  }
  if (c.stage == "plain") {
    // "The same budget": the wall time of the whole AgileNN run (reference stage included).
    double budget = c.plain_budget_s;
    if (budget <= 0 && summary.contains("agilenn_run_s")) budget = summary["agilenn_run_s"].get<double>();
    train_plain(c, d, device, budget, summary);
    save_summary();
  }
  std::fprintf(stderr, "\ntrain finished in %.0f s; results in %s (summary.json, metrics.jsonl)\n", seconds_since(start),
               dir.string().c_str());
}

nlohmann::json StepBenchReport::to_json() const {
  return {{"agilenn_step_s", agilenn_step_s}, {"plain_step_s", plain_step_s}, {"ratio", ratio},
          {"steps", steps},                   {"batch", batch},               {"xai_samples", xai_samples},
          {"xai_every", xai_every}};
}

StepBenchReport bench_train_step(const TrainConfig& c, int steps) {
  if (steps < 1) throw std::invalid_argument("--steps must be at least 1");
  set_compute_threads(c.threads);
  torch::manual_seed(c.seed);
  const torch::Device device = pick_device(c.device);
  const RunData d = load_run_data(c);
  AgileModel agile(c, d.classes);
  PlainModel plain(c, d.classes);
  agile.net->to(device);
  agile.body->to(device);
  agile.rate->to(device);
  plain.net->to(device);
  agile.make_optimizers();
  plain.make_optimizers();
  const std::vector<size_t> order = epoch_order(d.train, c.seed, 0);
  const size_t batch = static_cast<size_t>(c.batch);
  if (order.size() < batch) throw std::runtime_error("fewer training images than one batch");
  std::mt19937_64 aug(c.seed);
  // With --xai-every N the AgileNN steps differ in cost: time blocks of N consecutive steps of
  // each model, alternating, and report the median block time divided by N.
  const int every = c.xai_every;
  const int blocks = (steps + every - 1) / every;
  std::vector<double> agile_s, plain_s;
  const int warmup = 1;
  int64_t agile_step = 0;
  Progress bar("train-step", static_cast<uint64_t>((blocks + warmup) * every), "step");
  for (int i = 0; i < blocks + warmup; ++i) {
    double agile_t = 0, plain_t = 0;
    for (int j = 0; j < every; ++j) {
      const size_t* idx = order.data() + (static_cast<size_t>(i * every + j) * batch) % (order.size() - batch + 1);
      const torch::Tensor x = make_images(d.train_set, idx, batch, d, &aug, c.augment_pad).to(device);
      const torch::Tensor y = make_labels(d.train_set, idx, batch).to(device);
      auto t = Clock::now();
      agile.step(x, y, 0.0, agile_step++);
      agile_t += seconds_since(t);
      t = Clock::now();
      plain.step(x, y, 0.0);
      plain_t += seconds_since(t);
      bar.add();
    }
    if (i >= warmup) {
      agile_s.push_back(agile_t / every);
      plain_s.push_back(plain_t / every);
    }
  }
  bar.finish();
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  StepBenchReport r;
  r.agilenn_step_s = median(agile_s);
  r.plain_step_s = median(plain_s);
  r.ratio = r.agilenn_step_s / r.plain_step_s;
  r.steps = steps;
  r.batch = c.batch;
  r.xai_samples = c.xai_samples;
  r.xai_every = c.xai_every;
  return r;
}

AgileNet load_agilenn(const std::filesystem::path& run_dir, const TrainConfig& c, int classes) {
  AgileNet net(agile_options(c, classes));
  load_archive(run_dir / "agilenn.pt", {{"net", net.ptr().get()}}, {});
  net->eval();
  return net;
}

EvalReport evaluate_run(const std::string& run_dir, const std::string& split, double alpha_override,
                        const std::string& data_dir) {
  const fs::path dir = run_dir;
  const TrainConfig c = run_config(run_dir, data_dir, "is " + run_dir + " a run folder?");
  if (split != "test" && split != "val") throw std::invalid_argument("--split must be test or val, got '" + split + "'");
  set_compute_threads(c.threads);
  const torch::Device device = pick_device(c.device);
  const RunData d = load_run_data(c);
  AgileNet net(agile_options(c, d.classes));
  ReferenceNN body(reference_options(c, d.classes));
  RateModel rate(c.extractor_out - c.k, c.levels);
  load_archive(dir / "agilenn.pt", {{"net", net.ptr().get()}, {"reference", body.ptr().get()}, {"rate", rate.ptr().get()}}, {});
  net->to(device);
  body->to(device);
  Evaluator ev{d, c, device};
  return split == "test" ? evaluate_agile(net, body, d.test_set, d.test, ev, alpha_override)
                         : evaluate_agile(net, body, d.train_set, d.val, ev, alpha_override);
}

}  // namespace agilenn::train
