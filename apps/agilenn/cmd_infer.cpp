// agilenn infer: the int8 device runtime on the test set with the Remote NN in this process, next
// to the float network; accuracy, bytes per image for every codec, time per stage
// (src/export/infer.h).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "export/infer.h"
#include "infer_remote.h"

namespace agilenn::cli {
namespace {

struct InferArgs {
  exporter::InferOptions options;  // defaults in infer.h
  RemoteInferArgs remote;          // --server and the link options (infer_remote.h)
  bool json = false;
};

void print_table(std::FILE* f, const exporter::InferReport& r) {
  std::fprintf(f, "%lld test images, alpha %.4f, %lld symbols per image, %lld fallbacks\n", static_cast<long long>(r.count),
               r.alpha, static_cast<long long>(r.symbols_per_image), static_cast<long long>(r.fallbacks));
  std::fprintf(f, "  accuracy   %8s %8s %8s\n", "final", "local", "remote");
  std::fprintf(f, "  int8       %8.4f %8.4f %8.4f\n", r.final_accuracy, r.local_accuracy, r.remote_accuracy);
  std::fprintf(f, "  float      %8.4f %8.4f %8.4f\n", r.float_final, r.float_local, r.float_remote);
  std::fprintf(f, "  int8 - float (final): %+.2f points\n", 100.0 * (r.final_accuracy - r.float_final));
  std::fprintf(f, "  bytes per image (mean, max):\n");
  double lzw = 0;
  for (const auto& b : r.bytes) {
    if (b.name == "lzw") lzw = b.mean;
  }
  for (const auto& b : r.bytes) {
    std::fprintf(f, "    %-13s %9.1f %7lld   %.3fx LZW\n", b.name.c_str(), b.mean, static_cast<long long>(b.max),
                 lzw > 0 ? b.mean / lzw : 0.0);
  }
  std::fprintf(f, "  host ms per image:");
  for (const auto& [k, v] : r.host_ms) std::fprintf(f, " %s %.3f", k.c_str(), v);
  std::fprintf(f, "\n  runtime stages, ms per image:");
  for (const auto& [k, v] : r.device_ms) std::fprintf(f, " %s %.3f", k.c_str(), v);
  std::fprintf(f, "\n");
}

int run_infer(const InferArgs& a) {
  const exporter::InferOptions& o = a.options;
  std::fprintf(stderr, "infer: model %s, images %lld (0 = all), batch %d, remote %s%s\n", o.model_dir.c_str(),
               static_cast<long long>(o.count), o.batch, a.remote.server.empty() ? "in process" : ("at " + a.remote.server).c_str(),
               o.data_dir.empty() ? "" : (", data " + o.data_dir).c_str());
  if (!a.remote.server.empty()) {
    UdpRemote remote(remote_client_options(a.remote, o.model_dir));
    const exporter::InferReport r = exporter::run_infer(o, remote);
    const double device_ms = device_ms_per_image(r);
    nlohmann::json j = r.to_json();
    j.update(remote.report(device_ms));
    print_table(a.json ? stderr : stdout, r);
    std::fprintf(a.json ? stderr : stdout, "  over UDP: %s\n", remote.report(device_ms).dump().c_str());
    if (a.json) std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  exporter::InProcessRemote remote(exporter::RemoteModel::load(o.model_dir));
  const exporter::InferReport r = exporter::run_infer(o, remote);
  print_table(a.json ? stderr : stdout, r);
  if (a.json) std::printf("%s\n", r.to_json().dump().c_str());
  return 0;
}

}  // namespace

void add_infer_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<InferArgs>();
  CLI::App* cmd = root.add_subcommand(
      "infer", "Run the int8 device runtime on the test set with the Remote NN in this process; accuracy, bytes, time");
  exporter::InferOptions& o = args->options;
  cmd->add_option("--model", o.model_dir, "Export folder written by agilenn export")->required();
  cmd->add_option("--n", o.count, "Test images to run (0 = the whole test split)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--batch", o.batch, "Images per Remote NN batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--data", o.data_dir, "Data folder, if not the run's");
  cmd->add_flag("--json", args->json, "Print one JSON object on stdout (the table goes to stderr)");
  add_remote_infer_options(cmd, args->remote);
  cmd->callback([args, &exit_code] { exit_code = run_infer(*args); });
}

}  // namespace agilenn::cli
