#include "wire/host/keys.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "wire/wire.h"

namespace agilenn::wire {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Key parse_key_hex(const std::string& hex, const std::string& what) {
  if (hex.size() != 2 * AGN_WIRE_KEY_SIZE) {
    throw std::invalid_argument(what + ": expected " + std::to_string(2 * AGN_WIRE_KEY_SIZE) +
                                " hex digits, got " + std::to_string(hex.size()) + " characters");
  }
  Key key{};
  for (size_t i = 0; i < key.size(); ++i) {
    const int hi = hex_digit(hex[2 * i]);
    const int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw std::invalid_argument(what + ": '" + hex + "' is not hexadecimal");
    key[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return key;
}

std::string key_hex(const Key& key) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : key) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Key development_key(const std::filesystem::path& model_dir) {
  const std::filesystem::path file = model_dir / "model.agnm";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot read the model file the development key is derived from");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Key key{};
  agn_wire_dev_key(bytes.data(), bytes.size(), key.data());
  return key;
}

KeyStore KeyStore::from_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open the keys file");
  KeyStore store;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = path.string() + ":" + std::to_string(number);
    std::istringstream fields(line);
    std::string id_text, hex, extra;
    if (!(fields >> id_text) || id_text[0] == '#') continue;
    if (!(fields >> hex) || (fields >> extra)) {
      throw std::runtime_error(where + ": expected '<device id> <32 hex digits>'");
    }
    size_t used = 0;
    unsigned long long id = 0;
    try {
      id = std::stoull(id_text, &used, 10);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != id_text.size() || id > UINT32_MAX || id_text[0] == '-') {
      throw std::runtime_error(where + ": device id '" + id_text + "' is not a decimal number in 0..4294967295");
    }
    Key key;
    try {
      key = parse_key_hex(hex, "key");
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(where + ": " + e.what());
    }
    if (!store.keys_.emplace(static_cast<uint32_t>(id), key).second) {
      throw std::runtime_error(where + ": device id " + id_text + " appears twice");
    }
  }
  if (store.keys_.empty()) throw std::runtime_error(path.string() + ": no keys (expected '<device id> <hex key>' lines)");
  return store;
}

KeyStore KeyStore::development(const Key& key) {
  KeyStore store;
  store.any_ = key;
  return store;
}

KeyStore KeyStore::of(std::unordered_map<uint32_t, Key> keys) {
  KeyStore store;
  store.keys_ = std::move(keys);
  return store;
}

const Key* KeyStore::find(uint32_t device_id) const {
  if (any_) return &*any_;
  const auto it = keys_.find(device_id);
  return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace agilenn::wire
