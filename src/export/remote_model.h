// The remote half of an exported model, for the server and for `agilenn infer`: the float Remote
// NN (the trainer's C++ module, src/train/models.h; C++-frontend modules have no TorchScript
// export, so the module is rebuilt from its options and its parameters loaded), the dequantisation
// levels and the rANS tables that decode the device's payload.
//
// Files in an export folder (written by agilenn export):
//   remote.json   {"format": "agilenn-remote", "version": 1,
//                  "remote": {"in_channels", "classes", "width", "blocks": [7], "strides": [7],
//                             "last_channels"}      the RemoteOptions that rebuild the module,
//                  "k", "feature_channels" (C), "feature_height", "feature_width",
//                  "levels": [L floats, ascending]  the value each symbol stands for,
//                  "alpha"                          final = alpha * local + (1 - alpha) * remote,
//                  "class_names": [...], "checkpoint": "remote.pt", "rans": "rans.bin"}
//   remote.pt     a LibTorch archive holding the module's parameters and buffers under "remote"
//   rans.bin      the rANS model (codec/rans.h agn_rans_model_build bytes; the same bytes as the
//                 model file's RANS section)
// A request is one image's symbols, channel-major ((C - k) x H x W, codec/rans.h's layout).
// The header needs no LibTorch, so server code that includes it compiles fast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace agilenn::exporter {

class RemoteModel {
 public:
  // Reads remote.json, remote.pt and rans.bin of `export_dir`. Throws std::runtime_error naming
  // the file and the field when one is missing, malformed or does not fit the module.
  static RemoteModel load(const std::filesystem::path& export_dir);

  int k() const;
  int channels() const;  // C - k: the remote channels
  int height() const;
  int width() const;
  int levels() const;
  int classes() const;
  double alpha() const;
  const std::vector<float>& level_values() const;
  const std::vector<std::string>& class_names() const;
  size_t symbols_per_image() const;  // channels() * height() * width()

  // Decodes one image's rANS payload to symbols_per_image() symbols. Throws std::runtime_error
  // on a corrupt or truncated payload.
  std::vector<uint8_t> decode(const uint8_t* payload, size_t size) const;

  // Remote logits of `batch` images whose symbols lie one image after the other at `symbols`
  // (batch * symbols_per_image() bytes): batch * classes() floats, image after image. Throws
  // std::invalid_argument for a symbol >= levels(). Safe to call from several threads.
  std::vector<float> logits(const uint8_t* symbols, size_t batch) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace agilenn::exporter
