// The firmware app end to end: QEMU (cortex-m7 preset's firmware), the radio bridge, a UDP server
// with a deterministic fake Remote NN. Every image's int8 logits and encoded bytes must equal the
// host runtime's, the mixed prediction the host's mix of the same logits, and the modelled times
// must follow from the bytes. Skipped when the cortex-m7 preset has not been built.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/device_model.h"
#include "device/runtime.h"
#include "host/file_io.h"
#include "mcu/app_link.h"
#include "mcu/app_run.h"
#include "mcu/bridge.h"
#include "server/udp_server.h"
#include "support/fake_backend.h"

namespace agilenn {
namespace {

namespace fs = std::filesystem;
using mcu::AppOptions;
using mcu::AppResults;

const fs::path kBuild = source_dir() / "build" / "cortex-m7";
const fs::path kModel = kBuild / "mcu-model" / "model.agnm";
const fs::path kFlashFirmware = mcu::default_app_firmware();
const fs::path kGeneratedFirmware = kBuild / "bin" / "agilenn_mcu_app_generated.elf";
const wire::Key kKey = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

bool firmware_built() {
  return fs::exists(kModel) && fs::exists(kFlashFirmware) && fs::exists(kGeneratedFirmware);
}

struct Host {
  std::vector<uint8_t> bytes;
  agn_model model{};
  Host() : bytes(read_file(kModel)) { EXPECT_EQ(agn_model_load(&model, bytes.data(), bytes.size()), AGN_OK); }
};

std::vector<std::vector<uint8_t>> random_images(const agn_model& m, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> out(n, std::vector<uint8_t>(size_t{m.input_height} * m.input_width * m.input_channels));
  for (auto& image : out) {
    for (auto& px : image) px = static_cast<uint8_t>(rng() & 0xFF);
  }
  return out;
}

// A UDP server with the fake backend on a thread, for the length of a test.
class FakeServer {
 public:
  FakeServer()
      : server_(wire::resolve_ipv4("127.0.0.1", 0), wire::KeyStore::development(kKey), backend_, options()),
        serving_(server_) {}
  sockaddr_in address() const { return server_.address(); }

