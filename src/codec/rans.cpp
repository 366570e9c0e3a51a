#include "codec/rans.h"

#include <string.h>

#include "codec/symbol_map.h"
#include "common/byte_order.h"
#include "common/crc32.h"

namespace {

constexpr uint32_t kStateHigh = 1u << 31;  // x < kStateHigh always
constexpr size_t kHeaderBytes = 16;
constexpr size_t kCrcBytes = 4;
constexpr unsigned kRunTableBytes = AGN_RANS_RUN_SYMBOLS + 1;
constexpr unsigned kLookahead = 8;  // columns of the row above a run context looks at

bool valid_dims(unsigned levels, unsigned channels, unsigned height, unsigned width) {
  return levels >= 2 && levels <= AGN_RANS_MAX_LEVELS && channels >= 1 &&
         channels <= AGN_RANS_MAX_CHANNELS && height >= 1 && height <= 0xFFFF && width >= 1 &&
         width <= 0xFFFF;
}

size_t map_symbols(const agn_rans_model* m) { return (size_t)m->channels * m->height * m->width; }

// The d of a run context (rans.h): the offset of the first nonzero in columns x0 .. x0+7 (those
// in the row) of the row above, `up` (null for y = 0), or 8. For rows of one symbol per byte (the
// decoder's output, agn_rans_counts_add's input): where the 8 columns fit in the row they are read
// as two little-endian words, and the first nonzero byte is the one holding the lowest set bit.
inline unsigned up_distance(const uint8_t* up, unsigned x0, unsigned width) {
  if (up == nullptr) return kLookahead;
  if (x0 + kLookahead <= width) {
    const uint32_t w0 = agn_load_u32le(up + x0), w1 = agn_load_u32le(up + x0 + 4);
    if (w0 != 0) return (unsigned)__builtin_ctz(w0) >> 3;
    if (w1 != 0) return 4 + ((unsigned)__builtin_ctz(w1) >> 3);
    return kLookahead;
  }
  for (unsigned i = 0; x0 + i < width; ++i) {
    if (up[x0 + i] != 0) return i;
  }
  return kLookahead;
}

// The same for a symbol map row (symbol_map.h; the encoder's input, x0 < width): the 8 symbols
// from x0 are one little-endian word of nibbles (from an odd x0, shifted down a nibble with the
// fifth byte's low nibble on top). Near the row's end, the row's last word shifted down to x0:
// the columns past the end are zeros shifted in or the zero pad nibble.
inline unsigned map_up_distance(const uint8_t* up, unsigned x0, unsigned width) {
  if (up == nullptr) return kLookahead;
  const uint8_t* p = up + (x0 >> 1);
  uint32_t w;
  if (x0 + kLookahead <= width) {
    w = agn_load_u32le(p);
    if (x0 & 1u) w = (w >> 4) | ((uint32_t)p[4] << 28);
  } else {
    const unsigned row_bytes = (width + 1) / 2;
    if (row_bytes < 4) {
      for (unsigned i = 0; x0 + i < width; ++i) {
        if (agn_symbol_at(up, x0 + i) != 0) return i;
      }
      return kLookahead;
    }
    w = agn_load_u32le(up + row_bytes - 4) >> (4 * (x0 + kLookahead - 2 * row_bytes));
  }
  return w != 0 ? (unsigned)__builtin_ctz(w) >> 2 : kLookahead;
}

// Run context of a run starting at column x0 of a row of bytes (rans.h).
inline unsigned run_context(const uint8_t* row, const uint8_t* up, unsigned x0, unsigned width) {
  return 2 * up_distance(up, x0, width) + (x0 > 0 && row[x0 - 1] != 0);
}

// Value context from the symbols above (u) and to the left (l) of a value (rans.h).
inline unsigned value_context(unsigned u, unsigned l) { return 4 * (u < 3 ? u : 3) + (l < 3 ? l : 3); }

// Index of the last nonzero symbol in columns [0, p) of a symbol map row, or -1. Skips zeros
// 16 symbols (8 bytes) at a time, then 2 (a byte) at a time.
inline int prev_nonzero(const uint8_t* row, int p) {
  if ((p & 1) != 0) {  // column p - 1 shares its byte with column p
    if ((row[p >> 1] & 0xFu) != 0) return p - 1;
    --p;
  }
  while (p >= 16) {
    const uint32_t a = agn_load_u32le(row + (p >> 1) - 8), b = agn_load_u32le(row + (p >> 1) - 4);
    if (b != 0) return p - 8 + ((31 - __builtin_clz(b)) >> 2);
    if (a != 0) return p - 16 + ((31 - __builtin_clz(a)) >> 2);
    p -= 16;
  }
  while (p > 0) {
    const unsigned byte = row[(p >> 1) - 1];
    if (byte != 0) return (byte & 0xF0u) != 0 ? p - 1 : p - 2;
    p -= 2;
  }
  return -1;
}

// Encoder: state and output position, bytes go downwards and never below `lo`.
struct Encoder {
  uint32_t x;
  uint8_t* p;
  uint8_t* lo;
  // Encodes symbol s of the table `start` (rans.h layout). False when the output is full.
  inline bool put(const uint8_t* start, unsigned s) {
    const uint32_t c = start[s];
    const uint32_t f = (uint8_t)(start[s + 1] - c);
    const uint32_t x_max = f << 23;
    while (x >= x_max) {
      if (p == lo) return false;
      *--p = (uint8_t)x;
      x >>= 8;
    }
    x += (x / f) * (256u - f) + c;
    return true;
  }
};

// Encodes one channel's events last to first (the reverse of the order in rans.h), row by row
// from the last; `plane` is the channel's rows of the symbol map. A function of its own so that the compiler keeps the loop's variables in
// registers: it is the device's hot loop.
__attribute__((noinline)) agn_status encode_channel(const agn_rans_model* m, unsigned channel,
                                                    const uint8_t* plane, Encoder* state) {
  Encoder enc = *state;  // a local copy stays in registers (byte stores may alias *state)
  const agn_status status = [&]() -> agn_status {
    Encoder* const e = &enc;
    const unsigned width = m->width;
    const size_t row_bytes = agn_symbol_row_bytes(width);
    const unsigned levels = m->levels;
    const uint8_t* run_map = m->run_map + channel * AGN_RANS_RUN_CONTEXTS;
    const uint8_t* value_map = m->value_map + channel * AGN_RANS_VALUE_CONTEXTS;
    const uint8_t* run_start = m->run_start;
    const uint8_t* value_start = m->value_start;
    for (unsigned y = m->height; y-- > 0;) {
      const uint8_t* row = plane + y * row_bytes;
      const uint8_t* up = y > 0 ? row - row_bytes : nullptr;
      // Going backwards, the contexts' left neighbours are known: a run that starts right after
      // a value (x0 = q + 1 > 0) has a nonzero on its left, an escape or END after an escape has
      // a zero, and a value's left neighbour is the previous value when they touch (q = p - 1).
      int p = prev_nonzero(row, (int)width);
      unsigned v = p >= 0 ? agn_symbol_at(row, (unsigned)p) : 0;
      if (p + 1 < (int)width) {
        if (!e->put(run_start + run_map[2 * map_up_distance(up, (unsigned)(p + 1), width) + (p >= 0)] * kRunTableBytes, AGN_RANS_RUN_END)) return AGN_ERR_NO_SPACE;
      }
      while (p >= 0) {
        const int q = prev_nonzero(row, p);
        const unsigned vq = q >= 0 ? agn_symbol_at(row, (unsigned)q) : 0;
        if (v >= levels) return AGN_ERR_RANGE;
        if (levels > 2) {
          const unsigned u = up != nullptr ? agn_symbol_at(up, (unsigned)p) : 0;
          const uint8_t* table = value_start + value_map[value_context(u, q == p - 1 ? vq : 0)] * levels;
          if (!e->put(table, v - 1)) return AGN_ERR_NO_SPACE;
        }
        const unsigned start = (unsigned)(q + 1);
        unsigned x0 = start;  // where the last run symbol starts: after the escapes
        while ((unsigned)p - x0 >= AGN_RANS_RUN_ESCAPE) x0 += AGN_RANS_RUN_ESCAPE;
        if (!e->put(run_start + run_map[2 * map_up_distance(up, x0, width) + (x0 == start && start > 0)] * kRunTableBytes, (unsigned)p - x0)) return AGN_ERR_NO_SPACE;
        while (x0 > start) {
          x0 -= AGN_RANS_RUN_ESCAPE;
          if (!e->put(run_start + run_map[2 * map_up_distance(up, x0, width) + (x0 == start && start > 0)] * kRunTableBytes, AGN_RANS_RUN_ESCAPE)) return AGN_ERR_NO_SPACE;
        }
        p = q;
        v = vq;
      }
    }
    return AGN_OK;
  }();
  *state = enc;
  return status;
}

// Calls run(ctx, symbol) and value(ctx, symbol) for every event of one row, first to last.
template <typename Run, typename Value>
agn_status for_each_event(const uint8_t* row, const uint8_t* up, unsigned width, unsigned levels,
                          Run run, Value value) {
  unsigned x0 = 0;
  while (x0 < width) {
    unsigned p = x0;
    while (p < width && row[p] == 0) ++p;
    const unsigned ctx = run_context(row, up, x0, width);
    if (p == width) {
      run(ctx, AGN_RANS_RUN_END);
      break;
    }
    if (p - x0 >= AGN_RANS_RUN_ESCAPE) {
      run(ctx, AGN_RANS_RUN_ESCAPE);
      x0 += AGN_RANS_RUN_ESCAPE;
      continue;
    }
    run(ctx, p - x0);
    if (row[p] >= levels) return AGN_ERR_RANGE;
    value(value_context(up != nullptr ? up[p] : 0u, p > 0 ? row[p - 1] : 0u), row[p] - 1u);
    x0 = p + 1;
  }
  return AGN_OK;
}

// A table's starts (rans.h layout) from n quantized frequencies.
void write_table(const uint32_t* counts, unsigned n, uint8_t* out) {
  if (n < 2) {  // L = 2: one value symbol, never coded
    out[0] = 0;
    out[1] = 0;
    return;
  }
  uint16_t freqs[AGN_RANS_RUN_SYMBOLS];
  agn_rans_quantize_freqs(counts, n, freqs);
  unsigned c = 0;
  for (unsigned s = 0; s < n; ++s) {
    out[s] = (uint8_t)c;
    c += freqs[s];
  }
  out[n] = 0;  // 256
}

bool valid_table(const uint8_t* t, unsigned n) {
  if (t[0] != 0 || t[n] != 0) return false;
  for (unsigned s = 1; s < n; ++s) {
    if (t[s] <= t[s - 1]) return false;
  }
  return true;
}

// Builds one kind's tables and map: the counts of context k of channel c start at
// counts + c * contexts * stride + k * stride (n of them). Writes the map (channels * contexts
// bytes) and returns the number of tables written to `tables` (each n + 1 bytes), at most
// AGN_RANS_MAX_TABLES.
unsigned build_kind(const uint32_t* counts, unsigned stride, unsigned channels, unsigned contexts,
                    unsigned n, uint32_t min_events, uint8_t* map, uint8_t* tables) {
  const size_t channel_stride = (size_t)contexts * stride;
  const unsigned bytes = n + 1;
  uint32_t sum[AGN_RANS_RUN_SYMBOLS];
  // Table 0: everything.
  memset(sum, 0, sizeof sum);
  for (unsigned c = 0; c < channels; ++c) {
    for (unsigned k = 0; k < contexts; ++k) {
      for (unsigned s = 0; s < n; ++s) sum[s] += counts[c * channel_stride + k * stride + s];
    }
  }
  write_table(sum, n, tables);
  unsigned count = 1;
  // Channel tables, then context tables in order of events (largest first) while room is left.
  uint8_t channel_table[AGN_RANS_MAX_CHANNELS];
  for (unsigned c = 0; c < channels; ++c) {
    memset(sum, 0, sizeof sum);
    uint64_t total = 0;
    for (unsigned k = 0; k < contexts; ++k) {
      for (unsigned s = 0; s < n; ++s) {
        sum[s] += counts[c * channel_stride + k * stride + s];
        total += counts[c * channel_stride + k * stride + s];
      }
    }
    channel_table[c] = 0;
    if (total >= min_events && count < AGN_RANS_MAX_TABLES) {
      write_table(sum, n, tables + count * bytes);
      channel_table[c] = (uint8_t)count++;
    }
    for (unsigned k = 0; k < contexts; ++k) map[c * contexts + k] = channel_table[c];
  }
  for (;;) {
    uint64_t best_total = 0;
    unsigned best = 0;
    for (unsigned i = 0; i < channels * contexts; ++i) {
      const unsigned c = i / contexts, k = i % contexts;
      if (map[i] != channel_table[c] || channel_table[c] == 0) continue;  // done, or no channel table
      uint64_t total = 0;
      for (unsigned s = 0; s < n; ++s) total += counts[c * channel_stride + k * stride + s];
      if (total >= min_events && total > best_total) {
        best_total = total;
        best = i;
      }
    }
    if (best_total == 0 || count >= AGN_RANS_MAX_TABLES) break;
    const unsigned c = best / contexts, k = best % contexts;
    write_table(counts + c * channel_stride + k * stride, n, tables + count * bytes);
    map[best] = (uint8_t)count++;
  }
  return count;
}

}  // namespace

