#include "mcu/app_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/device_model.h"
#include "device/runtime.h"
#include "host/file_io.h"
#include "mcu/app_link.h"

namespace agilenn::mcu {
namespace fs = std::filesystem;
namespace {

constexpr const char* kModelSlot = "0xc0000";  // AGN_BOARD_MODEL_SLOT_ADDRESS (firmware/bsp/board.h)
constexpr uintmax_t kModelSlotBytes = 256 * 1024;  // AGN_BOARD_MODEL_SLOT_BYTES
constexpr double kStartTimeoutS = 20;          // QEMU must connect to the UART socket by then

uint64_t load_u64(const uint8_t* p) { return agn_load_u32le(p) | (uint64_t{agn_load_u32le(p + 4)} << 32); }

// A private temporary folder, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "agilenn-mcu-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string hex(const wire::Key& key) { return wire::key_hex(key); }

void require_file(const fs::path& path, const std::string& what) {
  if (!fs::is_regular_file(path)) throw std::runtime_error(what + " " + path.string() + " does not exist");
}

}  // namespace

fs::path default_app_firmware() { return source_dir() / "build" / "cortex-m7" / "bin" / "agilenn_mcu_app.elf"; }

AppResults parse_results(std::span<const uint8_t> b) {
  if (b.size() < AGN_APP_RESULTS_HEADER || agn_load_u32le(b.data()) != AGN_APP_RESULTS_MAGIC) {
    throw std::runtime_error("mcu run: the firmware's results file has no header");
  }
  if (agn_load_u16le(b.data() + 4) != AGN_APP_RESULTS_VERSION) {
    throw std::runtime_error("mcu run: results file version " + std::to_string(agn_load_u16le(b.data() + 4)) +
                             ", expected " + std::to_string(AGN_APP_RESULTS_VERSION));
  }
  AppResults r;
  r.classes = agn_load_u16le(b.data() + 6);
  const size_t record = agn_load_u16le(b.data() + 8);
  r.codec = b[10];
  r.model_crc = agn_load_u32le(b.data() + 12);
  if (r.classes == 0 || record != AGN_APP_RECORD_FIXED + r.classes) {
    throw std::runtime_error("mcu run: results file record size " + std::to_string(record) + " does not match " +
                             std::to_string(r.classes) + " classes");
  }
  if ((b.size() - AGN_APP_RESULTS_HEADER) % record != 0) {
    throw std::runtime_error("mcu run: results file ends inside a record");
  }
  for (size_t off = AGN_APP_RESULTS_HEADER; off < b.size(); off += record) {
    const uint8_t* p = b.data() + off;
    ImageRecord m;
    m.index = agn_load_u32le(p + AGN_APP_REC_INDEX);
    m.local_class = p[AGN_APP_REC_LOCAL_CLASS];
    m.final_class = p[AGN_APP_REC_FINAL_CLASS];
    m.outcome = p[AGN_APP_REC_OUTCOME];
    m.reply_status = p[AGN_APP_REC_REPLY_STATUS];
    m.payload_bytes = agn_load_u32le(p + AGN_APP_REC_PAYLOAD);
    m.payload_crc = agn_load_u32le(p + AGN_APP_REC_PAYLOAD_CRC);
    m.datagrams_up = agn_load_u16le(p + AGN_APP_REC_DGRAMS_UP);
    m.datagrams_down = agn_load_u16le(p + AGN_APP_REC_DGRAMS_DOWN);
    m.bytes_up = agn_load_u32le(p + AGN_APP_REC_BYTES_UP);
    m.bytes_down = agn_load_u32le(p + AGN_APP_REC_BYTES_DOWN);
    m.server_us = agn_load_u32le(p + AGN_APP_REC_SERVER_US);
    m.instructions = load_u64(p + AGN_APP_REC_INSTRUCTIONS);
    m.up_ns = load_u64(p + AGN_APP_REC_UP_NS);
    m.down_ns = load_u64(p + AGN_APP_REC_DOWN_NS);
    m.latency_ns = load_u64(p + AGN_APP_REC_LATENCY_NS);
    m.framing_instructions = load_u64(p + AGN_APP_REC_FRAMING);
    m.logits.assign(reinterpret_cast<const int8_t*>(p + AGN_APP_RECORD_FIXED),
                    reinterpret_cast<const int8_t*>(p + AGN_APP_RECORD_FIXED + r.classes));
    if (m.outcome > AGN_APP_REJECTED || m.index != r.images.size() || m.framing_instructions > m.instructions) {
      throw std::runtime_error("mcu run: results record " + std::to_string(r.images.size()) + " is inconsistent");
    }
    r.images.push_back(std::move(m));
  }
  return r;
}

AppResults run_app(const AppOptions& o, const std::vector<std::vector<uint8_t>>& images,
                   const std::function<void()>& progress) {
  require_file(o.firmware, "firmware (build it: cmake --build --preset cortex-m7)");
  if (!o.model_file.empty()) {
    require_file(o.model_file, "model file");
    if (fs::file_size(o.model_file) > kModelSlotBytes) {
      throw std::runtime_error(o.model_file.string() + " is " + std::to_string(fs::file_size(o.model_file)) +
                               " bytes; the firmware's model slot holds " + std::to_string(kModelSlotBytes));
    }
  }
  if (!(o.cpu_mhz > 0) || !(o.rate_bps >= 0) || !(o.delay_ms >= 0) || !(o.deadline_ms > 0)) {
    throw std::invalid_argument("mcu run: --cpu-mhz and --deadline-ms must be positive, rate and delay >= 0");
  }
  const TempDir dir;
  const fs::path images_file = dir.path() / "images.bin", results_file = dir.path() / "results.bin";
  const fs::path uart_path = dir.path() / "uart", log_path = dir.path() / "qemu.log";
  std::string all;
  for (const auto& image : images) all.append(image.begin(), image.end());
  write_file_atomic(images_file, all);

  Fd listener(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (listener.get() < 0 || uart_path.string().size() >= sizeof(addr.sun_path)) {
    throw std::runtime_error("mcu run: cannot make the UART socket " + uart_path.string());
  }
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", uart_path.c_str());
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener.get(), 1) != 0) {
    throw std::system_error(errno, std::generic_category(), "mcu run: UART socket " + uart_path.string());
  }

