// The device application on the emulated Cortex-M7: for each image of a host file (semihosting),
// extractor -> split -> Local NN -> quantise -> encode (the runtime with the fused Cortex-M7
// kernels; rANS when the model has tables, else raw packing), then the request in wire datagrams
// over UART0 to the host's radio bridge (src/mcu/bridge.h), which forwards them to
// `agilenn serve` and returns the reply. Link time is modelled from the bytes (src/mcu/app_link.h),
// compute time from SysTick under QEMU's -icount (40 instructions per tick), and the deadline
// runs on that modelled clock. The two predictions are mixed with the model's alpha exactly as
// the host does (float local logits, double mix, float result), and one record per image goes to
// the results file.
//
// The model: built with AGN_APP_MODEL_COMPILED_IN, the generated C++ source of an export
// (agilenn_model.h/.cpp) is linked in; otherwise the model is read from the flash model slot that
// QEMU's loader fills (firmware/bsp/board.h), like flashing the board's model partition. Both are
// the same bytes (the generated source is model.agnm as an array).
//
// Errors go to the semihosting debug console (QEMU's stderr) and end the run with status 2; UART0
// carries only frames.
#include <string.h>

#include "bsp/board.h"
#include "bsp/semihost.h"
#include "bsp/systick.h"
#include "bsp/uart.h"
#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/kernels/kernels.h"
#include "device/runtime.h"
#include "mcu/app_link.h"
#include "wire/wire.h"

#ifdef AGN_APP_MODEL_COMPILED_IN
#include "agilenn_model.h"
#endif

