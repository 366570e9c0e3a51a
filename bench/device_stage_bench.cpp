// Host benchmark of the device runtime on a random model of the default shape (or another shape):
// time per stage, MACs per layer, arena per codec set, model size and payload bytes per codec.
//
//   device_stage_bench [--images N] [--seed S] [--size HxW]
//
// Prints one JSON object on stdout and a table on stderr. Times are seconds per image. The model
// has random weights (src/modelfile/random_model.h), so payload sizes say nothing about a trained
// model; times and memory do not depend on the weights.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "device/runtime.h"
#include "modelfile/random_model.h"

namespace {

uint64_t steady_ns(void*) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

[[noreturn]] void usage(const char* why) {
  std::cerr << "device_stage_bench: " << why << "\nusage: device_stage_bench [--images N] [--seed S] [--size HxW]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int images = 200;
  uint32_t seed = 1;
  agilenn::modelfile::RandomModelOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") usage("help");
    if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
    const std::string value = argv[++i];
    if (arg == "--images") {
      images = std::atoi(value.c_str());
    } else if (arg == "--seed") {
      seed = static_cast<uint32_t>(std::stoul(value));
    } else if (arg == "--size") {
      if (std::sscanf(value.c_str(), "%dx%d", &options.height, &options.width) != 2) usage("--size wants HxW");
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (images < 1) usage("--images must be >= 1");

  const std::vector<uint8_t> bytes = agilenn::modelfile::write_model(agilenn::modelfile::random_model(options, seed));
  static agn_model model;
  if (agn_model_load(&model, bytes.data(), bytes.size()) != AGN_OK) {
    std::cerr << "device_stage_bench: " << model.error << "\n";
    return 1;
  }
  nlohmann::json arena;
  const std::pair<const char*, unsigned> sets[] = {
      {"all", AGN_CODECS_ALL},
      {"raw", AGN_CODEC_BIT(AGN_CODEC_RAW)},
      {"rans", AGN_CODEC_BIT(AGN_CODEC_RANS)},
      {"lzw", AGN_CODEC_BIT(AGN_CODEC_LZW_FIXED) | AGN_CODEC_BIT(AGN_CODEC_LZW_VARIABLE)}};
  for (const auto& [name, codecs] : sets) {
    size_t size = 0;
    agn_runtime_arena_size(&model, codecs, &size);
    arena[name] = size;
  }
  std::vector<uint32_t> arena_words(arena["all"].get<size_t>() / 4 + 1);
  static agn_runtime rt;
  if (agn_runtime_init(&rt, &model, AGN_CODECS_ALL, nullptr, arena_words.data(), arena_words.size() * 4) != AGN_OK) {
    std::cerr << "device_stage_bench: " << rt.error << "\n";
    return 1;
  }

  std::mt19937 rng(seed);
  std::vector<uint8_t> image(size_t{model.input_height} * model.input_width * model.input_channels);
  std::vector<int8_t> logits(model.local.classes);
  const agn_codec codecs[] = {AGN_CODEC_RAW, AGN_CODEC_LZW_FIXED, AGN_CODEC_LZW_VARIABLE, AGN_CODEC_RANS};
  const char* codec_names[] = {"raw", "lzw_fixed", "lzw_variable", "rans"};
  uint64_t encode_ns[4] = {};
  uint64_t payload_bytes[4] = {};
  std::vector<uint8_t> payload(agn_runtime_max_payload(&model, AGN_CODEC_LZW_FIXED));
  for (int n = 0; n < images; ++n) {
    for (uint8_t& p : image) p = static_cast<uint8_t>(rng());
    agn_runtime_set_clock(&rt, steady_ns, nullptr);
    if (agn_runtime_run(&rt, image.data(), image.size(), logits.data(), logits.size()) != AGN_OK) {
      std::cerr << "device_stage_bench: " << rt.error << "\n";
      return 1;
    }
    for (int c = 0; c < 4; ++c) {
      const uint64_t before = rt.ticks.encode;
      size_t written = 0;
      if (agn_runtime_encode(&rt, codecs[c], payload.data(), payload.size(), &written) != AGN_OK) {
        std::cerr << "device_stage_bench: " << rt.error << "\n";
        return 1;
      }
      encode_ns[c] += rt.ticks.encode - before;
      payload_bytes[c] += written;
    }
  }

  agn_model_macs macs;
  agn_model_count_macs(&model, &macs);
  const double per = 1e-9 / images;
  nlohmann::json out;
  out["images"] = images;
  out["shape"] = {{"height", model.input_height}, {"width", model.input_width}, {"channels", model.feature_channels},
                  {"k", model.k}, {"levels", model.levels}, {"classes", model.local.classes}};
  out["model_bytes"] = bytes.size();
  out["arena_bytes"] = arena;
  nlohmann::json layers = nlohmann::json::array();
  const char* op_names[] = {"", "depthwise", "pointwise", "conv"};
  double extractor = 0;
  for (unsigned i = 0; i < model.layer_count; ++i) {
    const agn_layer& l = model.layers[i];
    const double t = static_cast<double>(rt.ticks.layer[i]) * per;
    extractor += t;
    layers.push_back({{"op", op_names[l.op]}, {"kernel", l.kernel}, {"stride", l.stride},
                      {"out", {l.out_height, l.out_width, l.out_channels}}, {"macs", macs.layer[i]}, {"time", t}});
  }
  out["layers"] = layers;
  out["macs"] = {{"extractor", macs.total - macs.local_dense}, {"local_dense", macs.local_dense}, {"total", macs.total}};
  nlohmann::json time;
  time["input"] = static_cast<double>(rt.ticks.input) * per;
  time["extractor"] = extractor;
  time["split"] = static_cast<double>(rt.ticks.split) * per;
  time["local"] = static_cast<double>(rt.ticks.local) * per;
  nlohmann::json encode, sizes;
  for (int c = 0; c < 4; ++c) {
    encode[codec_names[c]] = static_cast<double>(encode_ns[c]) * per;
    sizes[codec_names[c]] = static_cast<double>(payload_bytes[c]) / images;
  }
  time["encode"] = encode;
  out["time_per_image"] = time;
  out["payload_bytes_per_image"] = sizes;

  std::fprintf(stderr, "device runtime, random %ux%u model (C=%u, k=%u, L=%u), %d images\n", model.input_height,
               model.input_width, model.feature_channels, model.k, model.levels, images);
  std::fprintf(stderr, "  model %zu bytes, arena %zu bytes (all codecs), %zu (rANS only), %zu (raw only)\n",
               bytes.size(), arena["all"].get<size_t>(), arena["rans"].get<size_t>(), arena["raw"].get<size_t>());
  for (unsigned i = 0; i < model.layer_count; ++i) {
    std::fprintf(stderr, "  layer %u %-9s %8llu MACs %9.1f us\n", i, op_names[model.layers[i].op],
                 static_cast<unsigned long long>(macs.layer[i]), layers[i]["time"].get<double>() * 1e6);
  }
  std::fprintf(stderr, "  input %.1f us, split %.1f us, local %.1f us\n", time["input"].get<double>() * 1e6,
               time["split"].get<double>() * 1e6, time["local"].get<double>() * 1e6);
  for (int c = 0; c < 4; ++c) {
    std::fprintf(stderr, "  encode %-12s %9.1f us %8.0f bytes\n", codec_names[c], encode[codec_names[c]].get<double>() * 1e6,
                 sizes[codec_names[c]].get<double>());
  }
  std::cout << out.dump() << "\n";
  return 0;
}