extern "C" agn_status agn_rans_quantize_freqs(const uint32_t* counts, unsigned n, uint16_t* freqs) {
  if (counts == nullptr || freqs == nullptr || n < 2 || n > AGN_RANS_RUN_SYMBOLS) return AGN_ERR_ARG;
  const uint32_t total_freq = 1u << AGN_RANS_SCALE_BITS;
  uint64_t total = 0;
  for (unsigned s = 0; s < n; ++s) total += counts[s];

  if (total == 0) {
    for (unsigned s = 0; s < n; ++s) freqs[s] = (uint16_t)(total_freq / n + (s < total_freq % n ? 1 : 0));
    return AGN_OK;
  }

  // Round to the nearest proportional value, at least 1, then fix the sum one step at a time.
  // Each step changes the symbol whose code-length change, count * log(f'/f), is cheapest,
  // approximated by count / f to stay in integers. The sum is off by at most 1.5 * n.
  uint32_t sum = 0;
  for (unsigned s = 0; s < n; ++s) {
    uint64_t f = ((uint64_t)counts[s] * total_freq + total / 2) / total;
    if (f == 0) f = 1;
    freqs[s] = (uint16_t)f;
    sum += (uint32_t)f;
  }
  while (sum > total_freq) {  // take 1 from the symbol with the smallest count / (f - 1)
    int best = -1;
    for (unsigned s = 0; s < n; ++s) {
      if (freqs[s] <= 1) continue;
      if (best < 0 || (uint64_t)counts[s] * (uint64_t)(freqs[best] - 1) <
                          (uint64_t)counts[best] * (uint64_t)(freqs[s] - 1)) {
        best = (int)s;
      }
    }
    --freqs[best];  // some f > 1 exists because sum > total_freq >= n
    --sum;
  }
  while (sum < total_freq) {  // give 1 to the symbol with the largest count / f
    unsigned best = 0;
    for (unsigned s = 1; s < n; ++s) {
      if ((uint64_t)counts[s] * freqs[best] > (uint64_t)counts[best] * freqs[s]) best = s;
    }
    ++freqs[best];
    ++sum;
  }
  return AGN_OK;
}

