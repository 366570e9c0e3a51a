// `agilenn export`: post-training int8 quantisation of a trained run's device half, and the files
// the device, the server and the tests need.
//
// Quantisation (TFLite int8 semantics, export/quantize.h; the model file's arithmetic is in
// include/agilenn/model_format.h):
//   1. Input: the uint8 image becomes q = pixel - 128 with scale 1/255 and zero point
//      z = round(255 * mean of the channel means) - 128, so a padded pixel (q = z) stands for the
//      average training pixel, close to the 0 the float network pads its normalised input with.
//      The per-channel normalisation (pixel / 255 - mean) / std is folded into dw1's weights
//      (w / std) and bias (sum(w) * ((z + 128) / 255 - mean) / std); exact away from the border.
//   2. Extractor: dw1 (depthwise 3x3, linear int8 output), pw1 + bn1 + ReLU6, dw2 (linear),
//      pw2 + bn2 + ReLU6; batch norm folded into the pointwise weights and bias, ReLU6 a clamp.
//      Per-output-channel symmetric weights, int32 bias, Q31 multiplier + shift per channel.
//   3. Local NN on channels [0, k): global average pooling (its own int8 scale, 1 / (H*W) folded
//      into the multiplier), dense k -> classes with the logits' batch norm folded in.
//   4. Feature quantiser on channels [k, C): the L sorted levels give L-1 midpoints t; the int8
//      threshold is ceil(t / s + z) for the feature scale s and zero point z (clamped to int8), so
//      a feature gets the level nearest to its dequantised value (ties go up).
//   5. Calibration: every activation range is the minimum and maximum over the calibration
//      images (the first N images of the run's shuffled training split, not augmented), widened
//      to contain 0 (TFLite's post-training default).
//   6. rANS tables: context tables of zero-run events (codec/rans.h, 8-bit frequencies) counted
//      on the int8 simulation's symbols over the training split.
//
// An export folder holds:
//   model.agnm            the device model file (include/agilenn/model_format.h)
//   agilenn_model.h/.cpp  the model as a const array for firmware (generated C++)
//   golden.bin            golden vectors (export/golden.h) for the first test images
//   remote.pt, remote.json, rans.bin   the remote half (export/remote_model.h)
//   float_device.pt       the float device half (modules "extractor", "local", "quantizer",
//                         "alpha"); with remote.pt it rebuilds the float network for infer
//   train_config.json     the run's resolved training configuration (data set, split, seed)
//   export.json           the summary (sizes, calibration, per-layer MACs) that --json prints
// Every file is written atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "modelfile/model_spec.h"
#include "train/run.h"

namespace agilenn::exporter {

struct ExportOptions {
  std::string run;              // the run folder (config.json + agilenn.pt)
  std::string out;              // the export folder (created)
  int64_t calibration = 1000;   // training images for the activation ranges
  int64_t table_images = 0;     // training images whose symbols train the rANS tables (0 = all)
  int golden = 4;               // test images in golden.bin
  std::string data_dir;         // "" = the run's data folder
};

struct TensorRange {
  std::string name;
  double min = 0, max = 0;  // calibrated float range
  double scale = 1;
  int32_t zero_point = 0;
};

struct QuantizedNetwork {
  modelfile::ModelSpec spec;
  std::vector<TensorRange> ranges;  // input, each layer's output, pooled, logits
  int64_t calibration_images = 0;
};

// Calibrates on d.train_set images `calibration` and quantises `net` (eval mode, its first k
// feature channels local). d.mean/d.std are the normalisation the network was trained with.
// The result has no rANS tables and no metadata yet.
QuantizedNetwork quantize_network(train::AgileNet& net, const train::RunData& d, const std::vector<size_t>& calibration);

// The run's image i as the device sees it: HWC uint8 with the model's 3 input channels
// (greyscale images repeat their channel).
std::vector<uint8_t> device_image(const data::ImageSet& set, size_t i);

// A context of the rANS model (codec/rans.h) gets a table of its own when the training images
// give it at least this many events, else it shares its channel's (or all channels') table.
constexpr uint32_t kRansMinEvents = 256;

// The rANS model (codec/rans.h agn_rans_model_build bytes: zero-run events, context tables with
// 8-bit frequencies) learned from the events of the int8 simulation's symbols over `images` of
// `set`.
struct RansTables {
  std::vector<uint8_t> model;
  double entropy_bytes = 0;     // the events' empirical entropy under their full contexts, bytes per image
  double events_per_image = 0;  // coded events (runs and values) per image
};
RansTables learn_rans_tables(const modelfile::ModelSpec& spec, const data::ImageSet& set, const std::vector<size_t>& images);

// Writes remote.json, remote.pt and rans.bin (export/remote_model.h documents them) for `net`'s
// Remote NN; defined beside the loader in remote_model.cpp.
void save_remote_model(const std::filesystem::path& out, train::AgileNet& net, const train::TrainConfig& config,
                       const std::vector<std::string>& class_names, const std::vector<uint8_t>& rans_model,
                       int feature_height, int feature_width);

// The float network's device-half modules by their name in float_device.pt.
std::vector<std::pair<std::string, torch::nn::Module*>> float_device_modules(train::AgileNet& net);

struct LayerReport {
  std::string name, op;
  int in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
  int64_t macs = 0;
  int64_t weight_bytes = 0;
};

struct ExportReport {
  std::string run, out;
  int64_t model_bytes = 0;  // flash
  int64_t arena_bytes = 0;  // SRAM the runtime needs
  int k = 0, levels = 0, classes = 0, remote_channels = 0, plane = 0;
  double alpha = 0;
  int input_zero_point = 0;
  int64_t calibration_images = 0, table_images = 0, golden_images = 0;
  double rans_entropy_bytes = 0;  // empirical entropy of the training-set events, bytes per image
  double rans_events_per_image = 0;
  int64_t rans_table_bytes = 0;  // the RANS section
  std::vector<TensorRange> ranges;
  std::vector<LayerReport> layers;
  int64_t macs = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

// Runs the whole export. Throws std::runtime_error naming the file when the run folder is missing
// or incomplete, and std::invalid_argument for bad options.
ExportReport run_export(const ExportOptions& options);

}  // namespace agilenn::exporter
