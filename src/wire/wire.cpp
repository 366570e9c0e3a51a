#include "wire/wire.h"

#include <string.h>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "wire/siphash.h"

namespace {

// Byte offsets of the header fields (wire_format.h rules 1-11).
enum : size_t {
  kMagic = 0,
  kVersion = 2,
  kType = 3,
  kDevice = 4,
  kSeq = 8,
  kIndex = 12,
  kCount = 14,
  kMessageSize = 16,
  kPayloadSize = 20,
  kFlags = 22,
  kCrc = 24,
};

size_t chunk_size(size_t message_size, size_t count) { return (message_size + count - 1) / count; }

// Rule 12: the payload size fragment `index` of a message must have; 0 if the geometry is invalid.
size_t expected_payload(size_t message_size, size_t count, size_t index) {
  if (count == 0 || index >= count || message_size == 0) return 0;
  const size_t chunk = chunk_size(message_size, count);
  const size_t offset = index * chunk;
  if (offset >= message_size) return 0;
  const size_t rest = message_size - offset;
  return rest < chunk ? rest : chunk;
}

uint32_t datagram_crc(const uint8_t* datagram, size_t payload_size) {
  const uint32_t crc = agn_crc32_update(0, datagram, kCrc);
  return agn_crc32_update(crc, datagram + AGN_WIRE_HEADER_SIZE, payload_size);
}

void store_u64le(uint8_t* p, uint64_t v) {
  agn_store_u32le(p, static_cast<uint32_t>(v));
  agn_store_u32le(p + 4, static_cast<uint32_t>(v >> 32));
}

// Serial-number distance seq - newest as a signed value (RFC 1982 style).
int64_t seq_distance(uint32_t seq, uint32_t newest) {
  return static_cast<int32_t>(static_cast<uint32_t>(seq - newest));
}

}  // namespace

