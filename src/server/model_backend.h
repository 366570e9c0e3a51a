// The real backend: an exported model's remote half (export/remote_model.h). prepare() decodes a
// request's stream by the codec its request header names (packed, LZW fixed/variable, rANS with
// the export's tables) into the (C - k) x H x W symbols, on the receiving thread; run() sends the
// whole batch through the float Remote NN at once (the model dequantises the symbols to its levels).
#pragma once

#include "export/remote_model.h"
#include "server/backend.h"

namespace agilenn::server {

class ModelBackend : public Backend {
 public:
  explicit ModelBackend(exporter::RemoteModel model) : model_(std::move(model)) {}
  // Replaces the request message with its symbols (empty if it does not decode).
  void prepare(std::vector<uint8_t>& request) const override { request = decode(request); }
  std::vector<BackendResult> run(std::span<const std::span<const uint8_t>> symbols) override;
  const exporter::RemoteModel& model() const { return model_; }

  // The symbols of one request, or empty if it does not decode to exactly symbols_per_image().
  std::vector<uint8_t> decode(std::span<const uint8_t> request) const;

 private:
  exporter::RemoteModel model_;
};

}  // namespace agilenn::server
