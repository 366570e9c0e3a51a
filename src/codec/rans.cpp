#include "codec/rans.h"

#include <stddef.h>
#include <string.h>

#if defined(__ARM_FEATURE_SAT)
#include <arm_acle.h>
#endif

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

// Run context of a run starting at column x0 of a row of bytes (rans.h).
inline unsigned run_context(const uint8_t* row, const uint8_t* up, unsigned x0, unsigned width) {
  return 2 * up_distance(up, x0, width) + (x0 > 0 && row[x0 - 1] != 0);
}

// min(v, 3), a context's clamp of a neighbour's symbol (one USAT on the Cortex-M7).
inline unsigned min3(unsigned v) {
#if defined(__ARM_FEATURE_SAT)
  return (unsigned)__usat((int)v, 2);
#else
  return v < 3 ? v : 3;
#endif
}

// Value context from the symbols above (u) and to the left (l) of a value (rans.h).
inline unsigned value_context(unsigned u, unsigned l) { return 4 * min3(u) + min3(l); }

// The encoder's view of symbol map rows (symbol_map.h): one bit per column, set where the symbol
// is nonzero, 32 columns (16 bytes, a "segment") per word; columns past the row's end are 0.

// Bit i = (nibble i of w != 0), for the 8 symbols of a little-endian word of nibbles.
inline uint32_t nonzero_bits8(uint32_t w) {
  uint32_t t = w | (w >> 2);
  t = (t | (t >> 1)) & 0x11111111u;  // symbol i at bit 4i
  t = (t | (t >> 3)) & 0x03030303u;  // symbols 2k, 2k+1 at bits 8k, 8k+1
  t = (t | (t >> 6)) & 0x000F000Fu;  // symbols 4k .. 4k+3 at bits 16k .. 16k+3
  return (t | (t >> 12)) & 0xFFu;
}

// Nonzero bits of 32 symbols (four words of nibbles) and of a row's last segment when it is
// shorter (n < 16 bytes): out of line, only for segments that have a nonzero.
__attribute__((noinline)) uint32_t nonzero_bits32(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3) {
  return nonzero_bits8(w0) | (nonzero_bits8(w1) << 8) | (nonzero_bits8(w2) << 16) |
         (nonzero_bits8(w3) << 24);
}
__attribute__((noinline)) uint32_t short_segment_bits(const uint8_t* b, unsigned n) {
  uint32_t bits = 0;
  for (unsigned i = 0; i < n; ++i) {
    bits |= (uint32_t)((b[i] & 0xFu) != 0) << (2 * i);
    bits |= (uint32_t)((b[i] >> 4) != 0) << (2 * i + 1);
  }
  return bits;
}

// Nonzero bits of segment s (columns 32s .. 32s+31) of a row of `row_bytes` bytes (> 16s).
inline uint32_t segment_bits(const uint8_t* row, unsigned s, unsigned row_bytes) {
  const uint8_t* b = row + 16 * s;
  const unsigned n = row_bytes - 16 * s;
  if (n < 16) return short_segment_bits(b, n);
  const uint32_t w0 = agn_load_u32le(b), w1 = agn_load_u32le(b + 4);
  const uint32_t w2 = agn_load_u32le(b + 8), w3 = agn_load_u32le(b + 12);
  return (w0 | w1 | w2 | w3) == 0 ? 0 : nonzero_bits32(w0, w1, w2, w3);
}

// Encoder: state and output position, bytes go downwards and never below `lo`.
struct Encoder {
  uint32_t x;
  uint8_t* p;
  uint8_t* lo;
  // Encodes symbol s of the table `start` (rans.h layout). False when the output is full.
  // x < 2^31 and f >= 1, so one byte out brings x below 2^23 <= f * 2^23: at most one byte.
  inline bool put(const uint8_t* start, unsigned s) {
    const uint32_t c = start[s];
    return put(c, (uint8_t)(start[s + 1] - c));
  }
  // The same for a symbol's start c and frequency f.
  inline bool put(uint32_t c, uint32_t f) {
    if (x >= (f << 23)) {
      if (p == lo) return false;
      *--p = (uint8_t)x;
      x >>= 8;
    }
    x += (x / f) * (256u - f) + c;
    return true;
  }
};

// A channel's constants for encoding its rows: each run context's table (rans.h layout), looked
// up once per channel.
struct Channel {
  const uint8_t* run_table[AGN_RANS_RUN_CONTEXTS];
  const uint8_t* value_table[AGN_RANS_VALUE_CONTEXTS];
  unsigned width, row_bytes, last_base, levels;
};