extern "C" agn_status agn_rans_counts_init(agn_rans_counts* counts, unsigned levels,
                                           unsigned channels, unsigned height, unsigned width) {
  if (counts == nullptr || !valid_dims(levels, channels, height, width)) return AGN_ERR_ARG;
  memset(counts, 0, sizeof *counts);
  counts->levels = (uint16_t)levels;
  counts->channels = (uint16_t)channels;
  counts->height = (uint16_t)height;
  counts->width = (uint16_t)width;
  return AGN_OK;
}

extern "C" agn_status agn_rans_counts_add(agn_rans_counts* counts, const uint8_t* symbols,
                                          size_t count) {
  if (counts == nullptr || symbols == nullptr ||
      count != (size_t)counts->channels * counts->height * counts->width) {
    return AGN_ERR_ARG;
  }
  const unsigned width = counts->width;
  for (unsigned c = 0; c < counts->channels; ++c) {
    for (unsigned y = 0; y < counts->height; ++y) {
      const uint8_t* row = symbols + ((size_t)c * counts->height + y) * width;
      const agn_status st = for_each_event(
          row, y > 0 ? row - width : nullptr, width, counts->levels,
          [&](unsigned ctx, unsigned s) { ++counts->run[c][ctx][s]; },
          [&](unsigned ctx, unsigned s) { ++counts->value[c][ctx][s]; });
      if (st != AGN_OK) return st;
    }
  }
  return AGN_OK;
}