namespace {

constexpr size_t kArenaCapacity = 64 * 1024;
// The request: its header and the raw packing of up to 32 K symbols of 4 bits (a rANS stream that
// would not fit goes packed: runtime.h, agn_runtime_encode_default).
constexpr size_t kMessageCapacity = AGN_WIRE_REQUEST_HEADER + 16 * 1024;
constexpr size_t kMaxClasses = 256;
constexpr size_t kMaxImage = 64 * 64 * 3;
constexpr size_t kReplyCapacity = AGN_WIRE_REPLY_HEADER + 4 * kMaxClasses;
constexpr unsigned kExitError = 2;

alignas(4) uint8_t g_arena[kArenaCapacity];
uint8_t g_message[kMessageCapacity];
uint8_t g_datagram[AGN_LINK_HEADER + AGN_WIRE_DEFAULT_MAX_DATAGRAM + 64];
uint8_t g_frame[AGN_WIRE_DEFAULT_MAX_DATAGRAM];
uint8_t g_reply[kReplyCapacity];
uint8_t g_reply_bitmap[4];
uint8_t g_image[kMaxImage];
uint8_t g_record[AGN_APP_RECORD_FIXED + kMaxClasses];
agn_model g_model;
agn_runtime g_runtime;

struct Config {
  char images[200] = {};
  char results[200] = {};
  uint32_t count = 0;
  uint32_t cpu_khz = 216000;
  uint64_t rate_bps = 6000000;
  uint32_t delay_us = 0;
  uint32_t deadline_us = 200000;
  uint32_t device_id = 1;
  uint32_t seq = 1;
  uint32_t max_datagram = AGN_WIRE_DEFAULT_MAX_DATAGRAM;
  uint8_t key[AGN_WIRE_KEY_SIZE] = {};
  bool have_key = false;
};

[[noreturn]] void fail(const char* what, const char* detail = "") {
  agn_semihost_write0("mcu app: ");
  agn_semihost_write0(what);
  agn_semihost_write0(detail);
  agn_semihost_write0("\n");
  agn_semihost_exit(kExitError);
}

bool parse_u64(const char* text, uint64_t* out) {
  if (*text == '\0') return false;
  uint64_t v = 0;
  for (; *text != '\0'; ++text) {
    if (*text < '0' || *text > '9' || v > 0xFFFFFFFFFFFFFFFull / 10) return false;
    v = v * 10 + static_cast<uint64_t>(*text - '0');
  }
  *out = v;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One "key=value" word of the command line.
void parse_word(Config& c, const char* key, const char* value) {
  uint64_t v = 0;
  auto number = [&](uint64_t max) {
    if (!parse_u64(value, &v) || v > max) fail("bad number in the command line for ", key);
    return v;
  };
  auto path = [&](char* out, size_t cap) {
    if (strlen(value) >= cap) fail("path too long: ", key);
    strcpy(out, value);
  };
  if (strcmp(key, "images") == 0) {
    path(c.images, sizeof(c.images));
  } else if (strcmp(key, "results") == 0) {
    path(c.results, sizeof(c.results));
  } else if (strcmp(key, "count") == 0) {
    c.count = static_cast<uint32_t>(number(0xFFFFFFFFu));
  } else if (strcmp(key, "cpu_khz") == 0) {
    c.cpu_khz = static_cast<uint32_t>(number(0xFFFFFFFFu));
  } else if (strcmp(key, "rate_bps") == 0) {
    c.rate_bps = number(1000000000000ull);
  } else if (strcmp(key, "delay_us") == 0) {
    c.delay_us = static_cast<uint32_t>(number(60000000u));
  } else if (strcmp(key, "deadline_us") == 0) {
    c.deadline_us = static_cast<uint32_t>(number(0xFFFFFFFFu));
  } else if (strcmp(key, "device_id") == 0) {
    c.device_id = static_cast<uint32_t>(number(0xFFFFFFFFu));
  } else if (strcmp(key, "seq") == 0) {
    c.seq = static_cast<uint32_t>(number(0xFFFFFFFFu));
  } else if (strcmp(key, "max_datagram") == 0) {
    c.max_datagram = static_cast<uint32_t>(number(AGN_WIRE_DEFAULT_MAX_DATAGRAM));
  } else if (strcmp(key, "key") == 0) {
    if (strlen(value) != 2 * AGN_WIRE_KEY_SIZE) fail("key= needs 32 hex digits", "");
    for (unsigned i = 0; i < AGN_WIRE_KEY_SIZE; ++i) {
      const int hi = hex_digit(value[2 * i]), lo = hex_digit(value[2 * i + 1]);
      if (hi < 0 || lo < 0) fail("key= needs 32 hex digits", "");
      c.key[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    c.have_key = true;
  } else {
    fail("unknown command-line word: ", key);
  }
}

Config read_config() {
  static char line[1024];
  if (agn_semihost_command_line(line, sizeof(line)) != 0) fail("command line too long");
  Config c;
  char* p = strchr(line, ' ');  // skip the kernel's path
  while (p != nullptr && *p != '\0') {
    while (*p == ' ') ++p;
    if (*p == '\0') break;
    char* end = strchr(p, ' ');
    if (end != nullptr) *end = '\0';
    char* eq = strchr(p, '=');
    if (eq == nullptr) fail("command-line word without '=': ", p);
    *eq = '\0';
    parse_word(c, p, eq + 1);
    p = end != nullptr ? end + 1 : nullptr;
  }
  if (c.images[0] == '\0' || c.results[0] == '\0' || !c.have_key || c.cpu_khz == 0 ||
      c.max_datagram < AGN_WIRE_MIN_DATAGRAM) {
    fail("the command line needs images=, results=, key= and positive cpu_khz=, max_datagram=");
  }
  return c;
}

void load_model() {
#ifdef AGN_APP_MODEL_COMPILED_IN
  const uint8_t* bytes = agilenn_model;
  const size_t size = AGILENN_MODEL_SIZE;
#else
  const uint8_t* bytes = agn_board_model_slot();
  const size_t size = agn_load_u32le(bytes + AGN_MODEL_OFFSET_FILE_SIZE);
  if (size > AGN_BOARD_MODEL_SLOT_BYTES) fail("no model in the flash model slot");
#endif
  if (agn_model_load(&g_model, bytes, size) != AGN_OK) fail("model: ", g_model.error);
  if (g_model.local.classes > kMaxClasses) fail("model: too many classes");
  if (size_t{g_model.input_height} * g_model.input_width * g_model.input_channels > kMaxImage) {
    fail("model: input larger than the image buffer");
  }
}

uint32_t model_crc() {
#ifdef AGN_APP_MODEL_COMPILED_IN
  return agn_crc32(agilenn_model, AGILENN_MODEL_SIZE);
#else
  const uint8_t* slot = agn_board_model_slot();
  return agn_crc32(slot, agn_load_u32le(slot + AGN_MODEL_OFFSET_FILE_SIZE));
#endif
}

void send_frame(uint8_t type, const uint8_t* body, size_t size) {
  const uint8_t header[AGN_LINK_HEADER] = {AGN_LINK_SYNC, type, static_cast<uint8_t>(size & 0xFF),
                                           static_cast<uint8_t>(size >> 8)};
  agn_uart_write(header, sizeof(header));
  agn_uart_write(body, size);
}

// Next frame from the bridge into g_frame; returns its type and body size.
uint8_t receive_frame(size_t* size) {
  for (;;) {
    if (agn_uart_get() != AGN_LINK_SYNC) continue;
    const uint8_t type = agn_uart_get();
    const size_t n = agn_uart_get() | (static_cast<size_t>(agn_uart_get()) << 8);
    if (n > sizeof(g_frame)) {  // larger than any datagram of ours: skip it
      for (size_t i = 0; i < n; ++i) agn_uart_get();
      continue;
    }
    for (size_t i = 0; i < n; ++i) g_frame[i] = agn_uart_get();
    *size = n;
    return type;
  }
}

// Nanoseconds a datagram of `bytes` occupies the link (0: unlimited rate).
uint64_t link_ns(const Config& c, size_t bytes) {
  if (c.rate_bps == 0) return 0;
  return (static_cast<uint64_t>(bytes) + AGN_WIRE_IP_UDP_OVERHEAD) * 8ull * 1000000000ull / c.rate_bps;
}

void store_u64(uint8_t* p, uint64_t v) {
  agn_store_u32le(p, static_cast<uint32_t>(v));
  agn_store_u32le(p + 4, static_cast<uint32_t>(v >> 32));
}

template <typename T>
unsigned argmax(const T* v, unsigned n) {
  unsigned best = 0;
  for (unsigned i = 1; i < n; ++i) best = v[i] > v[best] ? i : best;
  return best;
}

struct Reply {
  agn_app_outcome outcome = AGN_APP_NO_REPLY;
  uint8_t status = 0;
  uint16_t datagrams = 0;
  uint32_t bytes = 0;
  uint32_t server_us = 0;
  uint64_t down_ns = 0;
  agn_wire_reply parsed{};
};

// Waits for the reply to `seq` (or the bridge's no-reply frame), checking every datagram.
Reply await_reply(const Config& c, uint32_t seq) {
  Reply r;
  agn_wire_assembler assembler;
  agn_wire_assembler_init(&assembler, g_reply, sizeof(g_reply), g_reply_bitmap, sizeof(g_reply_bitmap));
  for (;;) {
    size_t size = 0;
    const uint8_t type = receive_frame(&size);
    if (type == AGN_LINK_NO_REPLY) {
      if (size == 4 && agn_load_u32le(g_frame) == seq) return r;
      continue;
    }
    if (type != AGN_LINK_DATAGRAM) continue;
    agn_wire_header h;
    if (agn_wire_parse(g_frame, size, sizeof(g_frame), &h) != AGN_WIRE_OK || h.type != AGN_WIRE_REPLY ||
        h.device_id != c.device_id || h.seq != seq || !agn_wire_tag_ok(c.key, g_frame, size)) {
      continue;
    }
    const agn_wire_add_result added = agn_wire_assembler_add(&assembler, &h, g_frame + AGN_WIRE_HEADER_SIZE);
    if (added != AGN_WIRE_ADD_STORED && added != AGN_WIRE_ADD_COMPLETE) continue;
    ++r.datagrams;
    r.bytes += static_cast<uint32_t>(size);
    r.down_ns += link_ns(c, size);
    if (added != AGN_WIRE_ADD_COMPLETE) continue;
    if (agn_wire_reply_parse(g_reply, assembler.message_size, &r.parsed) != AGN_OK) {
      r.outcome = AGN_APP_REJECTED;
      return r;
    }
    r.status = static_cast<uint8_t>(r.parsed.status);
    r.server_us = r.parsed.server_time_us;
    r.outcome = r.parsed.status == AGN_WIRE_REPLY_OK && r.parsed.classes == g_model.local.classes ? AGN_APP_ANSWERED
                                                                                                   : AGN_APP_REJECTED;
    return r;
  }
}

}  // namespace

int main() {
  const Config c = read_config();
  load_model();
  const unsigned codecs = agn_runtime_default_codecs(&g_model);
  const agn_codec default_codec = codecs & AGN_CODEC_BIT(AGN_CODEC_RANS) ? AGN_CODEC_RANS : AGN_CODEC_RAW;
  const size_t max_payload = agn_runtime_max_payload(&g_model, AGN_CODEC_RAW);
  if (AGN_WIRE_REQUEST_HEADER + max_payload > sizeof(g_message)) fail("model: payload larger than the message buffer");
  if (agn_runtime_init(&g_runtime, &g_model, codecs, &agn_kernels_cm7, g_arena, sizeof(g_arena)) != AGN_OK) {
    fail("runtime: ", g_runtime.error);
  }
  const size_t image_size = size_t{g_model.input_height} * g_model.input_width * g_model.input_channels;
  const unsigned classes = g_model.local.classes;

  const int images = agn_semihost_open(c.images, AGN_SEMIHOST_READ);
  if (images < 0) fail("cannot open ", c.images);
  const int results = agn_semihost_open(c.results, AGN_SEMIHOST_WRITE);
  if (results < 0) fail("cannot create ", c.results);
  uint8_t header[AGN_APP_RESULTS_HEADER] = {};
  agn_store_u32le(header, AGN_APP_RESULTS_MAGIC);
  agn_store_u16le(header + 4, AGN_APP_RESULTS_VERSION);
  agn_store_u16le(header + 6, static_cast<uint16_t>(classes));
  agn_store_u16le(header + 8, static_cast<uint16_t>(AGN_APP_RECORD_FIXED + classes));
  header[10] = static_cast<uint8_t>(default_codec);
  agn_store_u32le(header + 12, model_crc());
  if (agn_semihost_write(results, header, sizeof(header)) != sizeof(header)) fail("cannot write ", c.results);

  agn_uart_init();
  agn_systick_start();
  const uint64_t delay_ns = uint64_t{c.delay_us} * 1000u;
  const uint64_t deadline_ns = uint64_t{c.deadline_us} * 1000u;
  uint32_t seq = c.seq;
  for (uint32_t index = 0; index < c.count; ++index, ++seq) {
    if (agn_semihost_read(images, g_image, image_size) != image_size) fail("images file too short: ", c.images);

    // Compute on the modelled clock: the runtime, the encoder and the framing of every datagram
    // (the UART transfers in between are not counted: the link is modelled from the bytes).
    uint64_t start = agn_systick_read();
    int8_t logits[kMaxClasses];
    size_t payload = 0;
    agn_codec codec = default_codec;
    if (agn_runtime_run(&g_runtime, g_image, image_size, logits, sizeof(logits)) != AGN_OK ||
        agn_runtime_encode_default(&g_runtime, g_message + AGN_WIRE_REQUEST_HEADER, max_payload, &payload, &codec) !=
            AGN_OK) {
      fail("runtime: ", g_runtime.error);
    }
    const uint64_t compute_ticks = agn_systick_read() - start;
    start = agn_systick_read();
    if (agn_wire_request_header_write(codec == AGN_CODEC_RANS ? AGN_WIRE_CODEC_RANS : AGN_WIRE_CODEC_PACKED, g_message,
                                      AGN_WIRE_REQUEST_HEADER) != AGN_OK) {
      fail("request header failed");
    }
    uint64_t ticks = agn_systick_read() - start;  // framing
    const size_t message_size = AGN_WIRE_REQUEST_HEADER + payload;
    const size_t fragments = agn_wire_fragment_count(message_size, c.max_datagram);
    if (fragments == 0) fail("message does not fit the wire format");
    uint32_t bytes_up = 0;
    uint64_t up_ns = 0;
    for (size_t i = 0; i < fragments; ++i) {
      size_t size = 0;
      start = agn_systick_read();
      if (agn_wire_write_fragment(c.key, AGN_WIRE_REQUEST, c.device_id, seq, g_message, message_size, c.max_datagram,
                                  static_cast<unsigned>(i), g_datagram, sizeof(g_datagram), &size) != AGN_OK) {
        fail("framing failed");
      }
      ticks += agn_systick_read() - start;
      bytes_up += static_cast<uint32_t>(size);
      up_ns += link_ns(c, size);
      send_frame(AGN_LINK_DATAGRAM, g_datagram, size);
    }
    uint8_t seq_body[4];
    agn_store_u32le(seq_body, seq);
    send_frame(AGN_LINK_SEND, seq_body, sizeof(seq_body));
    const uint32_t payload_crc = agn_crc32(g_message + AGN_WIRE_REQUEST_HEADER, payload);

    Reply reply = await_reply(c, seq);
    const uint64_t framing_instructions = ticks * AGN_SYSTICK_ICOUNT_INSTRUCTIONS_PER_TICK;
    const uint64_t instructions = (compute_ticks + ticks) * AGN_SYSTICK_ICOUNT_INSTRUCTIONS_PER_TICK;
    const uint64_t compute_ns = instructions * 1000000ull / c.cpu_khz;
    const uint64_t round_trip_ns = up_ns + delay_ns + uint64_t{reply.server_us} * 1000u + reply.down_ns + delay_ns;
    if (reply.outcome == AGN_APP_ANSWERED && round_trip_ns > deadline_ns) reply.outcome = AGN_APP_LATE;

    // Mixing, as the host does it: float local logits, double mix, float result.
    float final_logits[kMaxClasses];
    for (unsigned j = 0; j < classes; ++j) {
      final_logits[j] = g_model.local.logits_scale * static_cast<float>(logits[j] - g_model.local.logits_zero_point);
    }
    if (reply.outcome == AGN_APP_ANSWERED) {
      const double alpha = g_model.alpha;
      for (unsigned j = 0; j < classes; ++j) {
        final_logits[j] = static_cast<float>(alpha * final_logits[j] +
                                             (1 - alpha) * static_cast<double>(agn_wire_reply_logit(&reply.parsed, j)));
      }
    }

    memset(g_record, 0, sizeof(g_record));
    agn_store_u32le(g_record + AGN_APP_REC_INDEX, index);
    g_record[AGN_APP_REC_LOCAL_CLASS] = static_cast<uint8_t>(argmax(logits, classes));
    g_record[AGN_APP_REC_FINAL_CLASS] = static_cast<uint8_t>(argmax(final_logits, classes));
    g_record[AGN_APP_REC_OUTCOME] = static_cast<uint8_t>(reply.outcome);
    g_record[AGN_APP_REC_REPLY_STATUS] = reply.status;
    agn_store_u32le(g_record + AGN_APP_REC_PAYLOAD, static_cast<uint32_t>(payload));
    agn_store_u32le(g_record + AGN_APP_REC_PAYLOAD_CRC, payload_crc);
    agn_store_u16le(g_record + AGN_APP_REC_DGRAMS_UP, static_cast<uint16_t>(fragments));
    agn_store_u16le(g_record + AGN_APP_REC_DGRAMS_DOWN, reply.datagrams);
    agn_store_u32le(g_record + AGN_APP_REC_BYTES_UP, bytes_up);
    agn_store_u32le(g_record + AGN_APP_REC_BYTES_DOWN, reply.bytes);
    agn_store_u32le(g_record + AGN_APP_REC_SERVER_US, reply.server_us);
    store_u64(g_record + AGN_APP_REC_INSTRUCTIONS, instructions);
    store_u64(g_record + AGN_APP_REC_FRAMING, framing_instructions);
    store_u64(g_record + AGN_APP_REC_UP_NS, up_ns);
    store_u64(g_record + AGN_APP_REC_DOWN_NS, reply.down_ns);
    store_u64(g_record + AGN_APP_REC_LATENCY_NS,
              compute_ns + (reply.outcome == AGN_APP_ANSWERED ? round_trip_ns : deadline_ns));
    memcpy(g_record + AGN_APP_RECORD_FIXED, logits, classes);
    const size_t record_size = AGN_APP_RECORD_FIXED + classes;
    if (agn_semihost_write(results, g_record, record_size) != record_size) fail("cannot write ", c.results);
  }
  agn_semihost_close(images);
  agn_semihost_close(results);
  return 0;
}
