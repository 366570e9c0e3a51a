// LZW over L-level symbols, as the paper uses it ("standard LZW", T. Welch 1984 / M. Nelson 1989),
// with streaming, bounded-memory encoder and decoder objects in the heatshrink style.
//
// Alphabet and dictionary:
//   1. One input unit is one symbol in [0, L), 2 <= L <= 256 (L = 8 for the 3-bit quantizer).
//   2. Codes 0..L-1 stand for the single symbols. Two codes are reserved:
//      CLEAR = L (reset the dictionary) and STOP = L+1 (end of stream).
//      New strings get codes L+2, L+3, ... up to 4095 (AGN_LZW_MAX_BITS = 12).
//   3. Encoding is textbook LZW: extend the current string w while w+c is in the dictionary;
//      otherwise emit code(w), add w+c as the next code, and restart with w = c.
//   4. Reset rule (explicit CLEAR): when adding w+c makes the dictionary full (code 4095
//      assigned), the encoder emits CLEAR right away and both sides return to the initial
//      dictionary of L symbols + 2 reserved codes. (The entry 4095 is never used.)
//   5. At the end the encoder emits code(w) if w is not empty, then STOP, then zero bits up to the
//      next byte boundary. Nothing follows; a decoder rejects trailing bytes.
//
// Code widths. Let i be the number of codes written since the last reset (CLEAR itself is not
// counted after the reset it causes; i = 0 at the start of the stream):
//   1. AGN_LZW_FIXED: every code, CLEAR and STOP included, is 12 bits.
//   2. AGN_LZW_VARIABLE: code number i is written with bitlen(L+1+i) bits, where bitlen(v) is
//      the number of bits of v (bitlen(9) = 4). L+1+i is the largest code the decoder can
//      accept at that point (the entry it is about to define, the KwKwK case), so widths grow
//      from bitlen(L+1) (4 bits for L = 8) up to 12, as in Unix `compress`.
//   3. Codes are packed LSB-first: code bit j goes to stream bit p+j, and stream bit k is bit
//      k % 8 of byte k / 8 (the same order as codec/pack.h and Unix `compress`).
//
// Integrity: the decoder rejects structurally invalid streams (see agn_lzw_decoder_poll), but
// LZW has little redundancy and most bit flips decode to other valid data; frames carry a CRC.
//
// Worst-case size: each symbol ends at most one code, every CLEAR follows 4094-L data codes,
// plus STOP: at most n + n/(4094-L) + 1 codes of <= 12 bits; agn_lzw_max_encoded_size() returns
// that many bytes (for L = 8: 1.5 bytes per symbol + 2, i.e. 4x the 3-bit packing).
//
// Streaming contract (both objects; state structs are caller-owned, any storage duration, and
// hold no pointers, so they may be copied or placed in a static arena):
//   init -> { sink (consumes what fits) ; poll until it writes less than out_cap } ... -> finish
//   -> poll until it writes less than out_cap. Each call does bounded work: sink at most
//   `in_size` units, poll at most `out_cap` bytes/symbols plus decoding of one code per
//   12 bits consumed. After an error every later call returns the same error.
// Memory: agn_lzw_encoder is ~20 KiB (hash table of 5003 32-bit slots), agn_lzw_decoder is
// ~16 KiB (prefix/suffix arrays of 4096 entries and a 4096-symbol output stack).
#ifndef AGILENN_CODEC_LZW_H
#define AGILENN_CODEC_LZW_H

#include <stddef.h>
#include <stdint.h>

#include "codec/symbol_map.h"
#include "common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AGN_LZW_MAX_BITS 12
#define AGN_LZW_MAX_CODES 4096   // 1 << AGN_LZW_MAX_BITS
#define AGN_LZW_HASH_SLOTS 5003  // prime > 4096 / 0.82, as in Unix compress
#define AGN_LZW_QUEUE_BYTES 16   // encoder output staging

typedef enum agn_lzw_width {
  AGN_LZW_FIXED = 0,     // 12-bit codes
  AGN_LZW_VARIABLE = 1,  // widths grow from bitlen(L+1) to 12 bits
} agn_lzw_width;

typedef struct agn_lzw_encoder {
  // slot = (code << 20) | (prefix << 8) | symbol, 0 = empty (codes >= L+2 > 0 are never 0).
  uint32_t hash[AGN_LZW_HASH_SLOTS];
  uint32_t bit_buffer;  // pending bits, LSB first; < 8 bits between calls
  uint32_t bit_count;
  int32_t current;      // code of the string w being extended, -1 if none
  uint16_t levels;
  uint16_t next_code;   // next dictionary code to assign
  uint16_t codes_since_reset;
  uint8_t width_mode;   // agn_lzw_width
  uint8_t finished;
  uint8_t queue[AGN_LZW_QUEUE_BYTES];
  uint8_t queue_head;   // bytes [queue_head, queue_len) are waiting for poll
  uint8_t queue_len;
  int8_t error;         // sticky agn_status
} agn_lzw_encoder;

