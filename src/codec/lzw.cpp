#include "codec/lzw.h"

#include <string.h>

namespace {

constexpr unsigned kMaxCode = AGN_LZW_MAX_CODES - 1;  // 4095
// Worst-case staging use: one symbol can flush a code and a CLEAR (7 + 24 bits -> 3 bytes);
// finish flushes a code, STOP and padding (4 bytes).
constexpr unsigned kSymbolBytes = 3;
constexpr unsigned kFinishBytes = 4;

unsigned bit_length(unsigned v) {
  unsigned n = 0;
  while (v != 0) {
    ++n;
    v >>= 1;
  }
  return n;
}

// Width of the code written after `codes_since_reset` codes (see "Code widths" in lzw.h).
unsigned code_width(uint8_t width_mode, unsigned levels, unsigned codes_since_reset) {
  if (width_mode == AGN_LZW_FIXED) return AGN_LZW_MAX_BITS;
  const unsigned w = bit_length(levels + 1 + codes_since_reset);
  return w < AGN_LZW_MAX_BITS ? w : AGN_LZW_MAX_BITS;
}

// ---- encoder ------------------------------------------------------------------------------

void encoder_reset_dictionary(agn_lzw_encoder* enc) {
  memset(enc->hash, 0, sizeof(enc->hash));
  enc->next_code = (uint16_t)(enc->levels + 2);
  enc->codes_since_reset = 0;
}

// Double hashing over the prime-sized table; the load stays <= 4094/5003, so an empty slot
// always ends the probe. Returns the slot holding `key` or the empty slot where it belongs.
unsigned encoder_find_slot(const agn_lzw_encoder* enc, uint32_t key) {
  unsigned slot = key % AGN_LZW_HASH_SLOTS;
  const unsigned step = 1 + key % (AGN_LZW_HASH_SLOTS - 2);
  while (enc->hash[slot] != 0 && (enc->hash[slot] & 0xFFFFFu) != key) {
    slot += step;
    if (slot >= AGN_LZW_HASH_SLOTS) slot -= AGN_LZW_HASH_SLOTS;
  }
  return slot;
}

void encoder_compact_queue(agn_lzw_encoder* enc) {
  if (enc->queue_head == 0) return;
  const unsigned pending = enc->queue_len - enc->queue_head;
  memmove(enc->queue, enc->queue + enc->queue_head, pending);
  enc->queue_head = 0;
  enc->queue_len = (uint8_t)pending;
}

void encoder_emit(agn_lzw_encoder* enc, unsigned code) {
  const unsigned width = code_width(enc->width_mode, enc->levels, enc->codes_since_reset);
  enc->bit_buffer |= (uint32_t)code << enc->bit_count;
  enc->bit_count += width;
  while (enc->bit_count >= 8) {
    enc->queue[enc->queue_len++] = (uint8_t)enc->bit_buffer;
    enc->bit_buffer >>= 8;
    enc->bit_count -= 8;
  }
  ++enc->codes_since_reset;
}

// ---- decoder ------------------------------------------------------------------------------

void decoder_reset_dictionary(agn_lzw_decoder* dec) {
  dec->codes_since_reset = 0;
  dec->previous = -1;
}

agn_status decoder_fail(agn_lzw_decoder* dec, agn_status status) {
  dec->error = (int8_t)status;
  return status;
}

// Handles one code; on success the decoded string (if any) is on the stack, reversed.
agn_status decoder_process(agn_lzw_decoder* dec, unsigned code) {
  const unsigned levels = dec->levels;
  const unsigned clear_code = levels;
  const unsigned stop_code = levels + 1;

  if (code == stop_code) {
    dec->stopped = 1;
    // What is left must be the zero padding of the last byte: no extra bytes, no set bits.
    if (dec->bit_count >= 8 || dec->bit_buffer != 0) return decoder_fail(dec, AGN_ERR_CORRUPT);
    return AGN_OK;
  }
  if (code == clear_code) {
    decoder_reset_dictionary(dec);
    return AGN_OK;
  }
  if (dec->previous < 0) {
    if (code >= levels) return decoder_fail(dec, AGN_ERR_CORRUPT);
    dec->stack[0] = (uint8_t)code;
    dec->stack_len = 1;
    dec->previous = (int32_t)code;
    dec->previous_first = (uint8_t)code;
    dec->codes_since_reset = 1;
    return AGN_OK;
  }

  // The entry this code defines; codes above it do not exist yet.
  const unsigned next = levels + 1 + dec->codes_since_reset;
  if (next > kMaxCode || code > next) return decoder_fail(dec, AGN_ERR_CORRUPT);
  if (code == next) {  // KwKwK: string(previous) + its own first symbol
    dec->prefix[next] = (uint16_t)dec->previous;
    dec->suffix[next] = dec->previous_first;
  }
  unsigned c = code;
  unsigned len = 0;
  while (c >= levels + 2) {  // prefixes are always smaller codes, so this terminates
    dec->stack[len++] = dec->suffix[c];
    c = dec->prefix[c];
  }
  dec->stack[len++] = (uint8_t)c;
  dec->stack_len = (uint16_t)len;
  if (code != next) {
    dec->prefix[next] = (uint16_t)dec->previous;
    dec->suffix[next] = (uint8_t)c;
  }
  dec->previous = (int32_t)code;
  dec->previous_first = (uint8_t)c;
  ++dec->codes_since_reset;
  return AGN_OK;
}

}  // namespace

