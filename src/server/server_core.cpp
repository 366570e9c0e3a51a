#include "server/server_core.h"

#include <algorithm>

namespace agilenn::server {

std::string_view drop_name(Drop reason) {
  switch (reason) {
    case Drop::truncated: return "truncated";
    case Drop::oversized: return "oversized";
    case Drop::bad_magic: return "bad_magic";
    case Drop::wrong_version: return "wrong_version";
    case Drop::bad_type: return "bad_type";
    case Drop::bad_header: return "bad_header";
    case Drop::bad_checksum: return "bad_checksum";
    case Drop::bad_mac: return "bad_mac";
    case Drop::unknown_device: return "unknown_device";
    case Drop::wrong_direction: return "wrong_direction";
    case Drop::replayed: return "replayed";
    case Drop::message_too_big: return "message_too_big";
    case Drop::memory: return "memory";
    case Drop::too_many_devices: return "too_many_devices";
    case Drop::reassembly_timeout: return "reassembly_timeout";
    case Drop::busy: return "busy";
    case Drop::count_: break;
  }
  return "unknown";
}

uint64_t Counters::dropped() const {
  uint64_t sum = 0;
  for (uint64_t d : drops) sum += d;
  return sum;
}

ServerCore::ServerCore(wire::KeyStore keys, ServerLimits limits) : keys_(std::move(keys)), limits_(limits) {}

void ServerCore::release(Device& device, std::map<uint32_t, Partial>::iterator it) {
  device.bytes -= it->second.bytes;
  total_bytes_ -= it->second.bytes;
  device.partials.erase(it);
}

std::optional<Job> ServerCore::handle(const uint8_t* data, size_t size, const sockaddr_in& from,
                                      Clock::time_point now, std::vector<Outgoing>& out) {
  ++counters_.datagrams;
  agn_wire_header h{};
  const agn_wire_verdict verdict = agn_wire_parse(data, size, limits_.max_datagram, &h);
  if (verdict != AGN_WIRE_OK) {
    drop(static_cast<Drop>(static_cast<int>(verdict) - 1));
    return std::nullopt;
  }
  if (h.type != AGN_WIRE_REQUEST) {
    drop(Drop::wrong_direction);
    return std::nullopt;
  }
  const wire::Key* key = keys_.find(h.device_id);
  if (key == nullptr) {
    drop(Drop::unknown_device);
    return std::nullopt;
  }
  if (!agn_wire_tag_ok(key->data(), data, size)) {
    drop(Drop::bad_mac);
    return std::nullopt;
  }
  auto found = devices_.find(h.device_id);
  if (found == devices_.end()) {
    if (devices_.size() >= limits_.max_devices) {
      drop(Drop::too_many_devices);
      return std::nullopt;
    }
    found = devices_.emplace(h.device_id, Device{}).first;
    agn_wire_window_init(&found->second.window);
  }
  Device& device = found->second;

  switch (agn_wire_window_check(&device.window, h.seq)) {
    case AGN_WIRE_SEQ_STALE:
      drop(Drop::replayed);
      return std::nullopt;
    case AGN_WIRE_SEQ_DONE: {
      const auto cached = std::find_if(device.cache.begin(), device.cache.end(),
                                       [&](const Cached& c) { return c.seq == h.seq; });
      if (cached == device.cache.end()) {
        drop(Drop::replayed);
        return std::nullopt;
      }
      // A resend (or a replay) of an answered request: the same reply again, no decoding.
      ++counters_.duplicates_answered;
      for (const auto& d : cached->datagrams) out.push_back({from, d});
      return std::nullopt;
    }
    case AGN_WIRE_SEQ_OPEN:
      if (std::find(device.in_flight.begin(), device.in_flight.end(), h.seq) != device.in_flight.end()) {
        ++counters_.duplicates_ignored;
        return std::nullopt;
      }
      break;
    case AGN_WIRE_SEQ_NEW:
      break;
  }
  if (h.message_size > limits_.max_message) {
    drop(Drop::message_too_big);
    return std::nullopt;
  }

  auto partial = device.partials.find(h.seq);
  if (partial == device.partials.end()) {
    const size_t bytes = h.message_size + (h.frag_count + 7u) / 8u;
    if (device.partials.size() >= limits_.max_partials || device.bytes + bytes > limits_.device_bytes ||
        total_bytes_ + bytes > limits_.total_bytes) {
      drop(Drop::memory);
      return std::nullopt;
    }
    partial = device.partials.emplace(h.seq, Partial{}).first;
    Partial& p = partial->second;
    p.buffer.resize(h.message_size);
    p.bitmap.resize((h.frag_count + 7u) / 8u);
    agn_wire_assembler_init(&p.assembler, p.buffer.data(), p.buffer.size(), p.bitmap.data(), p.bitmap.size());
    p.started = now;
    p.bytes = bytes;
    device.bytes += bytes;
    total_bytes_ += bytes;
    peak_bytes_ = std::max(peak_bytes_, total_bytes_);
  }
  // Only an authenticated datagram moves the window; older partials that fall out are dropped.
  if (agn_wire_window_check(&device.window, h.seq) == AGN_WIRE_SEQ_NEW) {
    agn_wire_window_advance(&device.window, h.seq);
    for (auto it = device.partials.begin(); it != device.partials.end();) {
      const auto next = std::next(it);
      if (agn_wire_window_check(&device.window, it->first) == AGN_WIRE_SEQ_STALE) release(device, it);
      it = next;
    }
  }

  switch (agn_wire_assembler_add(&partial->second.assembler, &h, data + AGN_WIRE_HEADER_SIZE)) {
    case AGN_WIRE_ADD_STORED:
      return std::nullopt;
    case AGN_WIRE_ADD_DUPLICATE:
      ++counters_.duplicates_ignored;
      return std::nullopt;
    case AGN_WIRE_ADD_MISMATCH:
    case AGN_WIRE_ADD_TOO_BIG:
      // Same device and sequence but another geometry: only the key holder can send this; keep
      // the first message and count the datagram as a bad header.
      drop(Drop::bad_header);
      return std::nullopt;
    case AGN_WIRE_ADD_COMPLETE:
      break;
  }
  Job job;
  job.device_id = h.device_id;
  job.seq = h.seq;
  job.peer = from;
  job.request = std::move(partial->second.buffer);
  job.completed = now;
  release(device, partial);
  device.in_flight.push_back(h.seq);
  ++counters_.requests;
  return job;
}

void ServerCore::reply(const Job& job, const BackendResult& result, uint32_t server_time_us,
                       std::vector<Outgoing>& out) {
  const wire::Key* key = keys_.find(job.device_id);
  auto found = devices_.find(job.device_id);
  if (key == nullptr || found == devices_.end()) return;
  Device& device = found->second;
  std::erase(device.in_flight, job.seq);

  const bool ok = result.status == AGN_WIRE_REPLY_OK;
  const unsigned classes = ok ? static_cast<unsigned>(result.logits.size()) : 0;
  std::vector<uint8_t> message(agn_wire_reply_size(classes));
  size_t written = 0;
  if (agn_wire_reply_write(result.status, server_time_us, ok ? result.logits.data() : nullptr, classes,
                           message.data(), message.size(), &written) != AGN_OK) {
    // A backend bug (too many classes, unknown status): answer with a server error instead.
    agn_wire_reply_write(AGN_WIRE_REPLY_SERVER_ERROR, server_time_us, nullptr, 0, message.data(), message.size(),
                         &written);
  }
  message.resize(written);
  Cached cached;
  cached.seq = job.seq;
  const size_t count = agn_wire_fragment_count(message.size(), limits_.max_datagram);
  for (size_t i = 0; i < count; ++i) {
    std::vector<uint8_t> d(limits_.max_datagram);
    size_t size = 0;
    agn_wire_write_fragment(key->data(), AGN_WIRE_REPLY, job.device_id, job.seq, message.data(), message.size(),
                            limits_.max_datagram, static_cast<unsigned>(i), d.data(), d.size(), &size);
    d.resize(size);
    out.push_back({job.peer, d});
    cached.datagrams.push_back(std::move(d));
  }
  ++counters_.replies;
  agn_wire_window_mark_done(&device.window, job.seq);
  if (limits_.reply_cache == 0) return;
  if (device.cache.size() >= limits_.reply_cache) device.cache.erase(device.cache.begin());
  device.cache.push_back(std::move(cached));
}

void ServerCore::abandon(const Job& job) {
  drop(Drop::busy);
  const auto found = devices_.find(job.device_id);
  if (found != devices_.end()) std::erase(found->second.in_flight, job.seq);
}

void ServerCore::expire(Clock::time_point now) {
  const auto timeout = std::chrono::duration<double, std::milli>(limits_.reassembly_timeout_ms);
  for (auto& [id, device] : devices_) {
    for (auto it = device.partials.begin(); it != device.partials.end();) {
      const auto next = std::next(it);
      if (now - it->second.started > timeout) {
        drop(Drop::reassembly_timeout);
        release(device, it);
      }
      it = next;
    }
  }
}

}  // namespace agilenn::server