typedef struct agn_lzw_decoder {
  uint16_t prefix[AGN_LZW_MAX_CODES];  // entry c = string(prefix[c]) + suffix[c], c >= L+2
  uint8_t suffix[AGN_LZW_MAX_CODES];
  uint8_t stack[AGN_LZW_MAX_CODES];    // decoded string, reversed; popped by poll
  uint16_t stack_len;
  uint16_t levels;
  uint16_t codes_since_reset;
  int32_t previous;       // previous data code since the last reset, -1 if none
  uint8_t previous_first; // first symbol of string(previous)
  uint8_t width_mode;
  uint8_t stopped;        // STOP has been decoded
  int8_t error;
  uint32_t bit_buffer;    // up to 32 pending input bits, LSB first
  uint32_t bit_count;
} agn_lzw_decoder;

// Upper bound on the encoded size in bytes of `count` symbols, valid for both widths.
size_t agn_lzw_max_encoded_size(size_t count, unsigned levels);

// Prepares `enc` for a new stream. Errors: AGN_ERR_ARG (null, levels outside [2, 256], bad mode).
agn_status agn_lzw_encoder_init(agn_lzw_encoder* enc, unsigned levels, agn_lzw_width width);
// Consumes symbols from `in` until its output staging could overflow; *consumed says how many.
// Errors: AGN_ERR_RANGE (symbol >= levels; *consumed stops before it), AGN_ERR_STATE (after finish).
agn_status agn_lzw_encoder_sink(agn_lzw_encoder* enc, const uint8_t* in, size_t in_size,
                                size_t* consumed);
// Moves up to `out_cap` pending bytes to `out`; *written < out_cap means nothing is pending.
agn_status agn_lzw_encoder_poll(agn_lzw_encoder* enc, uint8_t* out, size_t out_cap, size_t* written);
// Ends the stream (last code, STOP, padding) into the staging, which sink always leaves room
// for; then poll drains it. Errors: AGN_ERR_STATE if finish was already called.
agn_status agn_lzw_encoder_finish(agn_lzw_encoder* enc);

// Prepares `dec` for a new stream; `levels` and `width` must match the encoder's.
agn_status agn_lzw_decoder_init(agn_lzw_decoder* dec, unsigned levels, agn_lzw_width width);
// Consumes bytes into the 32-bit input buffer; *consumed says how many. Errors: AGN_ERR_CORRUPT
// (bytes after STOP).
agn_status agn_lzw_decoder_sink(agn_lzw_decoder* dec, const uint8_t* in, size_t in_size,
                                size_t* consumed);
// Decodes buffered codes, writing up to `out_cap` symbols; *written < out_cap means more input
// is needed (or STOP was reached). Errors: AGN_ERR_CORRUPT (code beyond the next free code,
// CLEAR missing when the dictionary is full, nonzero padding or extra bytes after STOP).
agn_status agn_lzw_decoder_poll(agn_lzw_decoder* dec, uint8_t* out, size_t out_cap, size_t* written);
// Call after the last sink and poll. AGN_OK if STOP was decoded; AGN_ERR_TRUNCATED if the input
// ended first; AGN_ERR_STATE if decodable input or output is still pending (poll first).
agn_status agn_lzw_decoder_finish(agn_lzw_decoder* dec);

// One-shot helpers over the streaming objects (`state` is caller-owned scratch).
// Encode: the rows * width symbols of a symbol map (codec/symbol_map.h), row after row, as the
// device holds them; AGN_ERR_NO_SPACE if out_cap < the encoded size (out_cap >=
// agn_lzw_max_encoded_size() always suffices). Decode: the whole stream must be in `in`; it
// writes one symbol per byte; AGN_ERR_NO_SPACE if it holds more than `out_cap` symbols.
agn_status agn_lzw_encode(agn_lzw_encoder* state, unsigned levels, agn_lzw_width mode, const uint8_t* map,
                          size_t rows, unsigned width, uint8_t* out, size_t out_cap, size_t* written);
agn_status agn_lzw_decode(agn_lzw_decoder* state, unsigned levels, agn_lzw_width width,
                          const uint8_t* in, size_t in_size, uint8_t* symbols, size_t out_cap,
                          size_t* written);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_CODEC_LZW_H
