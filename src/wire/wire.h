// Encoding and checking of agilenn datagrams and messages (layout: include/agilenn/wire_format.h).
//
// Device-portable: C API, no heap (every buffer belongs to the caller), no exceptions, no RTTI.
// The same functions run on the MCU, in the host client and in the server, so both sides of the
// link share one implementation of the format.
#ifndef AGILENN_WIRE_WIRE_H
#define AGILENN_WIRE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "agilenn/wire_format.h"
#include "common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Why a datagram was rejected. Values are stable (they index the server's drop counters).
typedef enum agn_wire_verdict {
  AGN_WIRE_OK = 0,
  AGN_WIRE_TRUNCATED = 1,     // shorter than the overhead or than its payload size says
  AGN_WIRE_OVERSIZED = 2,     // longer than the receiver's datagram limit or its payload size says
  AGN_WIRE_BAD_MAGIC = 3,
  AGN_WIRE_BAD_VERSION = 4,
  AGN_WIRE_BAD_TYPE = 5,
  AGN_WIRE_BAD_HEADER = 6,    // flags, fragment index/count or sizes break rules 7-12
  AGN_WIRE_BAD_CHECKSUM = 7,
  AGN_WIRE_BAD_MAC = 8,
} agn_wire_verdict;
#define AGN_WIRE_VERDICT_COUNT 9

// A short constant name ("bad_mac", ...) usable as a JSON key; never null.
const char* agn_wire_verdict_name(agn_wire_verdict verdict);

// The fields of a datagram header (wire_format.h rules 1-10).
typedef struct agn_wire_header {
  uint8_t version;
  uint8_t type;
  uint32_t device_id;
  uint32_t seq;
  uint16_t frag_index;
  uint16_t frag_count;
  uint32_t message_size;
  uint16_t payload_size;
  uint16_t flags;
} agn_wire_header;

// Checks everything in a datagram that needs no key: size (>= overhead, <= max_datagram, exactly
// overhead + payload size), magic, version, type, flags, fragment geometry, CRC-32. On
// AGN_WIRE_OK fills `header`; the fragment's bytes are at datagram + AGN_WIRE_HEADER_SIZE.
// Never reads outside datagram[0..size).
agn_wire_verdict agn_wire_parse(const uint8_t* datagram, size_t size, size_t max_datagram,
                                agn_wire_header* header);

// 1 if the last 8 bytes of the datagram are the SipHash-2-4 tag of the rest under `key`, else 0.
// The comparison does not stop at the first differing byte. `size` must be >= AGN_WIRE_TAG_SIZE.
int agn_wire_tag_ok(const uint8_t key[AGN_WIRE_KEY_SIZE], const uint8_t* datagram, size_t size);

// Fragments a message of `message_size` bytes needs under `max_datagram`; 0 when the size is
// outside 1..AGN_WIRE_MAX_MESSAGE, max_datagram outside [AGN_WIRE_MIN_DATAGRAM,
// AGN_WIRE_MAX_DATAGRAM], or more than AGN_WIRE_MAX_FRAGMENTS would be needed.
size_t agn_wire_fragment_count(size_t message_size, size_t max_datagram);

// Writes fragment `index` of `message` as one complete datagram (header, CRC, payload, tag).
// Errors: AGN_ERR_ARG (null pointers, bad type, index >= the fragment count, or a fragment count
// of 0 as above), AGN_ERR_NO_SPACE (out_cap too small for this datagram).
agn_status agn_wire_write_fragment(const uint8_t key[AGN_WIRE_KEY_SIZE], unsigned type,
                                   uint32_t device_id, uint32_t seq, const uint8_t* message,
                                   size_t message_size, size_t max_datagram, unsigned index,
                                   uint8_t* out, size_t out_cap, size_t* written);

// --- Reassembly of one message (caller-owned buffer and bitmap) --------------------------------

typedef enum agn_wire_add_result {
  AGN_WIRE_ADD_STORED = 0,     // new fragment stored, message still incomplete
  AGN_WIRE_ADD_COMPLETE = 1,   // new fragment stored and every fragment is now present
  AGN_WIRE_ADD_DUPLICATE = 2,  // this fragment was already stored (nothing changed)
  AGN_WIRE_ADD_MISMATCH = 3,   // another message (type, device, seq, size or count differ)
  AGN_WIRE_ADD_TOO_BIG = 4,    // the message or its bitmap does not fit the caller's buffers
} agn_wire_add_result;

