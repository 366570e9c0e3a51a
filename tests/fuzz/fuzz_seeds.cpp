// Writes seed inputs for the fuzz targets, so that no binary corpus lives in the repository:
//   fuzz_seeds DIR  ->  DIR/<target>/<seed name>, one folder per target in tests/fuzz.
// Each seed is a valid input in the layout that target's header comment describes (small valid
// streams, models, images and data files made with the codec itself and tests/support's format
// writers); libFuzzer mutates from there. run_fuzzers.sh calls it before every run.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "codec/lzw.h"
#include "codec/pack.h"
#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "common/byte_order.h"
#include "codec_vectors.h"
#include "host/file_io.h"
#include "mcu/app_link.h"
#include "mcu/bridge.h"
#include "modelfile/random_model.h"
#include "support/format_writers.h"
#include "wire/wire.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using agilenn::testing::make_image;

void seed(const fs::path& root, const std::string& target, const std::string& name, const Bytes& bytes) {
  agilenn::testing::write_bytes(root / target / name, bytes);
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Symbols with runs and repeats, so LZW builds long strings and rANS sees skewed statistics.
Bytes symbols(size_t count, unsigned levels, unsigned salt) {
  Bytes out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i] = static_cast<uint8_t>(((i / 3) * (i % 7 == 0 ? salt : 1) + (i % 11 == 0 ? i : 0)) % levels);
  }
  return out;
}

void codec_seeds(const fs::path& root) {
  static agn_lzw_encoder enc;
  for (unsigned levels : {2u, 8u, 16u}) {
    for (unsigned width = 0; width < 2; ++width) {
      const Bytes in = symbols(600, levels, 5);
      Bytes map(agn_symbol_map_size(1, 600));
      agn_symbol_map_pack(in.data(), 1, 600, map.data());
      Bytes out(agn_lzw_max_encoded_size(in.size(), levels));
      size_t written = 0;
      if (agn_lzw_encode(&enc, levels, static_cast<agn_lzw_width>(width), map.data(), 1, 600, out.data(), out.size(),
                         &written) != AGN_OK) {
        throw std::runtime_error("lzw encode failed");
      }
      out.resize(written);
      // Byte 0 = L - 2, byte 1 = width (bit 0) and repeat count 2 (bits 1-2).
      seed(root, "codec_lzw_decode_fuzz", "L" + std::to_string(levels) + "_w" + std::to_string(width),
           cat({static_cast<uint8_t>(levels - 2), static_cast<uint8_t>(width | 2)}, out));
    }
  }

  for (unsigned levels : {2u, 8u, 16u}) {
    const Bytes in = symbols(100, levels, 3);
    Bytes map(agn_symbol_map_size(1, 100));
    agn_symbol_map_pack(in.data(), 1, 100, map.data());
    Bytes out(agn_pack_size_bytes(in.size(), levels));
    agn_pack_symbols(map.data(), 1, 100, levels, out.data(), out.size());
    // Byte 1 = 0: count is the most symbols the payload holds (exact for 100 symbols of 1/3/4 bits
    // only when it divides evenly; mutations find the rest).
    seed(root, "codec_pack_unpack_fuzz", "L" + std::to_string(levels), cat({static_cast<uint8_t>(levels - 2), 0}, out));
  }

  // rANS: the codec vectors' fixed model (mode 1, CRC recomputed by the target) and a sparse
  // 2x4x20 map of 8 levels with its stream (mode 2: b1 = 6, b2 = 1, b3 = 3, b4 = 19).
  Bytes model(AGN_VECTOR_RANS_MODEL_SIZE);
  agn_vector_rans_model(model.data());
  seed(root, "codec_rans_decode_fuzz", "model", cat({1}, model));
  Bytes map(2 * 4 * 20, 0);
  for (size_t i = 0; i < map.size(); i += 7) map[i] = static_cast<uint8_t>(160 + i % 8);  // byte % 8 = i % 8
  const Bytes header = {2, 6, 1, 3, 19};
  const Bytes head = cat(header, map);
  std::vector<uint8_t> symbols(map.size());
  for (size_t i = 0; i < map.size(); ++i) symbols[i] = map[i] < 160 ? 0 : static_cast<uint8_t>(map[i] % 8);
  auto counts = std::make_unique<agn_rans_counts>();
  agn_rans_counts_init(counts.get(), 8, 2, 4, 20);
  agn_rans_counts_add(counts.get(), symbols.data(), symbols.size());
  Bytes bytes(agn_rans_model_max_size(8, 2));
  size_t written = 0;
  agn_rans_model_build(counts.get(), 1, bytes.data(), bytes.size(), &written);
  agn_rans_model built;
  agn_rans_model_load(&built, bytes.data(), written);
  Bytes stream(agn_rans_max_encoded_size(&built));
  Bytes nibbles(agn_symbol_map_size(2 * 4, 20));
  agn_symbol_map_pack(symbols.data(), 2 * 4, 20, nibbles.data());
  agn_rans_encode(&built, nibbles.data(), nibbles.size(), stream.data(), stream.size(), &written);
  stream.resize(written);
  seed(root, "codec_rans_decode_fuzz", "stream", cat(head, stream));
}

