// `agilenn infer`: the int8 device runtime (host build of src/device) on a data set's test images,
// the Remote NN behind a RemoteBackend, and the float network beside it for comparison.
//
// Per image: the runtime runs the extractor, the Local NN and the quantiser on the uint8 image,
// then encodes the symbols with every device codec (raw packing, LZW with fixed and with
// variable-width codes, rANS); zstd and gzip compress the same symbols (one byte per symbol,
// channel-major) on the host as reference points. Every codec's payload is decoded again and
// compared with the symbols. The rANS payload ("our coder") goes to the backend, whose remote
// logits are mixed with the dequantised local logits: final = alpha * local + (1 - alpha) * remote;
// an image the backend leaves unanswered falls back to its local logits. The float pipeline is the
// trained network (float_device.pt + remote.pt) on the normalised image.
//
// The pipeline is a library function so that the UDP client can pass a backend that talks to the
// server instead of InProcessRemote.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "export/remote_model.h"

namespace agilenn::exporter {

class RemoteBackend {
 public:
  virtual ~RemoteBackend() = default;
  // One answer per payload (our coder's bytes for one image, in order): the remote logits
  // (classes floats), or nullopt when no answer came (the device then uses its local logits).
  virtual std::vector<std::optional<std::vector<float>>> remote_logits(const std::vector<std::vector<uint8_t>>& payloads) = 0;
};

// Decodes each payload with the export folder's rANS tables and runs the float Remote NN on the
// batch, in this process.
class InProcessRemote : public RemoteBackend {
 public:
  explicit InProcessRemote(RemoteModel model) : model_(std::move(model)) {}
  std::vector<std::optional<std::vector<float>>> remote_logits(const std::vector<std::vector<uint8_t>>& payloads) override;

 private:
  RemoteModel model_;
};

struct InferOptions {
  std::string model_dir;   // export folder written by agilenn export
  int64_t count = 0;       // test images to run, evenly spaced over the test split (0 = all)
  int batch = 256;         // images per backend call and per float batch
  std::string data_dir;    // "" = the run's data folder
};

struct CodecBytes {
  std::string name;  // raw, lzw_fixed, lzw_variable, lzw (the smaller of the two), rans, zstd, gzip
  double mean = 0;   // bytes per image
  int64_t max = 0;
};

struct InferReport {
  int64_t count = 0;
  int64_t fallbacks = 0;  // images the backend did not answer
  double final_accuracy = 0, local_accuracy = 0, remote_accuracy = 0;
  double float_final = 0, float_local = 0, float_remote = 0;
  double alpha = 0;
  int64_t symbols_per_image = 0;
  std::vector<CodecBytes> bytes;               // in the order of CodecBytes::name above
  std::vector<std::pair<std::string, double>> host_ms;    // mean host milliseconds per image per stage
  std::vector<std::pair<std::string, double>> device_ms;  // the runtime's own stage clock, per image
  nlohmann::json to_json() const;
};

// The test images run_infer uses for `options` (`count` evenly spaced over the run's test split,
// or all), as the device sees them (u8 HWC), with their labels: `agilenn mcu run` feeds the same
// images to the firmware. Throws like run_infer for a missing export folder or data set.
struct TestImages {
  std::vector<std::vector<uint8_t>> images;
  std::vector<int32_t> labels;
};
TestImages load_test_images(const InferOptions& options);

// Runs the pipeline on `count` evenly spaced images of the run's test split. Throws
// std::runtime_error naming the file for a missing or inconsistent export folder, and when a
// codec's payload does not decode to the symbols it encoded.
InferReport run_infer(const InferOptions& options, RemoteBackend& backend);

}  // namespace agilenn::exporter
