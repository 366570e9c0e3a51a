#include "client/remote_client.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace agilenn::client {
namespace {

Clock::duration ms(double value) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(value));
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// A device must never reuse a sequence number under its key (the server's window rejects it):
// start from the wall clock in 16 us steps, far faster than requests are made.
uint32_t clock_seq() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  return static_cast<uint32_t>(static_cast<uint64_t>(us) >> 4);
}

}  // namespace

RemoteClient::RemoteClient(const ClientOptions& options)
    : options_(options),
      up_(options.link, 2 * static_cast<uint64_t>(options.device_id)),
      down_(options.link, 2 * static_cast<uint64_t>(options.device_id) + 1),
      seq_(clock_seq()),
      srtt_ms_(20 + 2 * options.link.delay_ms),
      reply_buffer_(agn_wire_reply_size(AGN_WIRE_MAX_CLASSES)),
      reply_bitmap_(AGN_WIRE_MAX_FRAGMENTS / 8),
      receive_buffer_(AGN_WIRE_MAX_DATAGRAM + 1) {
  check_link_options(options.link);
  if (options.max_datagram < AGN_WIRE_MIN_DATAGRAM || options.max_datagram > AGN_WIRE_MAX_DATAGRAM) {
    throw std::invalid_argument("--max-datagram must be in " + std::to_string(AGN_WIRE_MIN_DATAGRAM) + ".." +
                                std::to_string(AGN_WIRE_MAX_DATAGRAM));
  }
  if (!(options.deadline_ms > 0)) throw std::invalid_argument("--deadline-ms must be > 0");
  if (options.resend_ms < 0) throw std::invalid_argument("--resend-ms must be >= 0");
  socket_.set_buffer_sizes(1 << 20);
}

void RemoteClient::transmit_all(const std::vector<std::vector<uint8_t>>& fragments, Clock::time_point now,
                                RemoteResult& r, Clock::time_point& last_leaves) {
  ++r.transmissions;
  for (const auto& f : fragments) {
    std::vector<uint8_t> bytes = f;
    r.wire_bytes += bytes.size() + AGN_WIRE_IP_UDP_OVERHEAD;
    ++r.datagrams;
    const auto arrives = up_.transmit(bytes, now);
    if (!arrives) continue;
    last_leaves = std::max(last_leaves, *arrives);
    if (*arrives <= now && outgoing_.empty()) {
      socket_.send_to(bytes.data(), bytes.size(), options_.server);
    } else {
      outgoing_.push_back({*arrives, std::move(bytes)});
    }
  }
}

RemoteResult RemoteClient::request(std::span<const uint8_t> message) {
  RemoteResult r;
  const auto start = Clock::now();
  const auto deadline = start + ms(options_.deadline_ms);
  const uint32_t seq = seq_++;

  const size_t count = agn_wire_fragment_count(message.size(), options_.max_datagram);
  if (count == 0) throw std::invalid_argument("request of " + std::to_string(message.size()) + " bytes cannot be sent");
  std::vector<std::vector<uint8_t>> fragments(count);
  for (size_t i = 0; i < count; ++i) {
    fragments[i].resize(options_.max_datagram);
    size_t written = 0;
    agn_wire_write_fragment(options_.key.data(), AGN_WIRE_REQUEST, options_.device_id, seq, message.data(),
                            message.size(), options_.max_datagram, static_cast<unsigned>(i), fragments[i].data(),
                            fragments[i].size(), &written);
    fragments[i].resize(written);
  }
  agn_wire_assembler assembler;
  agn_wire_assembler_init(&assembler, reply_buffer_.data(), reply_buffer_.size(), reply_bitmap_.data(),
                          reply_bitmap_.size());

  double interval = options_.resend_ms > 0 ? options_.resend_ms
                                           : std::clamp(2 * srtt_ms_, 10.0, options_.deadline_ms / 3);
  Clock::time_point last_leaves = start;
  transmit_all(fragments, start, r, last_leaves);
  Clock::time_point next_resend = last_leaves + ms(interval);

  for (;;) {
    auto now = Clock::now();
    // Really send what the emulated uplink has delivered by now.
    while (!outgoing_.empty() && outgoing_.front().at <= now) {
      socket_.send_to(outgoing_.front().bytes.data(), outgoing_.front().bytes.size(), options_.server);
      outgoing_.pop_front();
    }
    // Look at what the emulated downlink has delivered by now.
    while (!incoming_.empty() && incoming_.front().at <= now) {
      const std::vector<uint8_t> d = std::move(incoming_.front().bytes);
      incoming_.pop_front();
      agn_wire_header h{};
      if (agn_wire_parse(d.data(), d.size(), AGN_WIRE_MAX_DATAGRAM, &h) != AGN_WIRE_OK || h.type != AGN_WIRE_REPLY ||
          h.device_id != options_.device_id || h.seq != seq || !agn_wire_tag_ok(options_.key.data(), d.data(), d.size())) {
        continue;  // corrupted, forged, or a late reply to an earlier request
      }
      if (agn_wire_assembler_add(&assembler, &h, d.data() + AGN_WIRE_HEADER_SIZE) != AGN_WIRE_ADD_COMPLETE) continue;
      agn_wire_reply reply{};
      if (agn_wire_reply_parse(assembler.buffer, assembler.message_size, &reply) != AGN_OK) {
        agn_wire_assembler_reset(&assembler);  // authentic but malformed: keep waiting
        continue;
      }
      r.replied = true;
      r.status = static_cast<uint8_t>(reply.status);
      r.answered = reply.status == AGN_WIRE_REPLY_OK;
      r.logits.resize(reply.classes);
      for (unsigned i = 0; i < reply.classes; ++i) r.logits[i] = agn_wire_reply_logit(&reply, i);
      r.round_trip_ms = ms_between(start, now);
      r.server_ms = reply.server_time_us / 1000.0;
      if (r.transmissions == 1) srtt_ms_ = 0.875 * srtt_ms_ + 0.125 * r.round_trip_ms;
      outgoing_.clear();  // nothing left to send for this request
      return r;
    }
    if (now >= deadline) break;
    if (now >= next_resend) {
      transmit_all(fragments, now, r, last_leaves);
      interval = std::min(interval * 1.5, options_.deadline_ms);
      next_resend = std::max(now, last_leaves) + ms(interval);
      continue;
    }
    Clock::time_point wake = std::min(deadline, next_resend);
    if (!outgoing_.empty()) wake = std::min(wake, outgoing_.front().at);
    if (!incoming_.empty()) wake = std::min(wake, incoming_.front().at);
    const double wait_ms = ms_between(now, wake);
    if (socket_.wait_readable(static_cast<int>(std::ceil(std::max(0.0, wait_ms))))) {
      for (;;) {
        const long size = socket_.receive(receive_buffer_.data(), receive_buffer_.size(), nullptr);
        if (size < 0) break;
        std::vector<uint8_t> d(receive_buffer_.begin(),
                               receive_buffer_.begin() + std::min<long>(size, static_cast<long>(receive_buffer_.size())));
        r.wire_bytes += static_cast<size_t>(size) + AGN_WIRE_IP_UDP_OVERHEAD;
        ++r.datagrams;
        if (down_.passthrough()) {
          incoming_.push_back({Clock::now(), std::move(d)});
        } else if (const auto arrives = down_.transmit(d, Clock::now())) {
          incoming_.push_back({*arrives, std::move(d)});
        }
      }
    }
  }
  outgoing_.clear();
  incoming_.clear();
  r.round_trip_ms = ms_between(start, Clock::now());
  return r;
}

}  // namespace agilenn::client
