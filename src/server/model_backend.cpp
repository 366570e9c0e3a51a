#include "server/model_backend.h"

#include <exception>
#include <memory>

#include "codec/lzw.h"
#include "codec/pack.h"
#include "wire/wire.h"

namespace agilenn::server {

std::vector<uint8_t> ModelBackend::decode(std::span<const uint8_t> request) const {
  unsigned codec = 0;
  const uint8_t* stream = nullptr;
  size_t size = 0;
  if (agn_wire_request_parse(request.data(), request.size(), &codec, &stream, &size) != AGN_OK) return {};
  const size_t count = model_.symbols_per_image();
  const unsigned levels = static_cast<unsigned>(model_.levels());
  std::vector<uint8_t> symbols(count);
  switch (codec) {
    case AGN_WIRE_CODEC_PACKED:
      if (agn_unpack_symbols(stream, size, levels, symbols.data(), count) != AGN_OK) return {};
      return symbols;
    case AGN_WIRE_CODEC_LZW_FIXED:
    case AGN_WIRE_CODEC_LZW_VAR: {
      const auto state = std::make_unique<agn_lzw_decoder>();
      size_t written = 0;
      const agn_lzw_width width = codec == AGN_WIRE_CODEC_LZW_FIXED ? AGN_LZW_FIXED : AGN_LZW_VARIABLE;
      if (agn_lzw_decode(state.get(), levels, width, stream, size, symbols.data(), count, &written) != AGN_OK ||
          written != count) {
        return {};
      }
      return symbols;
    }
    case AGN_WIRE_CODEC_RANS:
      try {
        symbols = model_.decode(stream, size);
      } catch (const std::exception&) {
        return {};
      }
      return symbols.size() == count ? symbols : std::vector<uint8_t>{};
    default:
      return {};
  }
}

std::vector<BackendResult> ModelBackend::run(std::span<const std::span<const uint8_t>> symbols) {
  const size_t per = model_.symbols_per_image();
  const size_t classes = static_cast<size_t>(model_.classes());
  std::vector<BackendResult> results(symbols.size());
  std::vector<size_t> valid;
  std::vector<uint8_t> batch;
  batch.reserve(symbols.size() * per);
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (symbols[i].size() != per) {
      results[i].status = AGN_WIRE_REPLY_BAD_REQUEST;
      continue;
    }
    valid.push_back(i);
    batch.insert(batch.end(), symbols[i].begin(), symbols[i].end());
  }
  if (valid.empty()) return results;
  std::vector<float> logits;
  try {
    logits = model_.logits(batch.data(), valid.size());
  } catch (const std::exception&) {
    logits.clear();
  }
  for (size_t j = 0; j < valid.size(); ++j) {
    BackendResult& r = results[valid[j]];
    if (logits.size() != valid.size() * classes) {
      r.status = AGN_WIRE_REPLY_SERVER_ERROR;
      continue;
    }
    r.logits.assign(logits.begin() + static_cast<std::ptrdiff_t>(j * classes),
                    logits.begin() + static_cast<std::ptrdiff_t>((j + 1) * classes));
  }
  return results;
}

}  // namespace agilenn::server
