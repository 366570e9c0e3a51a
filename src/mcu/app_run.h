// `agilenn mcu run`'s device half: the firmware app (firmware/app) in qemu-system-arm on a batch of
// images, with the radio bridge (bridge.h) between its UART and a server, and the checks against
// the host build of the runtime. No LibTorch: the server is whatever listens at `server`.
//
// QEMU runs with -icount shift=0 (SysTick = 40 instructions per tick: the firmware's modelled
// clock), UART0 on a Unix socket the bridge listens on, semihosting for the images file (raw
// u8 HWC images back to back) and the results file (src/mcu/app_link.h), and the model either
// preloaded into the flash model slot (-device loader, `model_file`) or compiled into the
// firmware (`model_file` empty).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcu/bridge.h"
#include "wire/host/keys.h"

namespace agilenn::mcu {

// Where the cortex-m7 preset puts the app firmware (flash-slot model) in this source tree.
std::filesystem::path default_app_firmware();

struct AppOptions {
  std::filesystem::path firmware;    // agilenn_mcu_app.elf (or the generated-model build)
  std::filesystem::path model_file;  // model.agnm for the flash slot; empty: compiled in
  std::string qemu = "qemu-system-arm";
  sockaddr_in server{};
  wire::Key key{};
  uint32_t device_id = 1;
  uint32_t first_seq = 1;
  double cpu_mhz = 216.0;   // modelled core clock, 1 cycle per instruction
  double rate_bps = 6e6;    // modelled link rate (0: unlimited)
  double delay_ms = 0;      // modelled one-way delay
  double deadline_ms = 200; // from the end of compute to the fallback, modelled clock
  size_t max_datagram = AGN_WIRE_DEFAULT_MAX_DATAGRAM;
  double reply_timeout_ms = 10000;  // the bridge's wall-clock guard per request
};

struct ImageRecord {
  uint32_t index = 0;
  int local_class = 0, final_class = 0;
  int outcome = 0;  // agn_app_outcome
  int reply_status = 0;
  uint32_t payload_bytes = 0, payload_crc = 0;
  uint32_t datagrams_up = 0, datagrams_down = 0;
  uint32_t bytes_up = 0, bytes_down = 0;  // datagram bytes, without IPv4/UDP headers
  uint32_t server_us = 0;
  uint64_t instructions = 0, up_ns = 0, down_ns = 0, latency_ns = 0;
  uint64_t framing_instructions = 0;  // the framing's part of `instructions`
  std::vector<int8_t> logits;  // the Local NN's int8 logits
};

struct AppResults {
  unsigned classes = 0;
  unsigned codec = 0;  // agn_codec
  uint32_t model_crc = 0;
  std::vector<ImageRecord> images;
  BridgeStats bridge;
  double wall_s = 0;
};

// Parses a results file. Throws std::runtime_error naming what is wrong.
AppResults parse_results(std::span<const uint8_t> bytes);

// Runs the firmware on `images` (each exactly the model's input size). `progress` is called once
// per request the bridge forwards. Throws std::runtime_error with QEMU's output when QEMU fails,
// times out, or writes fewer records than images.
AppResults run_app(const AppOptions& options, const std::vector<std::vector<uint8_t>>& images,
                   const std::function<void()>& progress = {});

// The host build of the runtime (reference kernels) on the same images: the firmware's int8
// logits and encoded payload (size and CRC-32) must equal it image by image.
struct HostCheck {
  size_t images = 0;
  size_t logits_equal = 0;
  size_t payload_equal = 0;
  bool model_equal = false;  // the firmware ran these model bytes (CRC-32)
  bool all_equal() const { return model_equal && logits_equal == images && payload_equal == images; }
};
HostCheck check_against_host(std::span<const uint8_t> model_bytes, const std::vector<std::vector<uint8_t>>& images,
                             const AppResults& results);

// Means over the images: {"fallback_rate", "wire_bytes_per_image", "latency_ms": {"device",
// "link", "server", "total"}, "instructions_per_image", "framing_instructions_per_image" (its
// framing part), "compute_instructions_per_image" (the rest: run and encode),
// "payload_bytes_per_image"}. wire bytes:
// every datagram of the request and the reply with AGN_WIRE_IP_UDP_OVERHEAD each; device: compute
// instructions at cpu_mhz; link: uplink + downlink serialisation + 2 delays, and server: the
// reported service time, both over answered images; total: the modelled latency (compute + round
// trip, or compute + deadline for a fallback) over all images.
nlohmann::json summarize(const AppResults& results, const AppOptions& options);

}  // namespace agilenn::mcu