extern "C" size_t agn_lzw_max_encoded_size(size_t count, unsigned levels) {
  if (levels < 2 || levels > 256) return 0;
  const size_t codes = count + count / (kMaxCode - 1 - levels) + 1;
  return (codes / 2) * 3 + (codes % 2) * 2;  // ceil(12 * codes / 8)
}

extern "C" agn_status agn_lzw_encoder_init(agn_lzw_encoder* enc, unsigned levels,
                                           agn_lzw_width width) {
  if (enc == nullptr || levels < 2 || levels > 256 ||
      (width != AGN_LZW_FIXED && width != AGN_LZW_VARIABLE)) {
    return AGN_ERR_ARG;
  }
  enc->levels = (uint16_t)levels;
  enc->width_mode = (uint8_t)width;
  enc->bit_buffer = 0;
  enc->bit_count = 0;
  enc->current = -1;
  enc->finished = 0;
  enc->queue_head = 0;
  enc->queue_len = 0;
  enc->error = AGN_OK;
  encoder_reset_dictionary(enc);
  return AGN_OK;
}

extern "C" agn_status agn_lzw_encoder_sink(agn_lzw_encoder* enc, const uint8_t* in, size_t in_size,
                                           size_t* consumed) {
  if (enc == nullptr || consumed == nullptr || (in_size > 0 && in == nullptr)) return AGN_ERR_ARG;
  *consumed = 0;
  if (enc->error != AGN_OK) return (agn_status)enc->error;
  if (enc->finished) return AGN_ERR_STATE;
  encoder_compact_queue(enc);

  size_t n = 0;
  while (n < in_size && enc->queue_len + kSymbolBytes + kFinishBytes <= AGN_LZW_QUEUE_BYTES) {
    const unsigned symbol = in[n];
    if (symbol >= enc->levels) {
      *consumed = n;
      enc->error = AGN_ERR_RANGE;
      return AGN_ERR_RANGE;
    }
    ++n;
    if (enc->current < 0) {
      enc->current = (int32_t)symbol;
      continue;
    }
    const uint32_t key = ((uint32_t)enc->current << 8) | symbol;
    const unsigned slot = encoder_find_slot(enc, key);
    if (enc->hash[slot] != 0) {
      enc->current = (int32_t)(enc->hash[slot] >> 20);
      continue;
    }
    encoder_emit(enc, (unsigned)enc->current);
    enc->hash[slot] = ((uint32_t)enc->next_code << 20) | key;
    if (++enc->next_code == AGN_LZW_MAX_CODES) {  // full: reset rule 4 in lzw.h
      encoder_emit(enc, enc->levels);              // CLEAR
      encoder_reset_dictionary(enc);
    }
    enc->current = (int32_t)symbol;
  }
  *consumed = n;
  return AGN_OK;
}