extern "C" size_t agn_rans_model_size(unsigned levels, unsigned channels, unsigned run_tables,
                                      unsigned value_tables) {
  return kHeaderBytes + (size_t)channels * (AGN_RANS_RUN_CONTEXTS + AGN_RANS_VALUE_CONTEXTS) +
         (size_t)run_tables * kRunTableBytes + (size_t)value_tables * levels + kCrcBytes;
}

extern "C" size_t agn_rans_model_max_size(unsigned levels, unsigned channels) {
  return agn_rans_model_size(levels, channels, AGN_RANS_MAX_TABLES, AGN_RANS_MAX_TABLES);
}

extern "C" agn_status agn_rans_model_build(const agn_rans_counts* counts, uint32_t min_events,
                                           uint8_t* out, size_t out_cap, size_t* written) {
  if (counts == nullptr || out == nullptr || written == nullptr ||
      !valid_dims(counts->levels, counts->channels, counts->height, counts->width)) {
    return AGN_ERR_ARG;
  }
  *written = 0;
  const unsigned levels = counts->levels, channels = counts->channels;
  // Tables are built on the stack first (~11 KiB: a host-side function), then laid out.
  uint8_t run_map[AGN_RANS_MAX_CHANNELS * AGN_RANS_RUN_CONTEXTS];
  uint8_t value_map[AGN_RANS_MAX_CHANNELS * AGN_RANS_VALUE_CONTEXTS];
  uint8_t run_tables[AGN_RANS_MAX_TABLES * kRunTableBytes];
  uint8_t value_tables[AGN_RANS_MAX_TABLES * AGN_RANS_MAX_LEVELS];
  const unsigned r = build_kind(&counts->run[0][0][0], AGN_RANS_RUN_SYMBOLS, channels,
                                AGN_RANS_RUN_CONTEXTS, AGN_RANS_RUN_SYMBOLS, min_events, run_map,
                                run_tables);
  const unsigned v = build_kind(&counts->value[0][0][0], AGN_RANS_MAX_LEVELS - 1, channels,
                                AGN_RANS_VALUE_CONTEXTS, levels - 1, min_events, value_map,
                                value_tables);
  const size_t size = agn_rans_model_size(levels, channels, r, v);
  if (out_cap < size) return AGN_ERR_NO_SPACE;
  agn_store_u32le(out + 0, AGN_RANS_MODEL_MAGIC);
  agn_store_u16le(out + 4, AGN_RANS_MODEL_VERSION);
  out[6] = (uint8_t)levels;
  out[7] = AGN_RANS_SCALE_BITS;
  agn_store_u16le(out + 8, counts->channels);
  agn_store_u16le(out + 10, counts->height);
  agn_store_u16le(out + 12, counts->width);
  out[14] = (uint8_t)r;
  out[15] = (uint8_t)v;
  uint8_t* p = out + kHeaderBytes;
  memcpy(p, run_map, channels * AGN_RANS_RUN_CONTEXTS);
  p += channels * AGN_RANS_RUN_CONTEXTS;
  memcpy(p, value_map, channels * AGN_RANS_VALUE_CONTEXTS);
  p += channels * AGN_RANS_VALUE_CONTEXTS;
  memcpy(p, run_tables, r * kRunTableBytes);
  p += r * kRunTableBytes;
  memcpy(p, value_tables, v * levels);
  p += v * levels;
  agn_store_u32le(p, agn_crc32(out, size - kCrcBytes));
  *written = size;
  return AGN_OK;
}

