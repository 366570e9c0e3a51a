// The host-side radio bridge of the firmware app: it reads the app's UART frames
// (src/mcu/app_link.h) from QEMU's serial chardev, sends each finished request's datagrams to the
// server over UDP as one burst, and writes every datagram the server sends back to the UART. It
// does not look inside datagrams beyond their header (the firmware checks them): it only counts
// the reply fragments of the request it is waiting for, so that it can tell the firmware when no
// reply came within its wall-clock guard. Link time is not emulated here: the firmware models it
// from the bytes.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agilenn/wire_format.h"
#include "wire/host/udp.h"

namespace agilenn::mcu {

// One UART frame: header (sync, type, u16 LE size) + body.
std::vector<uint8_t> link_frame(uint8_t type, std::span<const uint8_t> body);

struct LinkFrame {
  uint8_t type = 0;
  std::vector<uint8_t> body;
};

// Splits a UART byte stream into frames; bytes outside frames are kept as text (up to 4 KB).
class FrameReader {
 public:
  void feed(const uint8_t* data, size_t size);
  std::optional<LinkFrame> next();
  const std::string& stray() const { return stray_; }

 private:
  std::vector<uint8_t> buffer_;
  size_t start_ = 0;
  std::string stray_;
};

struct BridgeOptions {
  sockaddr_in server{};
  double reply_timeout_ms = 10000;  // wall-clock guard per request (the UART and QEMU are slow)
  size_t max_datagram = AGN_WIRE_DEFAULT_MAX_DATAGRAM;
};

struct BridgeStats {
  uint64_t requests = 0;         // SEND frames
  uint64_t datagrams_up = 0, bytes_up = 0;
  uint64_t datagrams_down = 0, bytes_down = 0;
  uint64_t no_reply = 0;         // NO_REPLY frames sent
  uint64_t bad_frames = 0;       // frames of an unknown type or size
};

class Bridge {
 public:
  // `uart_fd`: a connected stream socket or pipe to the firmware's UART (not owned).
  Bridge(int uart_fd, const BridgeOptions& options);

  // Serves until the UART reaches end of file or `stop` becomes true (checked every 50 ms).
  // `on_request` is called after each request is forwarded. Throws std::system_error on I/O errors.
  void run(const std::atomic<bool>& stop, const std::function<void()>& on_request = {});

  const BridgeStats& stats() const { return stats_; }
  const std::string& uart_text() const { return reader_.stray(); }

 private:
  void write_uart(const std::vector<uint8_t>& bytes);
  void on_frame(const LinkFrame& frame);
  void on_datagram(const uint8_t* data, size_t size);

  int uart_fd_;
  BridgeOptions options_;
  wire::UdpSocket socket_;
  FrameReader reader_;
  BridgeStats stats_;
  std::vector<std::vector<uint8_t>> pending_;
  bool waiting_ = false;
  uint32_t waiting_seq_ = 0;
  uint32_t fragments_seen_ = 0;
  int64_t guard_until_ms_ = 0;
  std::function<void()> on_request_;
};

}  // namespace agilenn::mcu