extern "C" agn_status agn_lzw_encoder_poll(agn_lzw_encoder* enc, uint8_t* out, size_t out_cap,
                                           size_t* written) {
  if (enc == nullptr || written == nullptr || (out_cap > 0 && out == nullptr)) return AGN_ERR_ARG;
  *written = 0;
  if (enc->error != AGN_OK) return (agn_status)enc->error;
  size_t n = enc->queue_len - enc->queue_head;
  if (n > out_cap) n = out_cap;
  if (n > 0) memcpy(out, enc->queue + enc->queue_head, n);
  enc->queue_head = (uint8_t)(enc->queue_head + n);
  *written = n;
  return AGN_OK;
}

extern "C" agn_status agn_lzw_encoder_finish(agn_lzw_encoder* enc) {
  if (enc == nullptr) return AGN_ERR_ARG;
  if (enc->error != AGN_OK) return (agn_status)enc->error;
  if (enc->finished) return AGN_ERR_STATE;
  encoder_compact_queue(enc);
  if (enc->current >= 0) encoder_emit(enc, (unsigned)enc->current);
  encoder_emit(enc, enc->levels + 1u);  // STOP
  if (enc->bit_count > 0) enc->queue[enc->queue_len++] = (uint8_t)enc->bit_buffer;
  enc->bit_buffer = 0;
  enc->bit_count = 0;
  enc->current = -1;
  enc->finished = 1;
  return AGN_OK;
}

extern "C" agn_status agn_lzw_decoder_init(agn_lzw_decoder* dec, unsigned levels,
                                           agn_lzw_width width) {
  if (dec == nullptr || levels < 2 || levels > 256 ||
      (width != AGN_LZW_FIXED && width != AGN_LZW_VARIABLE)) {
    return AGN_ERR_ARG;
  }
  dec->levels = (uint16_t)levels;
  dec->width_mode = (uint8_t)width;
  dec->stack_len = 0;
  dec->stopped = 0;
  dec->error = AGN_OK;
  dec->bit_buffer = 0;
  dec->bit_count = 0;
  decoder_reset_dictionary(dec);
  return AGN_OK;
}

extern "C" agn_status agn_lzw_decoder_sink(agn_lzw_decoder* dec, const uint8_t* in, size_t in_size,
                                           size_t* consumed) {
  if (dec == nullptr || consumed == nullptr || (in_size > 0 && in == nullptr)) return AGN_ERR_ARG;
  *consumed = 0;
  if (dec->error != AGN_OK) return (agn_status)dec->error;
  if (dec->stopped && in_size > 0) return decoder_fail(dec, AGN_ERR_CORRUPT);
  size_t n = 0;
  while (n < in_size && dec->bit_count <= 24) {
    dec->bit_buffer |= (uint32_t)in[n++] << dec->bit_count;
    dec->bit_count += 8;
  }
  *consumed = n;
  return AGN_OK;
}

extern "C" agn_status agn_lzw_decoder_poll(agn_lzw_decoder* dec, uint8_t* out, size_t out_cap,
                                           size_t* written) {
  if (dec == nullptr || written == nullptr || (out_cap > 0 && out == nullptr)) return AGN_ERR_ARG;
  *written = 0;
  if (dec->error != AGN_OK) return (agn_status)dec->error;
  size_t n = 0;
  for (;;) {
    while (dec->stack_len > 0 && n < out_cap) out[n++] = dec->stack[--dec->stack_len];
    if (dec->stack_len > 0 || dec->stopped) break;
    const unsigned width = code_width(dec->width_mode, dec->levels, dec->codes_since_reset);
    if (dec->bit_count < width) break;
    const unsigned code = dec->bit_buffer & ((1u << width) - 1u);
    dec->bit_buffer >>= width;
    dec->bit_count -= width;
    const agn_status st = decoder_process(dec, code);
    if (st != AGN_OK) {
      *written = n;
      return st;
    }
  }
  *written = n;
  return AGN_OK;
}