extern "C" agn_status agn_rans_model_load(agn_rans_model* model, const uint8_t* in, size_t size) {
  if (model == nullptr || (size > 0 && in == nullptr)) return AGN_ERR_ARG;
  if (size < kHeaderBytes) return AGN_ERR_TRUNCATED;
  if (agn_load_u32le(in) != AGN_RANS_MODEL_MAGIC) return AGN_ERR_FORMAT;
  if (agn_load_u16le(in + 4) != AGN_RANS_MODEL_VERSION) return AGN_ERR_FORMAT;
  const unsigned levels = in[6];
  const unsigned channels = agn_load_u16le(in + 8);
  const unsigned height = agn_load_u16le(in + 10);
  const unsigned width = agn_load_u16le(in + 12);
  const unsigned r = in[14], v = in[15];
  if (!valid_dims(levels, channels, height, width) || in[7] != AGN_RANS_SCALE_BITS || r == 0 ||
      v == 0) {
    return AGN_ERR_FORMAT;
  }
  const size_t expected = agn_rans_model_size(levels, channels, r, v);
  if (size < expected) return AGN_ERR_TRUNCATED;
  if (size > expected) return AGN_ERR_FORMAT;
  if (agn_crc32(in, expected - kCrcBytes) != agn_load_u32le(in + expected - kCrcBytes)) {
    return AGN_ERR_CHECKSUM;
  }
  model->levels = (uint16_t)levels;
  model->channels = (uint16_t)channels;
  model->height = (uint16_t)height;
  model->width = (uint16_t)width;
  model->run_tables = (uint16_t)r;
  model->value_tables = (uint16_t)v;
  model->run_map = in + kHeaderBytes;
  model->value_map = model->run_map + channels * AGN_RANS_RUN_CONTEXTS;
  model->run_start = model->value_map + channels * AGN_RANS_VALUE_CONTEXTS;
  model->value_start = model->run_start + r * kRunTableBytes;
  for (unsigned i = 0; i < channels * AGN_RANS_RUN_CONTEXTS; ++i) {
    if (model->run_map[i] >= r) return AGN_ERR_FORMAT;
  }
  for (unsigned i = 0; i < channels * AGN_RANS_VALUE_CONTEXTS; ++i) {
    if (model->value_map[i] >= v) return AGN_ERR_FORMAT;
  }
  for (unsigned t = 0; t < r; ++t) {
    if (!valid_table(model->run_start + t * kRunTableBytes, AGN_RANS_RUN_SYMBOLS)) return AGN_ERR_FORMAT;
  }
  for (unsigned t = 0; t < v; ++t) {
    if (!valid_table(model->value_start + t * levels, levels - 1)) return AGN_ERR_FORMAT;
  }
  return AGN_OK;
}