// Encodes the events of one row (rans.h) last to first; `rest` and `up_bits` are the nonzero bits
// of the last segment (from column last_base) of the row and of the row above (0 for the first
// row, up = null).
//
// Going backwards, a row's nonzero columns come out highest first: `rest` holds the nonzero bits
// of the segment from column `base` not yet taken, and taking the highest is a CLZ. The run
// contexts look at the row above from x0, and x0 only decreases along a row, so the row above's
// bits are kept for the segment from x0's (`up_bits`, from column `up_base`) and the one after
// (`up_next`), slid down as x0 goes. The contexts' left neighbours are known going backwards: a
// run that starts right after a value (x0 = q + 1 > 0) has a nonzero on its left, an escape or
// END after an escape a zero, and a value's left neighbour is the previous value when they touch
// (q = p - 1).
__attribute__((noinline)) agn_status encode_row(const Channel& ch, const uint8_t* row, const uint8_t* up,
                                                uint32_t rest, uint32_t up_bits, Encoder* state) {
  Encoder enc = *state;  // a local copy stays in registers (byte stores may alias *state)
  const agn_status status = [&]() -> agn_status {
    Encoder* const e = &enc;
    const unsigned width = ch.width, row_bytes = ch.row_bytes, levels = ch.levels;
    unsigned base = ch.last_base, up_base = ch.last_base;
    uint32_t up_next = 0;
    // The next nonzero column going backwards, or -1.
    const auto take = [&]() -> int {
      while (rest == 0) {
        if (base == 0) return -1;
        base -= 32;
        rest = segment_bits(row, base / 32, row_bytes);
      }
      const unsigned bit = 31u - (unsigned)__builtin_clz(rest);
      rest ^= 1u << bit;
      return (int)(base + bit);
    };
    int p = take();
    unsigned v = p >= 0 ? agn_symbol_at(row, (unsigned)p) : 0;
    // The run events before column p and after the value before it (from column start), last
    // first: the END (x0 = start = the last nonzero + 1, if inside the row), or the run symbol and
    // the escapes before it.
    unsigned start = (unsigned)(p + 1), x0 = start, symbol = AGN_RANS_RUN_END;
    // The column whose run event has a nonzero on its left: start if start > 0, else none.
    unsigned after_value = p >= 0 ? start : ~0u;
    bool run = start < width;
    for (;;) {
      while (run) {
        unsigned shift = x0 - up_base;
        while (shift >= 32) {  // x0 < up_base: slide down a segment
          up_base -= 32;
          shift += 32;
          up_next = up_bits;
          up_bits = up != nullptr ? segment_bits(up, up_base / 32, row_bytes) : 0;
        }
        uint32_t ahead = up_bits >> shift;
        if (shift > 32 - kLookahead) ahead |= (up_next << 1) << (31 - shift);
        const unsigned d = (unsigned)__builtin_ctz(ahead | (1u << kLookahead));
        if (!e->put(ch.run_table[2 * d + (x0 == after_value)], symbol)) return AGN_ERR_NO_SPACE;
        run = x0 != start;
        x0 -= AGN_RANS_RUN_ESCAPE;
        symbol = AGN_RANS_RUN_ESCAPE;
      }
      if (p < 0) return AGN_OK;
      const int q = take();
      const unsigned vq = q >= 0 ? agn_symbol_at(row, (unsigned)q) : 0;
      if (v >= levels) return AGN_ERR_RANGE;
      if (levels > 2) {
        const unsigned off = (unsigned)p - up_base;
        const unsigned u = (off < 32 && ((up_bits >> off) & 1u) == 0) || up == nullptr ? 0 : agn_symbol_at(up, (unsigned)p);
        if (!e->put(ch.value_table[value_context(u, q == p - 1 ? vq : 0)], v - 1)) return AGN_ERR_NO_SPACE;
      }
      start = (unsigned)(q + 1);
      after_value = q >= 0 ? start : ~0u;
      x0 = start;  // where the last run symbol starts: after the escapes
      while ((unsigned)p - x0 >= AGN_RANS_RUN_ESCAPE) x0 += AGN_RANS_RUN_ESCAPE;
      symbol = (unsigned)p - x0;
      run = true;
      p = q;
      v = vq;
    }
  }();
  *state = enc;
  return status;
}

// A row of zeros: the row above of the first row, for encode_row1.
constexpr uint8_t kZeroRow[16] = {};

