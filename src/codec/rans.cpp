#include "codec/rans.h"

#include <string.h>

#include "common/byte_order.h"
#include "common/crc32.h"

namespace {

constexpr unsigned kMinScaleBits = 8;
constexpr unsigned kMaxScaleBits = 15;
constexpr uint32_t kStateHigh = 1u << 31;  // x < kStateHigh always
constexpr size_t kHeaderBytes = 12;
constexpr size_t kCrcBytes = 4;

bool valid_shape(unsigned levels, unsigned scale_bits) {
  return levels >= 2 && levels <= AGN_RANS_MAX_LEVELS && scale_bits >= kMinScaleBits &&
         scale_bits <= kMaxScaleBits;
}

// True if `count` symbols in planes of `plane_size` need no more channels than the model has.
bool valid_layout(const agn_rans_model* model, size_t count, size_t plane_size) {
  if (plane_size == 0) return false;
  const size_t channels = count / plane_size + (count % plane_size != 0);
  return channels <= model->channels;
}

// One channel's coding tables, indexed by symbol, gathered so that the hot loop needs no
// address arithmetic. With q = x / f the coding step x' = (q << scale_bits) + x % f + cum is
// computed as x + q * (M - f) + cum (one multiply-accumulate).
struct EncodeTables {
  uint32_t x_max[AGN_RANS_MAX_LEVELS];  // x >= ((2^23 >> scale_bits) << 8) * f leaves [2^23, 2^31)
  uint32_t freq[AGN_RANS_MAX_LEVELS];
  uint32_t complement[AGN_RANS_MAX_LEVELS];  // M - f
  uint32_t cum[AGN_RANS_MAX_LEVELS];
};

// Encodes the symbols [begin, end) from the last, updating the state *x and the output
// position *p (bytes go downwards, never below `out`). A function of its own so that the
// compiler keeps the loop's few variables in registers: it is the device's hot loop.
__attribute__((noinline)) agn_status encode_plane(const EncodeTables* t, unsigned levels,
                                                  const uint8_t* begin, const uint8_t* end,
                                                  uint8_t* out, uint8_t** p, uint32_t* x) {
  uint8_t* q_out = *p;
  uint32_t state = *x;
  agn_status status = AGN_OK;
  for (const uint8_t* sp = end; sp != begin;) {
    const unsigned s = *--sp;
    if (s >= levels) {
      status = AGN_ERR_RANGE;
      break;
    }
    const uint32_t x_max = t->x_max[s];
    if (state >= x_max) {
      do {
        if (q_out == out) {
          *p = q_out;
          return AGN_ERR_NO_SPACE;
        }
        *--q_out = (uint8_t)state;
        state >>= 8;
      } while (state >= x_max);
    }
    state += (state / t->freq[s]) * t->complement[s] + t->cum[s];
  }
  *p = q_out;
  *x = state;
  return status;
}

}  // namespace

extern "C" agn_status agn_rans_quantize_freqs(const uint32_t* counts, unsigned levels,
                                              unsigned scale_bits, uint16_t* freqs) {
  if (counts == nullptr || freqs == nullptr || !valid_shape(levels, scale_bits)) return AGN_ERR_ARG;
  const uint32_t total_freq = 1u << scale_bits;
  uint64_t total = 0;
  for (unsigned s = 0; s < levels; ++s) total += counts[s];

  if (total == 0) {
    for (unsigned s = 0; s < levels; ++s) {
      freqs[s] = (uint16_t)(total_freq / levels + (s < total_freq % levels ? 1 : 0));
    }
    return AGN_OK;
  }

  // Round to the nearest proportional value, at least 1, then fix the sum one step at a time.
  // Each step changes the symbol whose code-length change, count * log(f'/f), is cheapest,
  // approximated by count / f to stay in integers. The sum is off by at most 1.5 * levels.
  uint32_t sum = 0;
  for (unsigned s = 0; s < levels; ++s) {
    uint64_t f = ((uint64_t)counts[s] * total_freq + total / 2) / total;
    if (f == 0) f = 1;
    freqs[s] = (uint16_t)f;
    sum += (uint32_t)f;
  }
  while (sum > total_freq) {  // take 1 from the symbol with the smallest count / (f - 1)
    int best = -1;
    for (unsigned s = 0; s < levels; ++s) {
      if (freqs[s] <= 1) continue;
      if (best < 0 || (uint64_t)counts[s] * (uint64_t)(freqs[best] - 1) <
                          (uint64_t)counts[best] * (uint64_t)(freqs[s] - 1)) {
        best = (int)s;
      }
    }
    --freqs[best];  // some f > 1 exists because sum > total_freq >= levels
    --sum;
  }
  while (sum < total_freq) {  // give 1 to the symbol with the largest count / f
    unsigned best = 0;
    for (unsigned s = 1; s < levels; ++s) {
      if ((uint64_t)counts[s] * freqs[best] > (uint64_t)counts[best] * freqs[s]) best = s;
    }
    ++freqs[best];
    ++sum;
  }
  return AGN_OK;
}