extern "C" size_t agn_rans_max_encoded_size(const agn_rans_model* model) {
  if (model == nullptr) return 0;
  const size_t events = (size_t)model->channels * model->height * (2u * model->width + 1u);
  return 5 + events + events / 256;
}

extern "C" agn_status agn_rans_encode(const agn_rans_model* model, const uint8_t* map, size_t map_size,
                                      uint8_t* out, size_t out_cap, size_t* written) {
  if (model == nullptr || written == nullptr || out == nullptr || map == nullptr ||
      map_size != agn_symbol_map_size((size_t)model->channels * model->height, model->width)) {
    return AGN_ERR_ARG;
  }
  *written = 0;
  Encoder e{AGN_RANS_STATE_LOW, out + out_cap, out};
  const size_t plane = model->height * agn_symbol_row_bytes(model->width);
  for (unsigned c = model->channels; c-- > 0;) {
    const agn_status st = encode_channel(model, c, map + c * plane, &e);
    if (st != AGN_OK) return st;
  }
  if ((size_t)(e.p - out) < 4) return AGN_ERR_NO_SPACE;
  e.p -= 4;
  agn_store_u32le(e.p, e.x);
  const size_t size = (size_t)(out + out_cap - e.p);
  memmove(out, e.p, size);
  *written = size;
  return AGN_OK;
}

