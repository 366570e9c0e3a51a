// agilenn demo: the whole chain on a default data set, one stage after another, with what each
// stage produced: data, training, int8 export, the device runtime with the Remote NN in process,
// the same over real UDP through an emulated lossy link to a server, the Cortex-M7 firmware's
// exact instruction counts in QEMU, and the firmware app end to end through the radio bridge.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "data_report.h"
#include "dataset_options.h"
#include "export/exporter.h"
#include "export/infer.h"
#include "host/file_io.h"
#include "infer_remote.h"
#include "mcu/bench.h"
#include "mcu_run.h"
#include "server/model_backend.h"
#include "server/udp_server.h"
#include "train/backend.h"
#include "train/data/contact_sheet.h"
#include "train/trainer.h"
#include "wire/host/keys.h"
#include "wire/host/udp.h"

namespace agilenn::cli {
namespace {

struct DemoOptions {
  DatasetOptions dataset;           // cifar10 by default
  std::string out = "runs/demo";    // --out: folder for everything the demo writes
  double reference_budget_s = 60;   // --reference-budget-s: reference training wall time
  double agilenn_budget_s = 150;    // --agilenn-budget-s: AgileNN training wall time
  int64_t infer_images = 1000;      // --infer-images: test images through the in-process pipeline
  int64_t udp_images = 300;         // --udp-images: test images through the UDP server
  double link_loss = 0.05;          // --link-loss: datagram loss of the emulated link
  int64_t mcu_images = 50;          // --mcu-images: test images through the firmware app in QEMU
  bool json = false;                // --json: the summary as one JSON object on stdout
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void stage(int n, const char* title) { std::fprintf(stderr, "\n== stage %d: %s ==\n", n, title); }

int run_demo(const DemoOptions& o) {
  const auto demo_start = std::chrono::steady_clock::now();
  const std::filesystem::path out = o.out;
  nlohmann::json summary;

  stage(1, "compute backend");
  const train::Backend backend = train::probe_backend();
  std::fprintf(stderr, "LibTorch %s, %d threads, BLAS %s%s\n", backend.torch_version.c_str(), backend.threads,
               backend.blas_library.empty() ? "(none mapped)" : backend.blas_library.c_str(),
               backend.blas_is_optimized ? "" : "  WARNING: reference BLAS, training will be slow");
  summary["backend"] = {{"torch", backend.torch_version}, {"threads", backend.threads},
                        {"blas", backend.blas_library}, {"blas_optimized", backend.blas_is_optimized}};

  stage(2, "find the data set (extracting the shipped archive on first use)");
  auto t = std::chrono::steady_clock::now();
  const data::DatasetLocation location = resolve_dataset(o.dataset);
  summary["locate_s"] = seconds_since(t);

  stage(3, "load and decode every image into memory");
  data::LoadOptions load;
  load.threads = o.dataset.threads;
  t = std::chrono::steady_clock::now();
  const data::ImageSet train = data::load_split(location, data::Split::kTrain, load);
  const double train_s = seconds_since(t);
  const data::ImageSet test = data::load_split(location, data::Split::kTest, load);
  std::fprintf(stderr, "train: %zu images in %.2f s (%.0f img/s); total load %.2f s\n", train.size(), train_s,
               static_cast<double>(train.size()) / train_s, seconds_since(t));
  summary["load_train_s"] = train_s;
  summary["load_s"] = seconds_since(t);

  stage(4, "data set statistics");
  summary["data"] = data_report(location, train, test);
  print_data_report(stderr, summary["data"]);

  stage(5, "contact sheet of training images");
  data::ContactSheetOptions sheet;
  sheet.title = std::string(data::dataset_name(location.kind)) + " train: 64 sampled images";
  const std::filesystem::path sheet_path = out / "sheet.png";
  data::render_contact_sheet(train, data::class_display_names(location, train), sheet).write_png(sheet_path);
  std::fprintf(stderr, "wrote %s\n", sheet_path.string().c_str());
  summary["sheet"] = sheet_path.string();

  stage(6, "train: reference, Algorithm 1 + channel mapping, AgileNN (the quick preset, shorter budgets)");
  train::TrainConfig config = train::TrainConfig::preset_values("quick");
  config.dataset = o.dataset.dataset;
  config.data_dir = o.dataset.data_dir;
  config.threads = o.dataset.threads;
  config.out = (out / "train").string();
  config.reference_budget_s = o.reference_budget_s;
  config.agilenn_budget_s = o.agilenn_budget_s;
  config.selection_samples = 2000;
  config.metric_samples = 500;
  train::run_train(config);
  summary["train"] = nlohmann::json::parse(read_text_file(out / "train" / "summary.json"));

  stage(7, "evaluate the trained split model on the test set");
  const train::EvalReport report = train::evaluate_run(config.out, "test", -1.0, config.data_dir);
  std::fprintf(stderr,
               "test (%lld images): final %.4f  local %.4f  remote %.4f  reference %.4f\n"
               "skewness %.3f  disorder rate %.3f  alpha %.3f  remote symbols ~%.0f bytes/image (entropy)\n",
               static_cast<long long>(report.count), report.final_accuracy, report.local_accuracy,
               report.remote_accuracy, report.reference_accuracy, report.skewness, report.disorder_rate, report.alpha,
               report.entropy_bytes);
  summary["eval"] = report.to_json();

  stage(8, "int8 export: batch norm folded, per-channel int8 weights, rANS tables, golden vectors");
  exporter::ExportOptions ex;
  ex.run = config.out;
  ex.out = (out / "model").string();
  ex.table_images = 10000;
  ex.data_dir = config.data_dir;
  const exporter::ExportReport exported = exporter::run_export(ex);
  std::fprintf(stderr, "model file %lld bytes (flash), runtime arena %lld bytes (SRAM), %lld MACs per image -> %s\n",
               static_cast<long long>(exported.model_bytes), static_cast<long long>(exported.arena_bytes),
               static_cast<long long>(exported.macs), ex.out.c_str());
  summary["export"] = exported.to_json();

  stage(9, "device runtime (int8, host build) + Remote NN in process, every codec");
  exporter::InferOptions inf;
  inf.model_dir = ex.out;
  inf.count = o.infer_images;
  inf.data_dir = config.data_dir;
  exporter::InProcessRemote in_process(exporter::RemoteModel::load(ex.out));
  const exporter::InferReport local_run = exporter::run_infer(inf, in_process);
  std::fprintf(stderr, "%lld images: int8 final %.4f (float %.4f), local %.4f; bytes per image:", 
               static_cast<long long>(local_run.count), local_run.final_accuracy, local_run.float_final,
               local_run.local_accuracy);
  for (const exporter::CodecBytes& b : local_run.bytes) std::fprintf(stderr, " %s %.1f", b.name.c_str(), b.mean);
  std::fprintf(stderr, "\n");
  summary["infer"] = local_run.to_json();

  stage(10, "offloading over UDP: server on loopback, device client through a 6 Mbps link with loss");
  {
    server::ModelBackend model_backend(exporter::RemoteModel::load(ex.out));
    server::ServeOptions serve;
    serve.stats_interval_s = 0;
    server::UdpServer udp_server(wire::resolve_ipv4("127.0.0.1", 0), wire::KeyStore::development(wire::development_key(ex.out)),
                                 model_backend, serve);
    server::ServingThread serving(udp_server);
    RemoteInferArgs link;
    link.server = wire::to_string(udp_server.address());
    link.link_rate = "6mbps";
    link.link_loss = o.link_loss;
    std::fprintf(stderr, "server listening on %s (development key); link 6 Mbps, %.0f %% datagram loss each way\n",
                 link.server.c_str(), 100 * o.link_loss);
    nlohmann::json udp;
    {
      UdpRemote remote(remote_client_options(link, ex.out));
      exporter::InferOptions over_udp = inf;
      over_udp.count = o.udp_images;
      over_udp.batch = 1;
      const exporter::InferReport r = exporter::run_infer(over_udp, remote);
      udp = r.to_json();
      udp.update(remote.report(device_ms_per_image(r)));
      std::fprintf(stderr, "%lld images: final %.4f, fallback rate %.3f, %.1f wire bytes per image (headers, resends and "
                   "replies included)\n", static_cast<long long>(r.count), r.final_accuracy,
                   udp["fallback_rate"].get<double>(), udp["wire_bytes_per_image"].get<double>());
    }
    serving.stop();
    const server::Stats st = udp_server.stats();
    std::fprintf(stderr, "server: %s\n", st.to_line().c_str());
    udp["server"] = st.to_json();
    summary["udp"] = udp;
  }

  stage(11, "Cortex-M7 firmware in QEMU (mps2-an500): exact instructions per stage, flash and SRAM");
  mcu::BenchOptions mb;
  mb.model_dir = ex.out;
  mb.firmware = mcu::default_firmware();
  mb.plugin = mcu::default_plugin();
  if (std::filesystem::exists(mb.firmware) && std::filesystem::exists(mb.plugin)) {
    const mcu::BenchResult bench = mcu::run_bench(mb);
    std::fprintf(stderr, "%s", bench.table().c_str());
    summary["mcu"] = bench.to_json();
  } else {
    std::fprintf(stderr, "skipped: %s or %s is missing; build the cortex-m7 preset (scripts/demo.sh does)\n",
                 mb.firmware.string().c_str(), mb.plugin.string().c_str());
  }

  stage(12, "the firmware app in QEMU: images in over semihosting, datagrams out over the UART to the radio bridge, "
            "UDP to the server, the reply mixed on the device");
  McuRunArgs app;
  app.model = ex.out;
  app.count = o.mcu_images;
  if (std::filesystem::exists(app.firmware)) {
    const McuRunReport r = run_firmware_app(app);
    print_run_table(stderr, r.json);
    if (!r.problem.empty()) throw std::runtime_error("mcu run: " + r.problem);
    summary["mcu_run"] = r.json;
  } else {
    std::fprintf(stderr, "skipped: %s is missing; build the cortex-m7 preset (scripts/demo.sh does)\n", app.firmware.c_str());
  }

  summary["total_s"] = seconds_since(demo_start);
  const std::filesystem::path summary_path = out / "demo.json";
  write_file_atomic(summary_path, summary.dump(2) + "\n");
  std::fprintf(stderr, "demo finished in %.1f s; summary in %s\n", summary["total_s"].get<double>(),
               summary_path.string().c_str());
  if (o.json) std::printf("%s\n", summary.dump().c_str());
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& root, int& exit_code) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = root.add_subcommand("demo", "Run the whole chain on a default data set (CIFAR-10), showing every stage");
  add_dataset_options(*cmd, o->dataset);
  cmd->add_option("--out", o->out, "Folder for the demo's outputs")->capture_default_str();
  cmd->add_option("--reference-budget-s", o->reference_budget_s, "Reference training wall time")->capture_default_str();
  cmd->add_option("--agilenn-budget-s", o->agilenn_budget_s, "AgileNN training wall time")->capture_default_str();
  cmd->add_option("--infer-images", o->infer_images, "Test images through the in-process int8 pipeline")->capture_default_str();
  cmd->add_option("--udp-images", o->udp_images, "Test images sent to the UDP server")->capture_default_str();
  cmd->add_option("--mcu-images", o->mcu_images, "Test images through the firmware app in QEMU (stage 12)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--link-loss", o->link_loss, "Datagram loss of the emulated link (a fraction)")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the summary as one JSON object on stdout");
  cmd->callback([o, &exit_code] { exit_code = run_demo(*o); });
}

}  // namespace agilenn::cli
