// The firmware app end to end: QEMU running the app on test images, the radio bridge, and the
// server in this process on loopback (agilenn mcu run, and the demo's last stage).
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "mcu/app_run.h"

namespace agilenn::cli {

struct McuRunArgs {
  std::string model;
  int64_t count = 100;
  std::string data;
  std::string link_rate = "6mbps";
  double link_delay_ms = 0;
  double deadline_ms = 200;
  double cpu_mhz = 216.0;
  uint32_t device_id = 1;
  std::string key;
  std::string firmware = mcu::default_app_firmware().string();
  std::string qemu = "qemu-system-arm";
  int threads = 1;
  bool json = false;
};

struct McuRunReport {
  nlohmann::json json;  // the `agilenn mcu run --json` object
  std::string problem;  // empty when the firmware matched the host runtime
  std::string note;     // an expected difference (fallbacks at the deadline)
};

// Runs the app on a.count test images and checks it against the host runtime on the same images.
McuRunReport run_firmware_app(const McuRunArgs& a);

// The human-readable table of a report's JSON.
void print_run_table(std::FILE* f, const nlohmann::json& j);

}  // namespace agilenn::cli