extern "C" agn_status agn_lzw_decoder_finish(agn_lzw_decoder* dec) {
  if (dec == nullptr) return AGN_ERR_ARG;
  if (dec->error != AGN_OK) return (agn_status)dec->error;
  if (dec->stack_len > 0) return AGN_ERR_STATE;
  if (dec->stopped) return AGN_OK;
  const unsigned width = code_width(dec->width_mode, dec->levels, dec->codes_since_reset);
  return dec->bit_count >= width ? AGN_ERR_STATE : AGN_ERR_TRUNCATED;
}

extern "C" agn_status agn_lzw_encode(agn_lzw_encoder* state, unsigned levels, agn_lzw_width mode,
                                     const uint8_t* map, size_t rows, unsigned width, uint8_t* out,
                                     size_t out_cap, size_t* written) {
  if (written == nullptr || (out_cap > 0 && out == nullptr) || (rows > 0 && width > 0 && map == nullptr)) {
    return AGN_ERR_ARG;
  }
  *written = 0;
  agn_status st = agn_lzw_encoder_init(state, levels, mode);
  size_t out_pos = 0;
  // Moves what the encoder has staged to `out`: AGN_ERR_NO_SPACE if some of it does not fit.
  const auto drain = [&]() -> agn_status {
    size_t n = 0;
    const agn_status polled = agn_lzw_encoder_poll(state, out + out_pos, out_cap - out_pos, &n);
    out_pos += n;
    if (polled == AGN_OK && state->queue_len != state->queue_head) return AGN_ERR_NO_SPACE;
    return polled;
  };
  // The map's rows, a chunk of symbols at a time unpacked for the sink.
  constexpr unsigned kChunk = 32;
  uint8_t chunk[kChunk + 1];  // + an odd row's pad nibble
  const size_t row_bytes = agn_symbol_row_bytes(width);
  for (size_t r = 0; r < rows && st == AGN_OK; ++r, map += row_bytes) {
    for (unsigned x0 = 0; x0 < width && st == AGN_OK; x0 += kChunk) {
      const unsigned n = width - x0 < kChunk ? width - x0 : kChunk;
      const uint8_t* bytes = map + x0 / 2;  // x0 is even: two symbols a byte (symbol_map.h)
      for (unsigned i = 0; i < n; i += 2, ++bytes) {
        chunk[i] = (uint8_t)(*bytes & 0xFu);
        chunk[i + 1] = (uint8_t)(*bytes >> 4);  // past n (an odd row's pad) when i + 1 == n
      }
      size_t done = 0;
      while (done < n && st == AGN_OK) {
        size_t consumed = 0;
        st = agn_lzw_encoder_sink(state, chunk + done, n - done, &consumed);
        done += consumed;
        if (st == AGN_OK) st = drain();
      }
    }
  }
  if (st == AGN_OK) st = agn_lzw_encoder_finish(state);
  if (st == AGN_OK) st = drain();
  *written = out_pos;
  return st;
}

extern "C" agn_status agn_lzw_decode(agn_lzw_decoder* state, unsigned levels, agn_lzw_width width,
                                     const uint8_t* in, size_t in_size, uint8_t* symbols,
                                     size_t out_cap, size_t* written) {
  if (written == nullptr || (out_cap > 0 && symbols == nullptr)) return AGN_ERR_ARG;
  *written = 0;
  agn_status st = agn_lzw_decoder_init(state, levels, width);
  size_t in_pos = 0;
  size_t out_pos = 0;
  while (st == AGN_OK) {
    size_t consumed = 0;
    st = agn_lzw_decoder_sink(state, in + in_pos, in_size - in_pos, &consumed);
    in_pos += consumed;
    if (st != AGN_OK) break;
    size_t n = 0;
    st = agn_lzw_decoder_poll(state, symbols + out_pos, out_cap - out_pos, &n);
    out_pos += n;
    if (st != AGN_OK) break;
    if (out_pos == out_cap && state->stack_len > 0) st = AGN_ERR_NO_SPACE;
    else if (consumed == 0 && n == 0) break;  // no progress: stopped, or input exhausted
  }
  if (st == AGN_OK) st = agn_lzw_decoder_finish(state);
  if (st == AGN_OK && in_pos != in_size) st = AGN_ERR_CORRUPT;
  *written = out_pos;
  return st;
}