#if defined(__ARM_FEATURE_DSP)
// One rANS put in encode_values' registers: `a` holds the address of the symbol's start c (the
// next byte is the next symbol's start, 0 for 256) and ends holding c; `f` and `t` are scratch.
// 11 instructions, 5 more to flush a byte (the output's lower end is in %[lo]; full: label 90).
#define AGN_RANS_PUT(a, f, t)                   \
  "ldrb " f ", [" a ", #1]\n\t"                \
  "ldrb " a ", [" a "]\n\t"                    \
  "sub " f ", " f ", " a "\n\t"                 \
  "uxtb " f ", " f "\n\t"                       \
  "cmp %[x], " f ", lsl #23\n\t"                \
  "bcc 1f\n\t"                                  \
  "ldr " t ", %[lo]\n\t"                        \
  "cmp %[out], " t "\n\t"                       \
  "beq 90f\n\t"                                 \
  "strb %[x], [%[out], #-1]!\n\t"               \
  "lsr %[x], %[x], #8\n\t"                      \
  "1:\n\t"                                      \
  "udiv " t ", %[x], " f "\n\t"                 \
  "rsb " f ", " f ", #256\n\t"                  \
  "mla %[x], " t ", " f ", %[x]\n\t"            \
  "add %[x], %[x], " a "\n\t"