typedef struct agn_wire_assembler {
  uint8_t* buffer;        // message bytes, capacity `capacity`
  size_t capacity;
  uint8_t* bitmap;        // one bit per fragment, capacity `bitmap_bytes`
  size_t bitmap_bytes;
  uint8_t active;         // a first fragment fixed the fields below
  uint8_t type;
  uint32_t device_id;
  uint32_t seq;
  uint32_t message_size;
  uint16_t frag_count;
  uint16_t received;      // distinct fragments stored
} agn_wire_assembler;

// Binds the caller's buffers; the assembler starts empty.
void agn_wire_assembler_init(agn_wire_assembler* a, uint8_t* buffer, size_t capacity,
                             uint8_t* bitmap, size_t bitmap_bytes);
// Forgets the current message.
void agn_wire_assembler_reset(agn_wire_assembler* a);
// Adds a fragment that agn_wire_parse accepted (and whose tag was checked). When the assembler is
// empty the fragment starts a message. The message is a->buffer[0..a->message_size) once
// AGN_WIRE_ADD_COMPLETE is returned.
agn_wire_add_result agn_wire_assembler_add(agn_wire_assembler* a, const agn_wire_header* header,
                                           const uint8_t* payload);

// --- Sequence window (wire_format.h) -----------------------------------------------------------

typedef enum agn_wire_seq_state {
  AGN_WIRE_SEQ_NEW = 0,    // newer than every sequence seen (or the first one)
  AGN_WIRE_SEQ_OPEN = 1,   // inside the window, not completed
  AGN_WIRE_SEQ_DONE = 2,   // inside the window, completed
  AGN_WIRE_SEQ_STALE = 3,  // older than the window: a replay
} agn_wire_seq_state;

typedef struct agn_wire_window {
  uint32_t newest;  // newest sequence seen
  uint64_t done;    // bit i: sequence newest - i is completed (i < AGN_WIRE_WINDOW)
  uint8_t started;
} agn_wire_window;

void agn_wire_window_init(agn_wire_window* w);
agn_wire_seq_state agn_wire_window_check(const agn_wire_window* w, uint32_t seq);
// Makes `seq` the newest sequence if it is newer (sliding the bitmap); otherwise no change.
void agn_wire_window_advance(agn_wire_window* w, uint32_t seq);
// Marks `seq` completed; ignored when it is outside the window (stale or newer than newest).
void agn_wire_window_mark_done(agn_wire_window* w, uint32_t seq);

// --- Message bodies ----------------------------------------------------------------------------

// Writes the 4-byte request header for `codec`. Errors: AGN_ERR_ARG (codec > AGN_WIRE_CODEC_RANS,
// null), AGN_ERR_NO_SPACE.
agn_status agn_wire_request_header_write(unsigned codec, uint8_t* out, size_t out_cap);
// Splits a request message into its codec and stream. Errors: AGN_ERR_TRUNCATED (size < 4),
// AGN_ERR_FORMAT (unknown codec, reserved bytes not 0).
agn_status agn_wire_request_parse(const uint8_t* message, size_t size, unsigned* codec,
                                  const uint8_t** stream, size_t* stream_size);

// AGN_WIRE_REPLY_HEADER + 4 * classes.
size_t agn_wire_reply_size(unsigned classes);
// Writes a reply message. `logits` may be null when classes is 0. Errors: AGN_ERR_ARG (status
// unknown, classes > AGN_WIRE_MAX_CLASSES, an error status with classes != 0), AGN_ERR_NO_SPACE.
agn_status agn_wire_reply_write(unsigned status, uint32_t server_time_us, const float* logits,
                                unsigned classes, uint8_t* out, size_t out_cap, size_t* written);

typedef struct agn_wire_reply {
  unsigned status;
  unsigned classes;
  uint32_t server_time_us;
  const uint8_t* logits;  // classes * 4 bytes inside the parsed message
} agn_wire_reply;

// Errors: AGN_ERR_TRUNCATED, AGN_ERR_FORMAT (unknown status, reserved byte, size != header +
// 4 * classes, an error status with logits).
agn_status agn_wire_reply_parse(const uint8_t* message, size_t size, agn_wire_reply* reply);
// Logit `i` (< reply->classes) of a parsed reply.
float agn_wire_reply_logit(const agn_wire_reply* reply, unsigned i);

// --- Development key ---------------------------------------------------------------------------

// The development key of a model: SipHash-2-4 of the model's bytes under two fixed public keys.
// Anyone holding the model can compute it, so it authenticates nothing against an attacker who
// has the model; it exists so that loopback development needs no keys file.
void agn_wire_dev_key(const uint8_t* model, size_t size, uint8_t key[AGN_WIRE_KEY_SIZE]);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_WIRE_WIRE_H