extern "C" agn_status agn_rans_model_init(agn_rans_model* model, unsigned levels, unsigned channels,
                                          unsigned scale_bits) {
  if (model == nullptr || !valid_shape(levels, scale_bits) || channels == 0 ||
      channels > AGN_RANS_MAX_CHANNELS) {
    return AGN_ERR_ARG;
  }
  memset(model, 0, sizeof(*model));
  model->levels = (uint16_t)levels;
  model->channels = (uint16_t)channels;
  model->scale_bits = (uint16_t)scale_bits;
  const uint32_t zeros[AGN_RANS_MAX_LEVELS] = {};
  for (unsigned c = 0; c < channels; ++c) agn_rans_model_set_counts(model, c, zeros);
  return AGN_OK;
}

extern "C" agn_status agn_rans_model_set_freqs(agn_rans_model* model, unsigned channel,
                                               const uint16_t* freqs) {
  if (model == nullptr || freqs == nullptr || channel >= model->channels) return AGN_ERR_ARG;
  uint32_t sum = 0;
  for (unsigned s = 0; s < model->levels; ++s) {
    if (freqs[s] == 0) return AGN_ERR_ARG;
    sum += freqs[s];
  }
  if (sum != (1u << model->scale_bits)) return AGN_ERR_ARG;
  uint16_t cum = 0;
  for (unsigned s = 0; s < model->levels; ++s) {
    model->freq[channel][s] = freqs[s];
    model->cum[channel][s] = cum;
    cum = (uint16_t)(cum + freqs[s]);
  }
  model->cum[channel][model->levels] = cum;
  return AGN_OK;
}

extern "C" agn_status agn_rans_model_set_counts(agn_rans_model* model, unsigned channel,
                                                const uint32_t* counts) {
  if (model == nullptr) return AGN_ERR_ARG;
  uint16_t freqs[AGN_RANS_MAX_LEVELS];
  const agn_status st = agn_rans_quantize_freqs(counts, model->levels, model->scale_bits, freqs);
  if (st != AGN_OK) return st;
  return agn_rans_model_set_freqs(model, channel, freqs);
}

extern "C" size_t agn_rans_model_serialized_size(unsigned levels, unsigned channels) {
  return kHeaderBytes + 2u * (size_t)channels * levels + kCrcBytes;
}

extern "C" agn_status agn_rans_model_save(const agn_rans_model* model, uint8_t* out, size_t out_cap,
                                          size_t* written) {
  if (model == nullptr || out == nullptr || written == nullptr) return AGN_ERR_ARG;
  *written = 0;
  const size_t size = agn_rans_model_serialized_size(model->levels, model->channels);
  if (out_cap < size) return AGN_ERR_NO_SPACE;
  agn_store_u32le(out + 0, AGN_RANS_MODEL_MAGIC);
  agn_store_u16le(out + 4, AGN_RANS_MODEL_VERSION);
  out[6] = (uint8_t)model->levels;  // 256 would not fit, but levels <= AGN_RANS_MAX_LEVELS
  out[7] = (uint8_t)model->scale_bits;
  agn_store_u16le(out + 8, model->channels);
  agn_store_u16le(out + 10, 0);
  uint8_t* p = out + kHeaderBytes;
  for (unsigned c = 0; c < model->channels; ++c) {
    for (unsigned s = 0; s < model->levels; ++s, p += 2) agn_store_u16le(p, model->freq[c][s]);
  }
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
  const unsigned scale_bits = in[7];
  const unsigned channels = agn_load_u16le(in + 8);
  if (!valid_shape(levels, scale_bits) || channels == 0 || channels > AGN_RANS_MAX_CHANNELS ||
      agn_load_u16le(in + 10) != 0) {
    return AGN_ERR_FORMAT;
  }
  const size_t expected = agn_rans_model_serialized_size(levels, channels);
  if (size < expected) return AGN_ERR_TRUNCATED;
  if (size > expected) return AGN_ERR_FORMAT;
  if (agn_crc32(in, expected - kCrcBytes) != agn_load_u32le(in + expected - kCrcBytes)) {
    return AGN_ERR_CHECKSUM;
  }
  if (agn_rans_model_init(model, levels, channels, scale_bits) != AGN_OK) return AGN_ERR_FORMAT;
  const uint8_t* p = in + kHeaderBytes;
  for (unsigned c = 0; c < channels; ++c) {
    uint16_t freqs[AGN_RANS_MAX_LEVELS];
    for (unsigned s = 0; s < levels; ++s, p += 2) freqs[s] = agn_load_u16le(p);
    if (agn_rans_model_set_freqs(model, c, freqs) != AGN_OK) return AGN_ERR_FORMAT;
  }
  return AGN_OK;
}

