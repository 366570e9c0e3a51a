// Per-device pre-shared keys for the host server and client (the device stores its own key).
//
// Keys file: one line per device, "<device id> <hex key>", device id a decimal u32, the key 32
// hex digits (16 bytes, byte 0 first). Blank lines and lines starting with '#' are ignored; a
// device id may appear once. Errors name the file and line.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>

#include "agilenn/wire_format.h"

namespace agilenn::wire {

using Key = std::array<uint8_t, AGN_WIRE_KEY_SIZE>;

// 32 hex digits -> key; throws std::invalid_argument naming `what` otherwise.
Key parse_key_hex(const std::string& hex, const std::string& what = "key");
std::string key_hex(const Key& key);

// The development key of an export folder: agn_wire_dev_key over DIR/model.agnm. Throws
// std::runtime_error naming the file when it cannot be read.
Key development_key(const std::filesystem::path& model_dir);

class KeyStore {
 public:
  // Throws std::runtime_error "<file>:<line>: ..." for a bad line, or when the file has no keys.
  static KeyStore from_file(const std::filesystem::path& path);
  // Every device id uses `key` (development mode).
  static KeyStore development(const Key& key);
  // A store with exactly these devices (tests, simulated devices).
  static KeyStore of(std::unordered_map<uint32_t, Key> keys);

  // The key of `device_id`, or none for an unknown device.
  const Key* find(uint32_t device_id) const;
  bool is_development() const { return any_.has_value(); }
  size_t size() const { return keys_.size(); }

 private:
  std::unordered_map<uint32_t, Key> keys_;
  std::optional<Key> any_;
};

}  // namespace agilenn::wire