// encode_row1's loop over the values from p (symbol v) down, the values left of p in `rest`, as
// the C loop there, in inline assembly: the encoder's state, the output pointer, both rows, both
// rows' bits and the channel stay in registers (GCC spilled the rows and the channel). About 72
// instructions per value and the run before it, against about 80 from GCC.
agn_status encode_values(const Channel& ch, const uint8_t* row, const uint8_t* up, uint32_t rest, uint32_t up_bits,
                         uint32_t p, uint32_t v, Encoder* e) {
  static_assert(offsetof(Channel, value_table) == 72 && offsetof(Channel, levels) == 148 && sizeof(void*) == 4,
                "the channel's offsets in the assembly");
  static_assert(AGN_RANS_RUN_ESCAPE == 14 && kLookahead == 8, "the run constants in the assembly");
  uint32_t x = e->x;
  uint8_t* out = e->p;
  const uint8_t* const lo = e->lo;
  const uint8_t* spill_row;
  const uint8_t* spill_up;
  const Channel* c = &ch;
  uint32_t q, vq, t0, t1;
  __asm__ volatile(
      "0:\n\t"  // value p, symbol v
      "ldr %[t0], [%[ch], #148]\n\t"
      "cmp %[v], %[t0]\n\t"
      "bhs 91f\n\t"  // v >= levels
      "cmp %[rest], #0\n\t"
      "beq 5f\n\t"
      "clz %[t0], %[rest]\n\t"  // q, the value before p; its bit out of rest; vq
      "rsb %[q], %[t0], #31\n\t"
      "mov %[t1], #0x80000000\n\t"
      "lsr %[t1], %[t1], %[t0]\n\t"
      "bic %[rest], %[rest], %[t1]\n\t"
      "lsrs %[t1], %[q], #1\n\t"
      "ldrb %[vq], [%[row], %[t1]]\n\t"
      "it cs\n\t"
      "lsrcs %[vq], %[vq], #4\n\t"
      "and %[vq], %[vq], #15\n\t"
      "add %[t1], %[q], #1\n\t"  // the left context: vq where q = p - 1
      "cmp %[t1], %[p]\n\t"
      "ite eq\n\t"
      "usateq %[t1], #2, %[vq]\n\t"
      "movne %[t1], #0\n\t"
      "b 6f\n\t"
      "5:\n\t"  // p is the row's first value: q = -1, nothing on its left
      "mvn %[q], #0\n\t"
      "movs %[t1], #0\n\t"
      "6:\n\t"
      "lsrs %[t0], %[p], #1\n\t"  // the up context, the value table, its put
      "ldrb %[t0], [%[up], %[t0]]\n\t"
      "it cs\n\t"
      "lsrcs %[t0], %[t0], #4\n\t"
      "and %[t0], %[t0], #15\n\t"
      "usat %[t0], #2, %[t0]\n\t"
      "add %[t0], %[t1], %[t0], lsl #2\n\t"
      "add %[t0], %[ch], %[t0], lsl #2\n\t"
      "ldr %[t0], [%[t0], #72]\n\t"
      "add %[t0], %[t0], %[v]\n\t"
      "sub %[t0], %[t0], #1\n\t"
      AGN_RANS_PUT("%[t0]", "%[t1]", "%[v]")
      "sub %[p], %[p], %[q]\n\t"  // the gap from start = q + 1 to p
      "subs %[p], %[p], #1\n\t"
      "cmp %[p], #14\n\t"
      "bhs 7f\n\t"
      "add %[t0], %[q], #1\n\t"  // one run symbol at start: d, a value on the left if q >= 0
      "lsr %[t0], %[ub], %[t0]\n\t"
      "orr %[t0], %[t0], #256\n\t"
      "rbit %[t0], %[t0]\n\t"
      "clz %[t0], %[t0]\n\t"
      "lsl %[t0], %[t0], #1\n\t"
      "add %[t0], %[t0], #1\n\t"
      "add %[t0], %[t0], %[q], asr #31\n\t"
      "ldr %[t0], [%[ch], %[t0], lsl #2]\n\t"
      "add %[t0], %[t0], %[p]\n\t"
      AGN_RANS_PUT("%[t0]", "%[t1]", "%[v]")
      "8:\n\t"
      "cmp %[q], #0\n\t"
      "blt 92f\n\t"  // that was the first value
      "mov %[p], %[q]\n\t"
      "mov %[v], %[vq]\n\t"
      "b 0b\n\t"
      "7:\n\t"  // 14 zeros or more: x0 (in row) and the symbol (in up), the rows kept in memory
      "str %[row], %[srow]\n\t"
      "str %[up], %[sup]\n\t"
      "mov %[t1], #14\n\t"
      "udiv %[t0], %[p], %[t1]\n\t"
      "mul %[t0], %[t0], %[t1]\n\t"
      "sub %[up], %[p], %[t0]\n\t"
      "add %[row], %[q], #1\n\t"
      "add %[row], %[row], %[t0]\n\t"
      "9:\n\t"
      "lsr %[t0], %[ub], %[row]\n\t"
      "orr %[t0], %[t0], #256\n\t"
      "rbit %[t0], %[t0]\n\t"
      "clz %[t0], %[t0]\n\t"
      "lsl %[t0], %[t0], #1\n\t"
      "add %[t1], %[q], #1\n\t"
      "cmp %[row], %[t1]\n\t"
      "bne 10f\n\t"
      "add %[t0], %[t0], #1\n\t"  // x0 = start: a value on the left if q >= 0
      "add %[t0], %[t0], %[q], asr #31\n\t"
      "10:\n\t"
      "ldr %[t0], [%[ch], %[t0], lsl #2]\n\t"
      "add %[t0], %[t0], %[up]\n\t"
      AGN_RANS_PUT("%[t0]", "%[t1]", "%[v]")
      "add %[t1], %[q], #1\n\t"
      "cmp %[row], %[t1]\n\t"
      "beq 11f\n\t"
      "sub %[row], %[row], #14\n\t"
      "movs %[up], #14\n\t"
      "b 9b\n\t"
      "11:\n\t"
      "ldr %[row], %[srow]\n\t"
      "ldr %[up], %[sup]\n\t"
      "b 8b\n\t"
      "90:\n\t"
      "mvn %[t0], #2\n\t"  // AGN_ERR_NO_SPACE
      "b 93f\n\t"
      "91:\n\t"
      "mvn %[t0], #1\n\t"  // AGN_ERR_RANGE
      "b 93f\n\t"
      "92:\n\t"
      "movs %[t0], #0\n\t"  // AGN_OK
      "93:"
      : [x] "+r"(x), [out] "+r"(out), [rest] "+r"(rest), [row] "+r"(row), [up] "+r"(up), [p] "+r"(p), [v] "+r"(v),
        [q] "=&r"(q), [vq] "=&r"(vq), [t0] "=&r"(t0), [t1] "=&r"(t1), [srow] "=m"(spill_row), [sup] "=m"(spill_up)
      : [ch] "r"(c), [ub] "r"(up_bits), [lo] "m"(lo)
      : "cc", "memory");
  static_assert(AGN_ERR_NO_SPACE == -3 && AGN_ERR_RANGE == -2 && AGN_OK == 0, "the statuses in the assembly");
  e->x = x;
  e->p = out;
  return (agn_status)(int32_t)t0;
}
#undef AGN_RANS_PUT
#endif