  char append[1024];
  std::snprintf(append, sizeof append,
                "images=%s results=%s count=%zu cpu_khz=%llu rate_bps=%llu delay_us=%llu deadline_us=%llu "
                "device_id=%u seq=%u max_datagram=%zu key=%s",
                images_file.c_str(), results_file.c_str(), images.size(),
                static_cast<unsigned long long>(std::llround(o.cpu_mhz * 1000)),
                static_cast<unsigned long long>(std::llround(o.rate_bps)),
                static_cast<unsigned long long>(std::llround(o.delay_ms * 1000)),
                static_cast<unsigned long long>(std::llround(o.deadline_ms * 1000)), o.device_id, o.first_seq,
                o.max_datagram, hex(o.key).c_str());
  std::vector<std::string> args = {o.qemu, "-M", "mps2-an500", "-display", "none", "-monitor", "none",
                                   "-chardev", "socket,id=uart0,path=" + uart_path.string(), "-serial",
                                   "chardev:uart0", "-semihosting-config", "enable=on,target=native", "-icount",
                                   "shift=0", "-kernel", o.firmware.string(), "-append", append};
  if (!o.model_file.empty()) {
    args.insert(args.end(), {"-device", "loader,file=" + o.model_file.string() + ",addr=" + kModelSlot + ",force-raw=on"});
  }

  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "mcu run: fork");
  if (pid == 0) {
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "cannot run %s\n", argv[0]);
    ::_exit(127);
  }
  int status = 0;
  bool exited = false;
  auto qemu_failure = [&](const std::string& what) {
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    std::string log;
    try {
      log = read_text_file(log_path);
    } catch (const std::exception&) {
    }
    return std::runtime_error("mcu run: " + what + "; QEMU's output:\n" + log);
  };

  // Accept QEMU's connection to the UART socket (it connects at start-up).
  int uart = -1;
  while (uart < 0) {
    pollfd p{listener.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
    if (p.revents & POLLIN) uart = ::accept(listener.get(), nullptr, nullptr);
    if (uart < 0 && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      throw qemu_failure("QEMU exited before connecting its UART");
    }
    if (uart < 0 && std::chrono::steady_clock::now() - started > std::chrono::duration<double>(kStartTimeoutS)) {
      throw qemu_failure("QEMU did not connect its UART");
    }
  }
  const Fd uart_fd(uart);
  BridgeOptions bo;
  bo.server = o.server;
  bo.reply_timeout_ms = o.reply_timeout_ms;
  bo.max_datagram = o.max_datagram;
  Bridge bridge(uart_fd.get(), bo);
  std::atomic<bool> stop{false};
  try {
    bridge.run(stop, progress);
  } catch (const std::exception& e) {
    throw qemu_failure(e.what());
  }
  ::waitpid(pid, &status, 0);
  exited = true;
  AppResults r;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw qemu_failure("the firmware ended with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                       (bridge.uart_text().empty() ? "" : "; UART text: " + bridge.uart_text()));
  }
  r = parse_results(read_file(results_file));
  if (r.images.size() != images.size()) {
    throw qemu_failure("the firmware wrote " + std::to_string(r.images.size()) + " records for " +
                       std::to_string(images.size()) + " images");
  }
  r.bridge = bridge.stats();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

HostCheck check_against_host(std::span<const uint8_t> model_bytes, const std::vector<std::vector<uint8_t>>& images,
                             const AppResults& results) {
  agn_model model{};
  if (agn_model_load(&model, model_bytes.data(), model_bytes.size()) != AGN_OK) {
    throw std::runtime_error(std::string("mcu run: model: ") + model.error);
  }
  // The firmware's send path (runtime.h agn_runtime_encode_default): its default coder into a
  // buffer of the raw packing's size, packed when a rANS stream would not fit.
  const unsigned codecs = agn_runtime_default_codecs(&model);
  if (results.codec != (codecs & AGN_CODEC_BIT(AGN_CODEC_RANS) ? AGN_CODEC_RANS : AGN_CODEC_RAW)) {
    throw std::runtime_error("mcu run: the firmware's default codec " + std::to_string(results.codec) +
                             " is not the model's");
  }
  size_t arena_size = 0;
  if (agn_runtime_arena_size(&model, codecs, &arena_size) != AGN_OK) {
    throw std::runtime_error("mcu run: the host runtime cannot use the model's codecs");
  }
  std::vector<uint32_t> arena((arena_size + 3) / 4);
  agn_runtime rt{};
  if (agn_runtime_init(&rt, &model, codecs, nullptr, arena.data(), arena.size() * 4) != AGN_OK) {
    throw std::runtime_error(std::string("mcu run: host runtime: ") + rt.error);
  }
  HostCheck c;
  c.model_equal = agn_crc32(model_bytes.data(), model_bytes.size()) == results.model_crc;
  std::vector<int8_t> logits(model.local.classes);
  std::vector<uint8_t> payload(agn_runtime_max_payload(&model, AGN_CODEC_RAW));
  for (size_t i = 0; i < images.size() && i < results.images.size(); ++i) {
    size_t written = 0;
    agn_codec codec = AGN_CODEC_RAW;
    if (agn_runtime_run(&rt, images[i].data(), images[i].size(), logits.data(), logits.size()) != AGN_OK ||
        agn_runtime_encode_default(&rt, payload.data(), payload.size(), &written, &codec) != AGN_OK) {
      throw std::runtime_error(std::string("mcu run: host runtime: ") + rt.error);
    }
    const ImageRecord& m = results.images[i];
    ++c.images;
    c.logits_equal += logits == m.logits;
    c.payload_equal += written == m.payload_bytes && agn_crc32(payload.data(), written) == m.payload_crc;
  }
  return c;
}

nlohmann::json summarize(const AppResults& r, const AppOptions& o) {
  const double n = static_cast<double>(std::max<size_t>(r.images.size(), 1));
  double wire = 0, device = 0, link = 0, server = 0, total = 0, instructions = 0, framing = 0, payload = 0;
  size_t answered = 0;
  for (const ImageRecord& m : r.images) {
    wire += m.bytes_up + m.bytes_down + double{AGN_WIRE_IP_UDP_OVERHEAD} * (m.datagrams_up + m.datagrams_down);
    device += static_cast<double>(m.instructions) / (o.cpu_mhz * 1000.0);
    instructions += static_cast<double>(m.instructions);
    framing += static_cast<double>(m.framing_instructions);
    payload += m.payload_bytes;
    total += static_cast<double>(m.latency_ns) / 1e6;
    if (m.outcome == AGN_APP_ANSWERED) {
      ++answered;
      link += static_cast<double>(m.up_ns + m.down_ns) / 1e6 + 2 * o.delay_ms;
      server += m.server_us / 1000.0;
    }
  }
  const double a = static_cast<double>(std::max<size_t>(answered, 1));
  return {{"fallback_rate", r.images.empty() ? 0.0 : 1.0 - static_cast<double>(answered) / n},
          {"wire_bytes_per_image", wire / n},
          {"payload_bytes_per_image", payload / n},
          {"instructions_per_image", instructions / n},
          {"framing_instructions_per_image", framing / n},
          {"compute_instructions_per_image", (instructions - framing) / n},
          {"latency_ms", {{"device", device / n}, {"link", link / a}, {"server", server / a}, {"total", total / n}}}};
}

}  // namespace agilenn::mcu