// Small random models (the default layout on 8x8 images, and a strided one without rANS tables),
// raw (mode 0) and with the CRC rewritten (mode 1).
void device_seeds(const fs::path& root) {
  agilenn::modelfile::RandomModelOptions small;
  small.height = small.width = 8;
  const Bytes with_rans = agilenn::modelfile::write_model(agilenn::modelfile::random_model(small, 1));
  small.stride = 2;
  small.rans = false;
  const Bytes strided = agilenn::modelfile::write_model(agilenn::modelfile::random_model(small, 2));
  seed(root, "device_model_load_fuzz", "rans", cat({0}, with_rans));
  seed(root, "device_model_load_fuzz", "rans_fixcrc", cat({1}, with_rans));
  seed(root, "device_model_load_fuzz", "strided_fixcrc", cat({1}, strided));
}

void data_seeds(const fs::path& root, const fs::path& scratch) {
  using namespace agilenn::testing;
  const std::string image_target = "train_data_image_decode_fuzz";
  seed(root, image_target, "rgb.jpg", encode_jpeg(make_image(12, 10, 3, 1), 12, 10, 3, 75));
  seed(root, image_target, "grey.jpg", encode_jpeg(make_image(9, 16, 1, 2), 9, 16, 1, 90));
  seed(root, image_target, "progressive.jpg", encode_jpeg(make_image(16, 16, 3, 9), 16, 16, 3, 60, /*progressive=*/true));
  for (int channels = 1; channels <= 4; ++channels) {
    const fs::path png = scratch / ("c" + std::to_string(channels) + ".png");
    write_png(png, make_image(6, 5, channels, 3), 6, 5, channels);
    seed(root, image_target, png.filename().string(), agilenn::read_file(png));
  }

  // idx: u16 LE images-file length, images (plain), labels (gzip).
  write_idx(scratch / "images", {3, 4, 5}, make_image(12, 5, 1, 4), false);
  write_idx(scratch / "labels.gz", {3}, {0, 7, 2}, true);
  const Bytes images = agilenn::read_file(scratch / "images");
  seed(root, "train_data_idx_fuzz", "mnist_like",
       cat(cat({static_cast<uint8_t>(images.size()), static_cast<uint8_t>(images.size() >> 8)}, images),
           agilenn::read_file(scratch / "labels.gz")));

  // Regression: dimensions whose product wraps around 2^64 (256 x 2^28 x 2^28), which read_idx
  // once accepted as 256 huge images held in 0 bytes.
  write_idx(scratch / "wrap", {256, 1u << 28, 1u << 28}, {}, false);
  write_idx(scratch / "256-labels", {256}, Bytes(256, 0), false);
  const Bytes wrap = agilenn::read_file(scratch / "wrap");
  seed(root, "train_data_idx_fuzz", "dims_wrap",
       cat(cat({static_cast<uint8_t>(wrap.size()), static_cast<uint8_t>(wrap.size() >> 8)}, wrap),
           agilenn::read_file(scratch / "256-labels")));

  // CIFAR: variant byte, names length, names, one record.
  const Bytes pixels = make_image(32, 32, 3, 5);
  const std::string names10 = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
  seed(root, "train_data_cifar_binary_fuzz", "cifar10",
       cat(cat({0, static_cast<uint8_t>(names10.size())}, Bytes(names10.begin(), names10.end())),
           cifar_record({3}, pixels)));
  seed(root, "train_data_cifar_binary_fuzz", "cifar100_fine", cat({1, 0}, cifar_record({4, 42}, pixels)));
  seed(root, "train_data_cifar_binary_fuzz", "cifar100_coarse", cat({2, 0}, cifar_record({19, 99}, pixels)));

  // SVHN: two 4x4 images.
  write_svhn_mat(scratch / "svhn.mat", {make_image(4, 4, 3, 6), make_image(4, 4, 3, 7)}, 4, 4, {10, 3});
  Bytes mat = agilenn::read_file(scratch / "svhn.mat");
  seed(root, "train_data_svhn_fuzz", "svhn.mat", mat);
  // Regression: X's dimensions claiming 4x4x3x(2^31-1), which made matio allocate 103 GB.
  const uint8_t dims[16] = {4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0};
  const auto at = std::search(mat.begin(), mat.end(), std::begin(dims), std::end(dims));
  if (at == mat.end()) throw std::runtime_error("svhn seed: X dimensions not found");
  at[12] = at[13] = at[14] = 0xFF;
  at[15] = 0x7F;
  seed(root, "train_data_svhn_fuzz", "huge_claim.mat", mat);
}