// encode_row for rows of one segment (width <= 32, CIFAR-10's maps) with a nonzero (`rest` !=
// 0; up_bits is 0 where up is null) and more than two levels (with two there is no value event:
// encode_channel takes encode_row), written around the values, last to first: after the END
// that follows the last value (if it is not in the last column), each value p is its value
// event, then the run events of the zeros between it and the value q before it (column start =
// q + 1): the run symbol at x0 = start + 14 * floor((p - start) / 14), then the escapes down to
// start. Only the event at x0 = start has a nonzero on its left, when q exists; a value's left
// neighbour is vq when q = p - 1. The row above is never null (a row of zeros stands in).
// On the target the loop over the values is inline assembly (encode_values above); elsewhere,
// and as its definition, this C.
__attribute__((noinline)) agn_status encode_row1(const Channel& ch, const uint8_t* row, const uint8_t* up,
                                                 uint32_t rest, uint32_t up_bits, Encoder* state) {
  Encoder enc = *state;  // a local copy stays in registers (byte stores may alias *state)
  if (up == nullptr) up = kZeroRow;
  const auto run_table = [&](unsigned x0, bool after_value) {  // the run context's table at column x0 < 32
    return ch.run_table[2 * (unsigned)__builtin_ctz((up_bits >> x0) | (1u << kLookahead)) + after_value];
  };
  unsigned p = 31u - (unsigned)__builtin_clz(rest);
  rest ^= 1u << p;
  unsigned v = agn_symbol_at(row, p);
  if (p + 1 < ch.width && !enc.put(run_table(p + 1, true), AGN_RANS_RUN_END)) {
    *state = enc;
    return AGN_ERR_NO_SPACE;
  }
#if defined(__ARM_FEATURE_DSP)
  const agn_status status = encode_values(ch, row, up, rest, up_bits, p, v, &enc);
#else
  const agn_status status = [&]() -> agn_status {
    for (;;) {
      const bool first = rest == 0;  // p is the row's first value
      const unsigned q = first ? ~0u : 31u - (unsigned)__builtin_clz(rest);  // start = q + 1
      const unsigned vq = first ? 0u : agn_symbol_at(row, q);
      rest &= ~(0x80000000u >> __builtin_clz(rest | 1u));
      if (v >= ch.levels) return AGN_ERR_RANGE;
      const unsigned left = q + 1 == p ? vq : 0u;
      if (!enc.put(ch.value_table[value_context(agn_symbol_at(up, p), left)], v - 1)) return AGN_ERR_NO_SPACE;
      const unsigned start = q + 1, gap = p - start;
      if (gap < AGN_RANS_RUN_ESCAPE) {
        if (!enc.put(run_table(start, !first), gap)) return AGN_ERR_NO_SPACE;
      } else {  // the run symbol at start + 14 * floor(gap / 14), then the escapes down to start
        unsigned x0 = start + gap / AGN_RANS_RUN_ESCAPE * AGN_RANS_RUN_ESCAPE, symbol = p - x0;
        for (;;) {
          if (!enc.put(run_table(x0, x0 == start && !first), symbol)) return AGN_ERR_NO_SPACE;
          if (x0 == start) break;
          x0 -= AGN_RANS_RUN_ESCAPE;
          symbol = AGN_RANS_RUN_ESCAPE;
        }
      }
      if (first) return AGN_OK;
      p = q;
      v = vq;
    }
  }();
#endif
  *state = enc;
  return status;
}

// Whether a plane of `bytes` bytes is all zeros: sixteen bytes at a time (byte order does not
// matter). Out of line (flash).
__attribute__((noinline)) bool zero_plane(const uint8_t* p, size_t bytes) {
  const uint8_t* const end = p + bytes;
  for (; end - p >= 16; p += 16) {
    uint32_t w0, w1, w2, w3;
    memcpy(&w0, p, 4);
    memcpy(&w1, p + 4, 4);
    memcpy(&w2, p + 8, 4);
    memcpy(&w3, p + 12, 4);
    if ((w0 | w1 | w2 | w3) != 0) return false;
  }
#pragma GCC unroll 1  // at most 15 bytes: a loop is smaller than copies
  for (; p != end; ++p) {
    if (*p != 0) return false;
  }
  return true;
}

