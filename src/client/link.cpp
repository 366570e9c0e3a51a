#include "client/link.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

#include "agilenn/wire_format.h"

namespace agilenn::client {

double parse_rate_bps(const std::string& text) {
  std::string t;
  for (char c : text) t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (t == "0" || t == "inf" || t == "unlimited") return 0;
  const auto bad = [&] {
    return std::invalid_argument("link rate '" + text + "': expected a number of bits/s such as 6mbps, 270kbps or 115200bps");
  };
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(t, &used);
  } catch (const std::exception&) {
    throw bad();
  }
  std::string unit = t.substr(used);
  if (unit.size() >= 3 && unit.compare(unit.size() - 3, 3, "bps") == 0) unit.resize(unit.size() - 3);
  double scale = 1;
  if (unit == "k") {
    scale = 1e3;
  } else if (unit == "m") {
    scale = 1e6;
  } else if (unit == "g") {
    scale = 1e9;
  } else if (!unit.empty()) {
    throw bad();
  }
  if (!(value > 0) || !std::isfinite(value)) throw bad();
  return value * scale;
}

void check_link_options(const LinkOptions& o) {
  if (!(o.rate_bps >= 0) || !std::isfinite(o.rate_bps)) throw std::invalid_argument("link rate must be >= 0 bits/s");
  if (!(o.delay_ms >= 0) || o.delay_ms > 60000) throw std::invalid_argument("--link-delay-ms must be in [0, 60000]");
  if (!(o.loss >= 0 && o.loss < 1)) throw std::invalid_argument("--link-loss must be a fraction in [0, 1)");
  if (!(o.corrupt >= 0 && o.corrupt <= 1)) throw std::invalid_argument("--link-corrupt must be a fraction in [0, 1]");
}

LinkDirection::LinkDirection(const LinkOptions& options, uint64_t stream)
    : options_(options), rng_(options.seed * 0x9E3779B97F4A7C15ull + stream) {}

bool LinkDirection::passthrough() const {
  return options_.rate_bps == 0 && options_.delay_ms == 0 && options_.loss == 0 && options_.corrupt == 0;
}

std::optional<Clock::time_point> LinkDirection::transmit(std::vector<uint8_t>& data, Clock::time_point now) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Clock::time_point leaves = now;
  if (options_.rate_bps > 0) {
    const double seconds = static_cast<double>((data.size() + AGN_WIRE_IP_UDP_OVERHEAD) * 8) / options_.rate_bps;
    leaves = std::max(now, busy_until_) +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    busy_until_ = leaves;  // a lost datagram still used the link
  }
  if (options_.loss > 0 && unit(rng_) < options_.loss) return std::nullopt;
  if (options_.corrupt > 0 && !data.empty() && unit(rng_) < options_.corrupt) {
    const size_t bit = std::uniform_int_distribution<size_t>(0, data.size() * 8 - 1)(rng_);
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  return leaves + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(options_.delay_ms));
}

}  // namespace agilenn::client