extern "C" size_t agn_rans_max_encoded_size(size_t count, unsigned scale_bits) {
  // Each symbol costs at most log2(M / 1) = scale_bits bits plus a rounding loss below
  // log2(1 + 2^-11) (x >= 2^11 * f before each step); count / 256 bytes cover that loss
  // generously, the 4-byte state and one byte the partial-byte slack.
  return 4 + (count / 8) * scale_bits + ((count % 8) * scale_bits + 7) / 8 + count / 256 + 1;
}

extern "C" agn_status agn_rans_encode(const agn_rans_model* model, const uint8_t* symbols,
                                      size_t count, size_t plane_size, uint8_t* out,
                                      size_t out_cap, size_t* written) {
  if (model == nullptr || written == nullptr || out == nullptr ||
      (count > 0 && symbols == nullptr) || !valid_layout(model, count, plane_size)) {
    return AGN_ERR_ARG;
  }
  *written = 0;
  const unsigned scale_bits = model->scale_bits;
  const unsigned levels = model->levels;
  uint8_t* p = out + out_cap;
  uint32_t x = AGN_RANS_STATE_LOW;
  // Channel by channel from the last, with the channel's tables gathered first.
  EncodeTables tables;
  const size_t channels = count / plane_size + (count % plane_size != 0);
  for (size_t c = channels; c-- > 0;) {
    for (unsigned s = 0; s < levels; ++s) {
      const uint32_t f = model->freq[c][s];
      tables.x_max[s] = f << (31 - scale_bits);
      tables.freq[s] = f;
      tables.complement[s] = (1u << scale_bits) - f;
      tables.cum[s] = model->cum[c][s];
    }
    const uint8_t* begin = symbols + c * plane_size;
    const uint8_t* end = c + 1 == channels ? symbols + count : begin + plane_size;
    const agn_status status = encode_plane(&tables, levels, begin, end, out, &p, &x);
    if (status != AGN_OK) return status;
  }
  if ((size_t)(p - out) < 4) return AGN_ERR_NO_SPACE;
  p -= 4;
  agn_store_u32le(p, x);
  const size_t size = (size_t)(out + out_cap - p);
  memmove(out, p, size);
  *written = size;
  return AGN_OK;
}

extern "C" agn_status agn_rans_decode(const agn_rans_model* model, const uint8_t* in, size_t size,
                                      size_t plane_size, uint8_t* symbols, size_t count) {
  if (model == nullptr || (size > 0 && in == nullptr) || (count > 0 && symbols == nullptr) ||
      !valid_layout(model, count, plane_size)) {
    return AGN_ERR_ARG;
  }
  if (size < 4) return AGN_ERR_TRUNCATED;
  uint32_t x = agn_load_u32le(in);
  if (x < AGN_RANS_STATE_LOW || x >= kStateHigh) return AGN_ERR_CORRUPT;
  size_t pos = 4;
  const unsigned scale_bits = model->scale_bits;
  const uint32_t mask = (1u << scale_bits) - 1u;
  for (size_t j = 0; j < count; ++j) {
    const size_t channel = j / plane_size;
    const uint16_t* cum = model->cum[channel];
    const uint32_t slot = x & mask;
    unsigned s = 0;
    while (cum[s + 1] <= slot) ++s;  // cum[levels] = M > slot stops it
    symbols[j] = (uint8_t)s;
    x = model->freq[channel][s] * (x >> scale_bits) + slot - cum[s];
    while (x < AGN_RANS_STATE_LOW) {
      if (pos == size) return AGN_ERR_TRUNCATED;
      x = (x << 8) | in[pos++];
    }
  }
  if (x != AGN_RANS_STATE_LOW || pos != size) return AGN_ERR_CORRUPT;
  return AGN_OK;
}