 private:
  static server::ServeOptions options() {
    server::ServeOptions o;
    o.batch.max_batch = 1;
    o.stats_interval_s = 0;
    return o;
  }
  testing::FakeBackend backend_;
  server::UdpServer server_;
  server::ServingThread serving_;
};

AppOptions app_options(const sockaddr_in& server) {
  AppOptions o;
  o.server = server;
  o.key = kKey;
  o.first_seq = 100;
  o.rate_bps = 6e6;
  o.delay_ms = 2;
  return o;
}

// The final class the host computes: the fake server's logits for the host runtime's payload,
// mixed with the host's local logits as `agilenn infer` mixes them.
int host_final_class(const agn_model& m, const std::vector<int8_t>& logits, const std::vector<uint8_t>& payload) {
  const std::vector<float> remote = testing::fake_logits(payload, m.local.classes);
  const double alpha = m.alpha;
  std::vector<float> final(m.local.classes);
  for (size_t j = 0; j < final.size(); ++j) {
    const float local = m.local.logits_scale * static_cast<float>(logits[j] - m.local.logits_zero_point);
    final[j] = static_cast<float>(alpha * local + (1 - alpha) * remote[j]);
  }
  return static_cast<int>(std::max_element(final.begin(), final.end()) - final.begin());
}

TEST(McuRun, BothFirmwareBuildsMatchTheHostRuntimeAndMixLikeIt) {
  if (!firmware_built()) GTEST_SKIP() << "cortex-m7 preset not built";
  Host host;
  const auto images = random_images(host.model, 2, 5);
  FakeServer server;
  for (const fs::path& firmware : {kGeneratedFirmware, kFlashFirmware}) {
    SCOPED_TRACE(firmware.string());
    AppOptions o = app_options(server.address());
    o.firmware = firmware;
    if (firmware == kFlashFirmware) o.model_file = kModel;
    int requests = 0;
    const AppResults r = mcu::run_app(o, images, [&] { ++requests; });
    EXPECT_EQ(requests, 2);
    ASSERT_EQ(r.images.size(), images.size());
    const mcu::HostCheck check = mcu::check_against_host(host.bytes, images, r);
    EXPECT_TRUE(check.model_equal);
    EXPECT_EQ(check.logits_equal, images.size());
    EXPECT_EQ(check.payload_equal, images.size());
    EXPECT_EQ(r.codec, host.model.rans != nullptr ? AGN_CODEC_RANS : AGN_CODEC_RAW);

    // The host's payloads, for the fake server's logits and the mix.
    size_t arena_size = 0;
    ASSERT_EQ(agn_runtime_arena_size(&host.model, AGN_CODEC_BIT(r.codec), &arena_size), AGN_OK);
    std::vector<uint32_t> arena((arena_size + 3) / 4);
    agn_runtime rt{};
    ASSERT_EQ(agn_runtime_init(&rt, &host.model, AGN_CODEC_BIT(r.codec), nullptr, arena.data(), arena.size() * 4), AGN_OK);
    for (size_t i = 0; i < images.size(); ++i) {
      const mcu::ImageRecord& m = r.images[i];
      std::vector<int8_t> logits(host.model.local.classes);
      ASSERT_EQ(agn_runtime_run(&rt, images[i].data(), images[i].size(), logits.data(), logits.size()), AGN_OK);
      std::vector<uint8_t> payload(agn_runtime_max_payload(&host.model, static_cast<agn_codec>(r.codec)));
      size_t written = 0;
      ASSERT_EQ(agn_runtime_encode(&rt, static_cast<agn_codec>(r.codec), payload.data(), payload.size(), &written), AGN_OK);
      payload.resize(written);
      EXPECT_EQ(m.outcome, AGN_APP_ANSWERED);
      EXPECT_EQ(m.local_class, std::max_element(logits.begin(), logits.end()) - logits.begin());
      EXPECT_EQ(m.final_class, host_final_class(host.model, logits, payload));

      // The modelled clock follows from the bytes: every datagram (n + 28) * 8 / rate.
      const size_t fragments = agn_wire_fragment_count(AGN_WIRE_REQUEST_HEADER + written, o.max_datagram);
      EXPECT_EQ(m.datagrams_up, fragments);
      EXPECT_EQ(m.bytes_up, AGN_WIRE_REQUEST_HEADER + written + fragments * AGN_WIRE_OVERHEAD);
      const double up_ns = (m.bytes_up + 28.0 * m.datagrams_up) * 8e9 / o.rate_bps;
      EXPECT_NEAR(static_cast<double>(m.up_ns), up_ns, m.datagrams_up);
      EXPECT_EQ(m.datagrams_down, 1u);
      EXPECT_EQ(m.bytes_down, agn_wire_reply_size(host.model.local.classes) + AGN_WIRE_OVERHEAD);
      EXPECT_GT(m.instructions, 100000u);
      EXPECT_GT(m.framing_instructions, 1000u);  // a SipHash and a CRC per datagram at least
      EXPECT_LT(m.framing_instructions, m.instructions / 4);
      const uint64_t compute_ns = m.instructions * 1000000ull / 216000ull;
      EXPECT_EQ(m.latency_ns, compute_ns + m.up_ns + m.down_ns + 2 * 2000000ull + m.server_us * 1000ull);
    }
    const nlohmann::json s = mcu::summarize(r, o);
    EXPECT_EQ(s["fallback_rate"].get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(s["compute_instructions_per_image"].get<double>() + s["framing_instructions_per_image"].get<double>(),
                     s["instructions_per_image"].get<double>());
    EXPECT_GT(s["latency_ms"]["link"].get<double>(), 4.0);
    EXPECT_EQ(r.bridge.requests, images.size());
    EXPECT_EQ(r.bridge.no_reply, 0u);
  }
}

TEST(McuRun, FallsBackToTheLocalPredictionAfterTheModelledDeadline) {
  if (!firmware_built()) GTEST_SKIP() << "cortex-m7 preset not built";
  Host host;
  const auto images = random_images(host.model, 1, 6);
  FakeServer server;
  AppOptions o = app_options(server.address());
  o.firmware = kFlashFirmware;
  o.model_file = kModel;
  o.rate_bps = 270e3;
  o.deadline_ms = 100;  // 270 kbps: the request (about 10 KB) alone takes longer on the modelled link
  const AppResults r = mcu::run_app(o, images);
  ASSERT_EQ(r.images.size(), 1u);
  EXPECT_EQ(r.images[0].outcome, AGN_APP_LATE);
  EXPECT_EQ(r.images[0].final_class, r.images[0].local_class);
  EXPECT_EQ(r.images[0].latency_ns, r.images[0].instructions * 1000000ull / 216000ull + 100000000ull);
  EXPECT_EQ(mcu::summarize(r, o)["fallback_rate"].get<double>(), 1.0);
}

TEST(McuRun, NoReplyFromASilentServerEndsInTheLocalPrediction) {
  if (!firmware_built()) GTEST_SKIP() << "cortex-m7 preset not built";
  Host host;
  const auto images = random_images(host.model, 1, 7);
  wire::UdpSocket silent;  // bound, never answers
  silent.bind(wire::resolve_ipv4("127.0.0.1", 0));
  AppOptions o = app_options(silent.local_address());
  o.firmware = kFlashFirmware;
  o.model_file = kModel;
  o.reply_timeout_ms = 200;
  const AppResults r = mcu::run_app(o, images);
  ASSERT_EQ(r.images.size(), 1u);
  EXPECT_EQ(r.images[0].outcome, AGN_APP_NO_REPLY);
  EXPECT_EQ(r.images[0].final_class, r.images[0].local_class);
  EXPECT_EQ(r.bridge.no_reply, 1u);
}

TEST(McuRun, RejectsBadResultsFiles) {
  EXPECT_THROW(mcu::parse_results(std::vector<uint8_t>{1, 2, 3}), std::runtime_error);
  std::vector<uint8_t> header(AGN_APP_RESULTS_HEADER, 0);
  agn_store_u32le(header.data(), AGN_APP_RESULTS_MAGIC);
  agn_store_u16le(header.data() + 4, AGN_APP_RESULTS_VERSION);
  agn_store_u16le(header.data() + 6, 10);
  agn_store_u16le(header.data() + 8, AGN_APP_RECORD_FIXED + 10);
  EXPECT_EQ(mcu::parse_results(header).images.size(), 0u);
  std::vector<uint8_t> cut = header;
  cut.resize(cut.size() + 5);
  EXPECT_THROW(mcu::parse_results(cut), std::runtime_error);
  agn_store_u16le(header.data() + 8, 12);
  EXPECT_THROW(mcu::parse_results(header), std::runtime_error);
}

TEST(McuBridge, FramesSurviveArbitrarySplitsAndSkipStrayText) {
  std::vector<uint8_t> stream = {'h', 'i', '\n'};
  const std::vector<uint8_t> body = {1, 2, 3, AGN_LINK_SYNC, 5};
  for (int i = 0; i < 3; ++i) {
    const auto f = mcu::link_frame(AGN_LINK_DATAGRAM, body);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  mcu::FrameReader reader;
  int frames = 0;
  for (uint8_t byte : stream) {
    reader.feed(&byte, 1);
    while (auto f = reader.next()) {
      EXPECT_EQ(f->type, AGN_LINK_DATAGRAM);
      EXPECT_EQ(f->body, body);
      ++frames;
    }
  }
  EXPECT_EQ(frames, 3);
  EXPECT_EQ(reader.stray(), "hi\n");
}

}  // namespace
}  // namespace agilenn