extern "C" {

const char* agn_wire_verdict_name(agn_wire_verdict verdict) {
  switch (verdict) {
    case AGN_WIRE_OK: return "ok";
    case AGN_WIRE_TRUNCATED: return "truncated";
    case AGN_WIRE_OVERSIZED: return "oversized";
    case AGN_WIRE_BAD_MAGIC: return "bad_magic";
    case AGN_WIRE_BAD_VERSION: return "wrong_version";
    case AGN_WIRE_BAD_TYPE: return "bad_type";
    case AGN_WIRE_BAD_HEADER: return "bad_header";
    case AGN_WIRE_BAD_CHECKSUM: return "bad_checksum";
    case AGN_WIRE_BAD_MAC: return "bad_mac";
  }
  return "unknown";
}

agn_wire_verdict agn_wire_parse(const uint8_t* datagram, size_t size, size_t max_datagram,
                                agn_wire_header* header) {
  if (datagram == nullptr || size < AGN_WIRE_OVERHEAD) return AGN_WIRE_TRUNCATED;
  if (size > max_datagram || size > AGN_WIRE_MAX_DATAGRAM) return AGN_WIRE_OVERSIZED;
  if (agn_load_u16le(datagram + kMagic) != AGN_WIRE_MAGIC) return AGN_WIRE_BAD_MAGIC;
  if (datagram[kVersion] != AGN_WIRE_VERSION) return AGN_WIRE_BAD_VERSION;
  const uint8_t type = datagram[kType];
  if (type != AGN_WIRE_REQUEST && type != AGN_WIRE_REPLY) return AGN_WIRE_BAD_TYPE;
  agn_wire_header h;
  h.version = datagram[kVersion];
  h.type = type;
  h.device_id = agn_load_u32le(datagram + kDevice);
  h.seq = agn_load_u32le(datagram + kSeq);
  h.frag_index = agn_load_u16le(datagram + kIndex);
  h.frag_count = agn_load_u16le(datagram + kCount);
  h.message_size = agn_load_u32le(datagram + kMessageSize);
  h.payload_size = agn_load_u16le(datagram + kPayloadSize);
  h.flags = agn_load_u16le(datagram + kFlags);
  // The length field decides truncated/oversized before the geometry, so a cut datagram is
  // counted as truncated whatever its header says.
  const size_t declared = AGN_WIRE_OVERHEAD + static_cast<size_t>(h.payload_size);
  if (size < declared) return AGN_WIRE_TRUNCATED;
  if (size > declared) return AGN_WIRE_OVERSIZED;
  if (h.flags != 0 || h.frag_count == 0 || h.frag_count > AGN_WIRE_MAX_FRAGMENTS ||
      h.message_size == 0 || h.message_size > AGN_WIRE_MAX_MESSAGE ||
      h.payload_size != expected_payload(h.message_size, h.frag_count, h.frag_index)) {
    return AGN_WIRE_BAD_HEADER;
  }
  if (agn_load_u32le(datagram + kCrc) != datagram_crc(datagram, h.payload_size)) {
    return AGN_WIRE_BAD_CHECKSUM;
  }
  if (header != nullptr) *header = h;
  return AGN_WIRE_OK;
}

int agn_wire_tag_ok(const uint8_t key[AGN_WIRE_KEY_SIZE], const uint8_t* datagram, size_t size) {
  if (key == nullptr || datagram == nullptr || size < AGN_WIRE_TAG_SIZE) return 0;
  const size_t body = size - AGN_WIRE_TAG_SIZE;
  uint8_t expected[AGN_WIRE_TAG_SIZE];
  store_u64le(expected, agn_siphash24(key, datagram, body));
  uint8_t diff = 0;
  for (size_t i = 0; i < AGN_WIRE_TAG_SIZE; ++i) diff |= static_cast<uint8_t>(expected[i] ^ datagram[body + i]);
  return diff == 0;
}

size_t agn_wire_fragment_count(size_t message_size, size_t max_datagram) {
  if (message_size == 0 || message_size > AGN_WIRE_MAX_MESSAGE) return 0;
  if (max_datagram < AGN_WIRE_MIN_DATAGRAM || max_datagram > AGN_WIRE_MAX_DATAGRAM) return 0;
  const size_t capacity = max_datagram - AGN_WIRE_OVERHEAD;
  const size_t count = (message_size + capacity - 1) / capacity;
  return count <= AGN_WIRE_MAX_FRAGMENTS ? count : 0;
}

agn_status agn_wire_write_fragment(const uint8_t key[AGN_WIRE_KEY_SIZE], unsigned type,
                                   uint32_t device_id, uint32_t seq, const uint8_t* message,
                                   size_t message_size, size_t max_datagram, unsigned index,
                                   uint8_t* out, size_t out_cap, size_t* written) {
  if (key == nullptr || message == nullptr || out == nullptr || written == nullptr) return AGN_ERR_ARG;
  if (type != AGN_WIRE_REQUEST && type != AGN_WIRE_REPLY) return AGN_ERR_ARG;
  const size_t count = agn_wire_fragment_count(message_size, max_datagram);
  if (count == 0 || index >= count) return AGN_ERR_ARG;
  const size_t payload = expected_payload(message_size, count, index);
  const size_t total = AGN_WIRE_OVERHEAD + payload;
  if (out_cap < total) return AGN_ERR_NO_SPACE;
  agn_store_u16le(out + kMagic, AGN_WIRE_MAGIC);
  out[kVersion] = AGN_WIRE_VERSION;
  out[kType] = static_cast<uint8_t>(type);
  agn_store_u32le(out + kDevice, device_id);
  agn_store_u32le(out + kSeq, seq);
  agn_store_u16le(out + kIndex, static_cast<uint16_t>(index));
  agn_store_u16le(out + kCount, static_cast<uint16_t>(count));
  agn_store_u32le(out + kMessageSize, static_cast<uint32_t>(message_size));
  agn_store_u16le(out + kPayloadSize, static_cast<uint16_t>(payload));
  agn_store_u16le(out + kFlags, 0);
  memcpy(out + AGN_WIRE_HEADER_SIZE, message + index * chunk_size(message_size, count), payload);
  agn_store_u32le(out + kCrc, datagram_crc(out, payload));
  const size_t body = AGN_WIRE_HEADER_SIZE + payload;
  store_u64le(out + body, agn_siphash24(key, out, body));
  *written = total;
  return AGN_OK;
}

void agn_wire_assembler_init(agn_wire_assembler* a, uint8_t* buffer, size_t capacity,
                             uint8_t* bitmap, size_t bitmap_bytes) {
  a->buffer = buffer;
  a->capacity = buffer != nullptr ? capacity : 0;
  a->bitmap = bitmap;
  a->bitmap_bytes = bitmap != nullptr ? bitmap_bytes : 0;
  agn_wire_assembler_reset(a);
}

void agn_wire_assembler_reset(agn_wire_assembler* a) {
  a->active = 0;
  a->type = 0;
  a->device_id = 0;
  a->seq = 0;
  a->message_size = 0;
  a->frag_count = 0;
  a->received = 0;
}

agn_wire_add_result agn_wire_assembler_add(agn_wire_assembler* a, const agn_wire_header* h,
                                           const uint8_t* payload) {
  if (!a->active) {
    const size_t bitmap_needed = (static_cast<size_t>(h->frag_count) + 7) / 8;
    if (h->message_size > a->capacity || bitmap_needed > a->bitmap_bytes) return AGN_WIRE_ADD_TOO_BIG;
    memset(a->bitmap, 0, bitmap_needed);
    a->active = 1;
    a->type = h->type;
    a->device_id = h->device_id;
    a->seq = h->seq;
    a->message_size = h->message_size;
    a->frag_count = h->frag_count;
    a->received = 0;
  } else if (h->type != a->type || h->device_id != a->device_id || h->seq != a->seq ||
             h->message_size != a->message_size || h->frag_count != a->frag_count) {
    return AGN_WIRE_ADD_MISMATCH;
  }
  // Defensive: agn_wire_parse already guarantees this geometry.
  const size_t payload_size = expected_payload(a->message_size, a->frag_count, h->frag_index);
  if (payload_size == 0 || payload_size != h->payload_size) return AGN_WIRE_ADD_MISMATCH;
  const uint8_t bit = static_cast<uint8_t>(1u << (h->frag_index % 8));
  uint8_t* slot = &a->bitmap[h->frag_index / 8];
  if (*slot & bit) return AGN_WIRE_ADD_DUPLICATE;
  memcpy(a->buffer + static_cast<size_t>(h->frag_index) * chunk_size(a->message_size, a->frag_count),
         payload, payload_size);
  *slot = static_cast<uint8_t>(*slot | bit);
  ++a->received;
  return a->received == a->frag_count ? AGN_WIRE_ADD_COMPLETE : AGN_WIRE_ADD_STORED;
}

void agn_wire_window_init(agn_wire_window* w) {
  w->newest = 0;
  w->done = 0;
  w->started = 0;
}

agn_wire_seq_state agn_wire_window_check(const agn_wire_window* w, uint32_t seq) {
  if (!w->started) return AGN_WIRE_SEQ_NEW;
  const int64_t d = seq_distance(seq, w->newest);
  if (d > 0) return AGN_WIRE_SEQ_NEW;
  if (d <= -static_cast<int64_t>(AGN_WIRE_WINDOW)) return AGN_WIRE_SEQ_STALE;
  return ((w->done >> static_cast<unsigned>(-d)) & 1u) ? AGN_WIRE_SEQ_DONE : AGN_WIRE_SEQ_OPEN;
}

void agn_wire_window_advance(agn_wire_window* w, uint32_t seq) {
  if (!w->started) {
    w->started = 1;
    w->newest = seq;
    w->done = 0;
    return;
  }
  const int64_t d = seq_distance(seq, w->newest);
  if (d <= 0) return;
  w->done = d >= static_cast<int64_t>(AGN_WIRE_WINDOW) ? 0 : (w->done << static_cast<unsigned>(d));
  w->newest = seq;
}

void agn_wire_window_mark_done(agn_wire_window* w, uint32_t seq) {
  if (!w->started) return;
  const int64_t d = seq_distance(seq, w->newest);
  if (d > 0 || d <= -static_cast<int64_t>(AGN_WIRE_WINDOW)) return;
  w->done |= 1ull << static_cast<unsigned>(-d);
}

agn_status agn_wire_request_header_write(unsigned codec, uint8_t* out, size_t out_cap) {
  if (out == nullptr || codec > AGN_WIRE_CODEC_RANS) return AGN_ERR_ARG;
  if (out_cap < AGN_WIRE_REQUEST_HEADER) return AGN_ERR_NO_SPACE;
  out[0] = static_cast<uint8_t>(codec);
  out[1] = out[2] = out[3] = 0;
  return AGN_OK;
}

agn_status agn_wire_request_parse(const uint8_t* message, size_t size, unsigned* codec,
                                  const uint8_t** stream, size_t* stream_size) {
  if (message == nullptr || codec == nullptr || stream == nullptr || stream_size == nullptr) return AGN_ERR_ARG;
  if (size < AGN_WIRE_REQUEST_HEADER) return AGN_ERR_TRUNCATED;
  if (message[0] > AGN_WIRE_CODEC_RANS || message[1] != 0 || message[2] != 0 || message[3] != 0) {
    return AGN_ERR_FORMAT;
  }
  *codec = message[0];
  *stream = message + AGN_WIRE_REQUEST_HEADER;
  *stream_size = size - AGN_WIRE_REQUEST_HEADER;
  return AGN_OK;
}

size_t agn_wire_reply_size(unsigned classes) {
  return AGN_WIRE_REPLY_HEADER + 4 * static_cast<size_t>(classes);
}

agn_status agn_wire_reply_write(unsigned status, uint32_t server_time_us, const float* logits,
                                unsigned classes, uint8_t* out, size_t out_cap, size_t* written) {
  if (out == nullptr || written == nullptr || status > AGN_WIRE_REPLY_SERVER_ERROR ||
      classes > AGN_WIRE_MAX_CLASSES || (status != AGN_WIRE_REPLY_OK && classes != 0) ||
      (classes != 0 && logits == nullptr)) {
    return AGN_ERR_ARG;
  }
  const size_t size = agn_wire_reply_size(classes);
  if (out_cap < size) return AGN_ERR_NO_SPACE;
  out[0] = static_cast<uint8_t>(status);
  out[1] = 0;
  agn_store_u16le(out + 2, static_cast<uint16_t>(classes));
  agn_store_u32le(out + 4, server_time_us);
  for (unsigned i = 0; i < classes; ++i) {
    uint32_t bits;
    memcpy(&bits, &logits[i], sizeof bits);
    agn_store_u32le(out + AGN_WIRE_REPLY_HEADER + 4 * static_cast<size_t>(i), bits);
  }
  *written = size;
  return AGN_OK;
}

agn_status agn_wire_reply_parse(const uint8_t* message, size_t size, agn_wire_reply* reply) {
  if (message == nullptr || reply == nullptr) return AGN_ERR_ARG;
  if (size < AGN_WIRE_REPLY_HEADER) return AGN_ERR_TRUNCATED;
  const unsigned status = message[0];
  const unsigned classes = agn_load_u16le(message + 2);
  if (status > AGN_WIRE_REPLY_SERVER_ERROR || message[1] != 0 || classes > AGN_WIRE_MAX_CLASSES ||
      (status != AGN_WIRE_REPLY_OK && classes != 0)) {
    return AGN_ERR_FORMAT;
  }
  if (size < agn_wire_reply_size(classes)) return AGN_ERR_TRUNCATED;
  if (size > agn_wire_reply_size(classes)) return AGN_ERR_FORMAT;
  reply->status = status;
  reply->classes = classes;
  reply->server_time_us = agn_load_u32le(message + 4);
  reply->logits = message + AGN_WIRE_REPLY_HEADER;
  return AGN_OK;
}

float agn_wire_reply_logit(const agn_wire_reply* reply, unsigned i) {
  const uint32_t bits = agn_load_u32le(reply->logits + 4 * static_cast<size_t>(i));
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

void agn_wire_dev_key(const uint8_t* model, size_t size, uint8_t key[AGN_WIRE_KEY_SIZE]) {
  // Public labels as SipHash keys: "agilenn-devkey-0" and "agilenn-devkey-1".
  static const uint8_t kLabel0[16] = {'a', 'g', 'i', 'l', 'e', 'n', 'n', '-', 'd', 'e', 'v', 'k', 'e', 'y', '-', '0'};
  static const uint8_t kLabel1[16] = {'a', 'g', 'i', 'l', 'e', 'n', 'n', '-', 'd', 'e', 'v', 'k', 'e', 'y', '-', '1'};
  store_u64le(key, agn_siphash24(kLabel0, model, size));
  store_u64le(key + 8, agn_siphash24(kLabel1, model, size));
}

}  // extern "C"
