#include "mcu/bridge.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

#include "common/byte_order.h"
#include "mcu/app_link.h"
#include "wire/wire.h"

namespace agilenn::mcu {
namespace {

constexpr size_t kMaxStray = 4096;
constexpr int kPollMs = 50;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::vector<uint8_t> link_frame(uint8_t type, std::span<const uint8_t> body) {
  std::vector<uint8_t> out(AGN_LINK_HEADER + body.size());
  out[0] = AGN_LINK_SYNC;
  out[1] = type;
  agn_store_u16le(out.data() + 2, static_cast<uint16_t>(body.size()));
  std::copy(body.begin(), body.end(), out.begin() + AGN_LINK_HEADER);
  return out;
}

void FrameReader::feed(const uint8_t* data, size_t size) {
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), data, data + size);
}

std::optional<LinkFrame> FrameReader::next() {
  while (start_ < buffer_.size() && buffer_[start_] != AGN_LINK_SYNC) {
    if (stray_.size() < kMaxStray) stray_.push_back(static_cast<char>(buffer_[start_]));
    ++start_;
  }
  if (buffer_.size() - start_ < AGN_LINK_HEADER) return std::nullopt;
  const size_t size = agn_load_u16le(buffer_.data() + start_ + 2);
  if (buffer_.size() - start_ < AGN_LINK_HEADER + size) return std::nullopt;
  LinkFrame f;
  f.type = buffer_[start_ + 1];
  const auto body = buffer_.begin() + static_cast<std::ptrdiff_t>(start_ + AGN_LINK_HEADER);
  f.body.assign(body, body + static_cast<std::ptrdiff_t>(size));
  start_ += AGN_LINK_HEADER + size;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return f;
}

Bridge::Bridge(int uart_fd, const BridgeOptions& options) : uart_fd_(uart_fd), options_(options) {
  socket_.bind(wire::resolve_ipv4("127.0.0.1", 0));
}

void Bridge::write_uart(const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(uart_fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "bridge: writing to the firmware's UART");
    done += static_cast<size_t>(n);
  }
}

void Bridge::on_frame(const LinkFrame& f) {
  if (f.type == AGN_LINK_DATAGRAM && !f.body.empty() && f.body.size() <= options_.max_datagram) {
    pending_.push_back(f.body);
  } else if (f.type == AGN_LINK_SEND && f.body.size() == 4) {
    for (const auto& d : pending_) {
      socket_.send_to(d.data(), d.size(), options_.server);
      ++stats_.datagrams_up;
      stats_.bytes_up += d.size();
    }
    pending_.clear();
    ++stats_.requests;
    waiting_ = true;
    waiting_seq_ = agn_load_u32le(f.body.data());
    fragments_seen_ = 0;
    guard_until_ms_ = now_ms() + static_cast<int64_t>(options_.reply_timeout_ms);
    if (on_request_) on_request_();
  } else {
    ++stats_.bad_frames;
  }
}

void Bridge::on_datagram(const uint8_t* data, size_t size) {
  if (size > options_.max_datagram) return;  // the firmware's buffer holds max_datagram bytes
  ++stats_.datagrams_down;
  stats_.bytes_down += size;
  write_uart(link_frame(AGN_LINK_DATAGRAM, {data, size}));
  agn_wire_header h;
  if (waiting_ && agn_wire_parse(data, size, options_.max_datagram, &h) == AGN_WIRE_OK && h.type == AGN_WIRE_REPLY &&
      h.seq == waiting_seq_ && ++fragments_seen_ >= h.frag_count) {
    waiting_ = false;
  }
}

void Bridge::run(const std::atomic<bool>& stop, const std::function<void()>& on_request) {
  on_request_ = on_request;
  std::vector<uint8_t> chunk(4096), datagram(AGN_WIRE_MAX_DATAGRAM);
  while (!stop.load()) {
    pollfd fds[2] = {{uart_fd_, POLLIN, 0}, {socket_.fd(), POLLIN, 0}};
    if (::poll(fds, 2, kPollMs) < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "bridge: poll");
    }
    if (fds[1].revents & POLLIN) {
      sockaddr_in from{};
      long n = 0;
      while ((n = socket_.receive(datagram.data(), datagram.size(), &from)) >= 0) {
        on_datagram(datagram.data(), static_cast<size_t>(n));
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::read(uart_fd_, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the firmware's side closed (QEMU exited)
      reader_.feed(chunk.data(), static_cast<size_t>(n));
      while (auto frame = reader_.next()) on_frame(*frame);
    }
    if (waiting_ && now_ms() >= guard_until_ms_) {
      uint8_t body[4];
      agn_store_u32le(body, waiting_seq_);
      write_uart(link_frame(AGN_LINK_NO_REPLY, body));
      ++stats_.no_reply;
      waiting_ = false;
    }
  }
}

}  // namespace agilenn::mcu