// Records for server_datagram_fuzz: [flags][u16 length][datagram]. Valid fragments of a few
// messages under device 1's key (all 1 bytes), in order, reordered and duplicated.
void server_seeds(const fs::path& root) {
  const uint8_t key[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  auto record = [](Bytes& out, uint8_t flags, const Bytes& d) {
    out.push_back(flags);
    out.push_back(static_cast<uint8_t>(d.size()));
    out.push_back(static_cast<uint8_t>(d.size() >> 8));
    out.insert(out.end(), d.begin(), d.end());
  };
  auto fragments = [&](uint32_t seq, size_t size, size_t max_datagram) {
    Bytes message = symbols(size, 256, seq);
    agn_wire_request_header_write(AGN_WIRE_CODEC_PACKED, message.data(), message.size());
    std::vector<Bytes> frags(agn_wire_fragment_count(message.size(), max_datagram));
    for (size_t i = 0; i < frags.size(); ++i) {
      frags[i].resize(max_datagram);
      size_t n = 0;
      if (agn_wire_write_fragment(key, AGN_WIRE_REQUEST, 1, seq, message.data(), message.size(), max_datagram,
                                  static_cast<unsigned>(i), frags[i].data(), frags[i].size(), &n) != AGN_OK) {
        throw std::runtime_error("wire seed: write_fragment failed");
      }
      frags[i].resize(n);
    }
    return frags;
  };
  Bytes in_order, shuffled;
  for (uint32_t seq = 1; seq <= 3; ++seq) {
    for (const Bytes& f : fragments(seq, 300 * seq, 256)) record(in_order, 0, f);
  }
  const auto frags = fragments(10, 1000, 200);
  for (size_t i = frags.size(); i-- > 0;) record(shuffled, 0, frags[i]);
  record(shuffled, 0, frags[0]);
  record(shuffled, 2, frags[1]);  // 300 ms later
  seed(root, "server_datagram_fuzz", "in_order", in_order);
  seed(root, "server_datagram_fuzz", "reversed_dup", shuffled);
  Bytes sealed;
  record(sealed, 1, fragments(5, 40, 512)[0]);
  seed(root, "server_datagram_fuzz", "single_sealed", sealed);
}

// Inputs for mcu_link_fuzz: [chunk seed] then a UART stream (text, a datagram frame, a send frame)
// or a results file with two records of 10 classes.
void mcu_seeds(const fs::path& root) {
  Bytes uart = {7, 'b', 'o', 'o', 't', '\n'};
  for (const Bytes& f : {agilenn::mcu::link_frame(AGN_LINK_DATAGRAM, symbols(80, 256, 3)),
                         agilenn::mcu::link_frame(AGN_LINK_SEND, Bytes{1, 0, 0, 0})}) {
    uart.insert(uart.end(), f.begin(), f.end());
  }
  seed(root, "mcu_link_fuzz", "uart", uart);
  Bytes results(1 + AGN_APP_RESULTS_HEADER + 2 * (AGN_APP_RECORD_FIXED + 10), 0);
  uint8_t* h = results.data() + 1;
  agn_store_u32le(h, AGN_APP_RESULTS_MAGIC);
  agn_store_u16le(h + 4, AGN_APP_RESULTS_VERSION);
  agn_store_u16le(h + 6, 10);
  agn_store_u16le(h + 8, AGN_APP_RECORD_FIXED + 10);
  agn_store_u32le(h + AGN_APP_RESULTS_HEADER + AGN_APP_RECORD_FIXED + 10 + AGN_APP_REC_INDEX, 1);
  seed(root, "mcu_link_fuzz", "results", results);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds DIR   (writes DIR/<target>/<seed>)\n";
    return 2;
  }
  try {
    const fs::path root = argv[1];
    const fs::path scratch = root / ".scratch";
    fs::create_directories(scratch);
    codec_seeds(root);
    server_seeds(root);
    mcu_seeds(root);
    device_seeds(root);
    data_seeds(root, scratch);
    fs::remove_all(scratch);
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
