#include "mcu_run.h"


#include "client/link.h"
#include "export/infer.h"
#include "host/file_io.h"
#include "host/progress.h"
#include "mcu/bench.h"
#include "server/model_backend.h"
#include "server/udp_server.h"
#include "train/backend.h"
#include "wire/host/keys.h"

namespace agilenn::cli {


void print_run_table(std::FILE* f, const nlohmann::json& j) {
  const auto& a = j["accuracy"];
  const auto& h = j["host_runtime"];
  const auto& l = j["latency_ms"];
  std::fprintf(f, "Firmware app on the emulated Cortex-M7, %lld test images, link %.0f bps + %.1f ms, deadline %.0f ms\n",
               j["count"].get<long long>(), j["link"]["rate_bps"].get<double>(), j["link"]["delay_ms"].get<double>(),
               j["link"]["deadline_ms"].get<double>());
  std::fprintf(f, "  accuracy        %8s %8s\n", "final", "local");
  std::fprintf(f, "  firmware        %8.4f %8.4f\n", a["final"].get<double>(), a["local"].get<double>());
  std::fprintf(f, "  host runtime    %8.4f %8.4f   (agilenn infer, in process)\n", h["final"].get<double>(),
               h["local"].get<double>());
  std::fprintf(f, "  bit-exact with the host runtime: logits %lld/%lld, payloads %lld/%lld\n",
               j["host_check"]["logits_equal"].get<long long>(), j["count"].get<long long>(),
               j["host_check"]["payload_equal"].get<long long>(), j["count"].get<long long>());
  std::fprintf(f, "  fallback rate %.4f; wire bytes per image %.1f (payload %.1f)\n", j["fallback_rate"].get<double>(),
               j["wire_bytes_per_image"].get<double>(), j["payload_bytes_per_image"].get<double>());
  std::fprintf(f,
               "  modelled latency, ms per image: device %.3f (%.0f instructions at %.0f MHz, 1 cycle each), link %.3f, "
               "server %.3f, total %.3f\n",
               l["device"].get<double>(), j["instructions_per_image"].get<double>(), j["cpu_mhz"].get<double>(),
               l["link"].get<double>(), l["server"].get<double>(), l["total"].get<double>());
  std::fprintf(f, "  instructions per image: %.0f run + encode, %.0f framing\n",
               j["compute_instructions_per_image"].get<double>(), j["framing_instructions_per_image"].get<double>());
  std::fprintf(f, "  emulator wall time %.1f s\n", j["wall_s"].get<double>());
}

McuRunReport run_firmware_app(const McuRunArgs& a) {
  if (!std::filesystem::is_regular_file(a.firmware)) {
    throw std::runtime_error("firmware " + a.firmware + " does not exist (build it: cmake --build --preset cortex-m7)");
  }
  exporter::InferOptions io;
  io.model_dir = a.model;
  io.count = a.count;
  io.data_dir = a.data;
  const exporter::TestImages test = exporter::load_test_images(io);
  if (test.images.empty()) throw std::runtime_error(a.model + ": the test split is empty");

  mcu::AppOptions o;
  o.firmware = a.firmware;
  o.model_file = std::filesystem::path(a.model) / "model.agnm";
  o.qemu = a.qemu;
  o.cpu_mhz = a.cpu_mhz;
  o.rate_bps = client::parse_rate_bps(a.link_rate);
  o.delay_ms = a.link_delay_ms;
  o.deadline_ms = a.deadline_ms;
  o.device_id = a.device_id;
  if (a.key.empty()) {
    std::fprintf(stderr, "mcu run: using the development key derived from %s/model.agnm (loopback only)\n",
                 a.model.c_str());
  }
  o.key = a.key.empty() ? wire::development_key(a.model) : wire::parse_key_hex(a.key, "--key");

  // The server, in this process on loopback: one device, one image in flight, so no batching wait,
  // and by default one LibTorch thread (a batch of one gains nothing from more on a small host,
  // and QEMU needs a core: with every core, service times here grew from ~5 ms to ~300 ms).
  train::set_compute_threads(a.threads);
  server::ModelBackend backend(exporter::RemoteModel::load(a.model));
  server::ServeOptions so;
  so.batch.max_batch = 1;
  so.stats_interval_s = 0;
  server::UdpServer udp(wire::resolve_ipv4("127.0.0.1", 0), wire::KeyStore::of({{a.device_id, o.key}}), backend, so);
  o.server = udp.address();
  mcu::AppResults r;
  {
    server::ServingThread serving(udp);
    Progress bar("mcu run", test.images.size(), "img");
    r = mcu::run_app(o, test.images, [&] { bar.add(1); });
    bar.finish();
  }

  const mcu::HostCheck check = mcu::check_against_host(read_file(o.model_file), test.images, r);
  size_t final_ok = 0, local_ok = 0;
  for (size_t i = 0; i < r.images.size(); ++i) {
    final_ok += r.images[i].final_class == test.labels[i];
    local_ok += r.images[i].local_class == test.labels[i];
  }
  const double n = static_cast<double>(r.images.size());
  // The host runtime on the same images, with the Remote NN in process (agilenn infer).
  exporter::InProcessRemote remote(exporter::RemoteModel::load(a.model));
  const exporter::InferReport host = exporter::run_infer(io, remote);

  nlohmann::json j = mcu::summarize(r, o);
  j["count"] = r.images.size();
  j["accuracy"] = {{"final", final_ok / n}, {"local", local_ok / n}};
  j["host_runtime"] = {{"final", host.final_accuracy}, {"local", host.local_accuracy}};
  const bool same_accuracy = final_ok / n == host.final_accuracy && local_ok / n == host.local_accuracy;
  j["host_check"] = {{"logits_equal", check.logits_equal}, {"payload_equal", check.payload_equal},
                     {"model_equal", check.model_equal}, {"bit_exact", check.all_equal()},
                     {"accuracy_equal", same_accuracy}};
  j["link"] = {{"rate_bps", o.rate_bps}, {"delay_ms", o.delay_ms}, {"deadline_ms", o.deadline_ms}};
  j["cpu_mhz"] = o.cpu_mhz;
  j["cycles_per_instruction"] = mcu::kCyclesPerInstruction;
  j["wall_s"] = r.wall_s;
  j["bridge"] = {{"requests", r.bridge.requests}, {"datagrams_up", r.bridge.datagrams_up},
                 {"datagrams_down", r.bridge.datagrams_down}, {"no_reply", r.bridge.no_reply}};
  McuRunReport report{j, ""};
  if (!check.all_equal()) {
    report.problem = "the firmware's logits or payloads differ from the host runtime's";
  } else if (!same_accuracy) {
    // Expected only when the firmware fell back (the host runtime has no deadline).
    report.problem = j["fallback_rate"].get<double>() > 0 ? "" : "the accuracy differs from the host runtime's";
    report.note = j["fallback_rate"].get<double>() > 0 ? "the accuracy differs from the host runtime's (fallbacks at the deadline)" : "";
  }
  return report;
}


}  // namespace agilenn::cli