// A plane of zeros (a dead channel) is one END per row at x0 = 0 with no nonzero above it (d = 8)
// or to its left, so one context throughout, and no row needs to be read. Out of line (flash).
__attribute__((noinline)) agn_status encode_zero_plane(const agn_rans_model* m, unsigned channel, Encoder* state) {
  const uint8_t* table = m->run_start + m->run_map[channel * AGN_RANS_RUN_CONTEXTS + 2 * kLookahead] * kRunTableBytes;
  const uint32_t c = table[AGN_RANS_RUN_END], f = (uint8_t)(table[AGN_RANS_RUN_END + 1] - c);  // loaded once
  Encoder enc = *state;
  bool room = true;
  for (unsigned y = 0; y < m->height && room; ++y) room = enc.put(c, f);
  *state = enc;
  return room ? AGN_OK : AGN_ERR_NO_SPACE;
}

// Encodes one channel's events last to first (the reverse of the order in rans.h), row by row
// from the last; `plane` is the channel's rows of the symbol map. Most rows of a real map are
// zero (about 5 in 6 on the quick-preset models): a row of one segment with no nonzero is one
// END at x0 = 0, coded here; other rows go to encode_row1 (one segment) or encode_row. The row
// above is the next row to encode: its last segment's bits are carried over. A plane that is all
// zeros (the dead channels of a rate-trained model; `known_zero`: the caller says so) is one END
// per row in one context.
agn_status encode_channel(const agn_rans_model* m, unsigned channel, const uint8_t* plane, bool known_zero,
                          Encoder* state) {
  if (known_zero || zero_plane(plane, m->height * agn_symbol_row_bytes(m->width))) {
    return encode_zero_plane(m, channel, state);
  }
  agn_status status = AGN_OK;
  Channel ch;
  ch.width = m->width;
  ch.row_bytes = (unsigned)agn_symbol_row_bytes(m->width);
  ch.last_base = (m->width - 1u) / 32 * 32;
  ch.levels = m->levels;
  for (unsigned k = 0; k < AGN_RANS_RUN_CONTEXTS; ++k) {
    ch.run_table[k] = m->run_start + m->run_map[channel * AGN_RANS_RUN_CONTEXTS + k] * kRunTableBytes;
  }
#pragma GCC unroll 1  // once per channel: a loop is smaller than copies
  for (unsigned k = 0; k < AGN_RANS_VALUE_CONTEXTS; ++k) {
    ch.value_table[k] = m->value_start + m->value_map[channel * AGN_RANS_VALUE_CONTEXTS + k] * m->levels;
  }
  const unsigned row_bytes = ch.row_bytes, last_seg = ch.last_base / 32;
  Encoder enc = *state;
  const uint8_t* row = plane + (m->height - 1u) * row_bytes;
  uint32_t rest = segment_bits(row, last_seg, row_bytes);
  // The events of `row`, given the row above (null for the first) and its last segment's bits.
  const auto encode = [&](const uint8_t* up, uint32_t up_bits) -> agn_status {
    if (rest == 0 && last_seg == 0) {
      const unsigned d = (unsigned)__builtin_ctz(up_bits | (1u << kLookahead));
      return enc.put(ch.run_table[2 * d], AGN_RANS_RUN_END) ? AGN_OK : AGN_ERR_NO_SPACE;
    }
    Encoder row_enc = enc;
    const agn_status st = last_seg == 0 && ch.levels > 2 ? encode_row1(ch, row, up, rest, up_bits, &row_enc)
                                        : encode_row(ch, row, up, rest, up_bits, &row_enc);
    enc = row_enc;
    return st;
  };
  for (unsigned y = m->height - 1u; y > 0 && status == AGN_OK; --y) {
    const uint8_t* up = row - row_bytes;
    const uint32_t up_bits = segment_bits(up, last_seg, row_bytes);
    status = encode(up, up_bits);
    rest = up_bits;
    row = up;
  }
  if (status == AGN_OK) status = encode(nullptr, 0);
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
  return agn_rans_encode_known(model, map, map_size, 0, out, out_cap, written);
}

extern "C" agn_status agn_rans_encode_known(const agn_rans_model* model, const uint8_t* map, size_t map_size,
                                            uint64_t zero_channels, uint8_t* out, size_t out_cap, size_t* written) {
  if (model == nullptr || written == nullptr || out == nullptr || map == nullptr ||
      map_size != agn_symbol_map_size((size_t)model->channels * model->height, model->width)) {
    return AGN_ERR_ARG;
  }
  *written = 0;
  Encoder e{AGN_RANS_STATE_LOW, out + out_cap, out};
  const size_t plane = model->height * agn_symbol_row_bytes(model->width);
  for (unsigned c = model->channels; c-- > 0;) {
    const agn_status st = encode_channel(model, c, map + c * plane, ((zero_channels >> c) & 1u) != 0, &e);
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
