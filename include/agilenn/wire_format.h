// The agilenn device <-> server wire format (UDP), shared by the MCU and the server.
//
// Every byte is written with the explicit little-endian helpers of src/common/byte_order.h; no
// packed struct is ever copied onto the wire. docs/wire.md explains the choices.
//
// Datagram (one UDP payload; AGN_WIRE_OVERHEAD = 36 bytes around the fragment's bytes):
//   1. bytes  0..1   u16 magic AGN_WIRE_MAGIC (the bytes "AG")
//   2. byte   2      u8  version AGN_WIRE_VERSION
//   3. byte   3      u8  message type: AGN_WIRE_REQUEST (device -> server) or AGN_WIRE_REPLY
//   4. bytes  4..7   u32 device id (selects the pre-shared key)
//   5. bytes  8..11  u32 sequence number of the message (a resend reuses it; a reply echoes it)
//   6. bytes 12..13  u16 fragment index, < fragment count
//   7. bytes 14..15  u16 fragment count, 1..AGN_WIRE_MAX_FRAGMENTS
//   8. bytes 16..19  u32 message size: bytes of the whole reassembled message, 1..AGN_WIRE_MAX_MESSAGE
//   9. bytes 20..21  u16 payload size: bytes of this fragment (rule 12); datagram size = 36 + it
//  10. bytes 22..23  u16 flags, 0 (reserved; a receiver rejects other values)
//  11. bytes 24..27  u32 CRC-32 (src/common/crc32.h) of bytes 0..23 followed by the payload
//  12. bytes 28..    the payload: bytes [index * chunk, index * chunk + payload size) of the
//                    message, where chunk = ceil(message size / fragment count). Every fragment
//                    is non-empty; payload size = min(chunk, message size - index * chunk).
//  13. last 8 bytes  u64 tag: SipHash-2-4 under the device's 128-bit key of every byte before it
//                    (bytes 0 .. 27 + payload size), stored little-endian.
//
// Fragmentation: a sender with datagram limit D (--max-datagram, default 1200) sends
// count = ceil(message size / (D - 36)) fragments, so chunk <= D - 36 and no datagram exceeds D.
// Receivers check rule 12 exactly, so all fragments of one message agree on the geometry.
//
// Checks, in this order, before a datagram is stored or decoded: size >= 36 (truncated), the
// server's datagram limit (oversized), magic, version, type, flags, fragment fields and sizes
// (rule 7-9, 12), CRC-32, a known device id, the tag, then the sequence window. The CRC separates
// line corruption from forgery in the drop counters; the tag is what authenticates.
//
// Sequence window (server, per device): the newest sequence seen and a bitmap of the
// AGN_WIRE_WINDOW sequences before it. Comparisons are serial-number arithmetic mod 2^32. A
// sequence older than the window is dropped as a replay. A fragment of a completed sequence in
// the window is answered from the per-device reply cache (no decoding, no Remote NN), or dropped
// as a replay if the cache no longer holds it. A device never reuses a sequence number under one
// key: the host client starts from the clock (docs/wire.md), firmware keeps a boot counter.
//
// Request message (type AGN_WIRE_REQUEST), AGN_WIRE_REQUEST_HEADER = 4 bytes then the stream:
//   1. byte  0     u8 codec of the stream (AGN_WIRE_CODEC_*)
//   2. bytes 1..3  reserved, 0
//   3. bytes 4..   the encoded symbols of the remote channels (codec/pack.h, lzw.h or rans.h
//                  stream; symbol count and layout come from the model both sides share)
//
// Reply message (type AGN_WIRE_REPLY), AGN_WIRE_REPLY_HEADER = 8 bytes then the logits:
//   1. byte  0     u8 status (AGN_WIRE_REPLY_*); on an error status the class count is 0
//   2. byte  1     reserved, 0
//   3. bytes 2..3  u16 class count C (0..AGN_WIRE_MAX_CLASSES)
//   4. bytes 4..7  u32 server time in microseconds (message complete -> reply built)
//   5. bytes 8..   C remote logits, IEEE-754 binary32 bit patterns as u32 little-endian
#ifndef AGILENN_WIRE_FORMAT_H
#define AGILENN_WIRE_FORMAT_H

#define AGN_WIRE_MAGIC 0x4741u  // bytes 0x41 'A', 0x47 'G'
#define AGN_WIRE_VERSION 1u

#define AGN_WIRE_REQUEST 1u
#define AGN_WIRE_REPLY 2u

#define AGN_WIRE_HEADER_SIZE 28u
#define AGN_WIRE_TAG_SIZE 8u
#define AGN_WIRE_OVERHEAD (AGN_WIRE_HEADER_SIZE + AGN_WIRE_TAG_SIZE)
#define AGN_WIRE_KEY_SIZE 16u

#define AGN_WIRE_DEFAULT_MAX_DATAGRAM 1200u
#define AGN_WIRE_MIN_DATAGRAM (AGN_WIRE_OVERHEAD + 1u)
#define AGN_WIRE_MAX_DATAGRAM 65507u  // the largest UDP payload over IPv4
#define AGN_WIRE_MAX_FRAGMENTS 1024u
#define AGN_WIRE_MAX_MESSAGE (1u << 20)
#define AGN_WIRE_WINDOW 64u

// Request codecs (byte 0 of a request).
#define AGN_WIRE_CODEC_PACKED 0u     // codec/pack.h fixed-width symbols
#define AGN_WIRE_CODEC_LZW_FIXED 1u  // codec/lzw.h, 12-bit codes
#define AGN_WIRE_CODEC_LZW_VAR 2u    // codec/lzw.h, variable-width codes
#define AGN_WIRE_CODEC_RANS 3u       // codec/rans.h with the model's tables
#define AGN_WIRE_REQUEST_HEADER 4u

// Reply status (byte 0 of a reply).
#define AGN_WIRE_REPLY_OK 0u
#define AGN_WIRE_REPLY_BAD_REQUEST 1u  // authentic, but the stream did not decode for this model
#define AGN_WIRE_REPLY_SERVER_ERROR 2u  // the Remote NN failed; the device uses its local result
#define AGN_WIRE_REPLY_HEADER 8u
#define AGN_WIRE_MAX_CLASSES 4096u

// Bytes the IPv4 and UDP headers add to every datagram on the link (counted in wire bytes).
#define AGN_WIRE_IP_UDP_OVERHEAD 28u

#endif  // AGILENN_WIRE_FORMAT_H