namespace {

struct Decoder {
  uint32_t x;
  const uint8_t* in;
  size_t pos, size;
  // Decodes one symbol of table `start` with n symbols into *s.
  agn_status get(const uint8_t* start, unsigned n, unsigned* s) {
    const uint32_t slot = x & 0xFFu;
    unsigned k = 0;
    while (k + 1 < n && start[k + 1] <= slot) ++k;
    const uint32_t f = (uint8_t)(start[k + 1] - start[k]);
    x = f * (x >> 8) + slot - start[k];
    while (x < AGN_RANS_STATE_LOW) {
      if (pos == size) return AGN_ERR_TRUNCATED;
      x = (x << 8) | in[pos++];
    }
    *s = k;
    return AGN_OK;
  }
};

}  // namespace

extern "C" agn_status agn_rans_decode(const agn_rans_model* model, const uint8_t* in, size_t size,
                                      uint8_t* symbols, size_t count) {
  if (model == nullptr || (size > 0 && in == nullptr) || symbols == nullptr ||
      count != map_symbols(model)) {
    return AGN_ERR_ARG;
  }
  if (size < 4) return AGN_ERR_TRUNCATED;
  Decoder d{agn_load_u32le(in), in, 4, size};
  if (d.x < AGN_RANS_STATE_LOW || d.x >= kStateHigh) return AGN_ERR_CORRUPT;
  const unsigned width = model->width, levels = model->levels;
  for (unsigned c = 0; c < model->channels; ++c) {
    const uint8_t* run_map = model->run_map + c * AGN_RANS_RUN_CONTEXTS;
    const uint8_t* value_map = model->value_map + c * AGN_RANS_VALUE_CONTEXTS;
    for (unsigned y = 0; y < model->height; ++y) {
      uint8_t* row = symbols + ((size_t)c * model->height + y) * width;
      const uint8_t* up = y > 0 ? row - width : nullptr;
      unsigned x0 = 0;
      while (x0 < width) {
        unsigned r;
        agn_status st = d.get(model->run_start + run_map[run_context(row, up, x0, width)] * kRunTableBytes,
                              AGN_RANS_RUN_SYMBOLS, &r);
        if (st != AGN_OK) return st;
        if (r == AGN_RANS_RUN_END) {
          memset(row + x0, 0, width - x0);
          break;
        }
        if (x0 + r >= width) return AGN_ERR_CORRUPT;  // an escape or run must end inside the row
        memset(row + x0, 0, r);
        if (r == AGN_RANS_RUN_ESCAPE) {
          x0 += r;
          continue;
        }
        const unsigned p = x0 + r;
        unsigned v = 0;
        if (levels > 2) {
          st = d.get(model->value_start + value_map[value_context(up != nullptr ? up[p] : 0u, p > 0 ? row[p - 1] : 0u)] * levels,
                     levels - 1, &v);
          if (st != AGN_OK) return st;
        }
        row[p] = (uint8_t)(v + 1);
        x0 = p + 1;
      }
    }
  }
  if (d.x != AGN_RANS_STATE_LOW || d.pos != size) return AGN_ERR_CORRUPT;
  return AGN_OK;
}
