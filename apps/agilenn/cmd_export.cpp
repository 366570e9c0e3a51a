// agilenn export: int8 quantisation of a trained run's device half; writes the device model file,
// its C++ source, the remote model, golden vectors and export.json (src/export/exporter.h).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "export/exporter.h"

namespace agilenn::cli {
namespace {

struct ExportArgs {
  exporter::ExportOptions options;  // defaults in exporter.h
  bool json = false;
};

void print_table(std::FILE* f, const exporter::ExportReport& r) {
  std::fprintf(f, "export %s -> %s (%.1f s)\n", r.run.c_str(), r.out.c_str(), r.seconds);
  std::fprintf(f, "  model (flash) %lld bytes   arena (SRAM) %lld bytes   %lld MACs per image\n",
               static_cast<long long>(r.model_bytes), static_cast<long long>(r.arena_bytes), static_cast<long long>(r.macs));
  std::fprintf(f, "  k %d of %d channels local, %d levels, alpha %.4f, %d classes, input zero point %d\n", r.k,
               r.k + r.remote_channels, r.levels, r.alpha, r.classes, r.input_zero_point);
  std::fprintf(f, "  %-6s %-10s %-14s %-14s %10s %8s\n", "layer", "op", "in (HxWxC)", "out (HxWxC)", "MACs", "bytes");
  for (const auto& l : r.layers) {
    const std::string in = std::to_string(l.in_h) + "x" + std::to_string(l.in_w) + "x" + std::to_string(l.in_c);
    const std::string out = std::to_string(l.out_h) + "x" + std::to_string(l.out_w) + "x" + std::to_string(l.out_c);
    std::fprintf(f, "  %-6s %-10s %-14s %-14s %10lld %8lld\n", l.name.c_str(), l.op.c_str(), in.c_str(), out.c_str(),
                 static_cast<long long>(l.macs), static_cast<long long>(l.weight_bytes));
  }
  std::fprintf(f, "  calibration: min/max over %lld training images\n", static_cast<long long>(r.calibration_images));
  std::fprintf(f, "  %-8s %10s %10s %12s %6s\n", "tensor", "min", "max", "scale", "zp");
  for (const auto& t : r.ranges) {
    std::fprintf(f, "  %-8s %10.4f %10.4f %12.6g %6d\n", t.name.c_str(), t.min, t.max, t.scale, t.zero_point);
  }
  std::fprintf(f, "  rANS tables from %lld training images: %lld bytes, %.0f events and %.1f bytes of entropy per image\n",
               static_cast<long long>(r.table_images), static_cast<long long>(r.rans_table_bytes), r.rans_events_per_image,
               r.rans_entropy_bytes);
}

int run_export(const ExportArgs& a) {
  const exporter::ExportOptions& o = a.options;
  std::fprintf(stderr, "export: run %s, out %s, calibration %lld, table images %lld (0 = all), golden %d%s\n", o.run.c_str(),
               o.out.c_str(), static_cast<long long>(o.calibration), static_cast<long long>(o.table_images), o.golden,
               o.data_dir.empty() ? "" : (", data " + o.data_dir).c_str());
  const exporter::ExportReport r = exporter::run_export(o);
  print_table(a.json ? stderr : stdout, r);
  if (a.json) std::printf("%s\n", r.to_json().dump().c_str());
  return 0;
}

}  // namespace

void add_export_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = root.add_subcommand(
      "export", "Quantise a trained run to int8: device model file, C++ source, remote model, golden vectors");
  exporter::ExportOptions& o = args->options;
  cmd->add_option("--run", o.run, "Run folder written by agilenn train (config.json, agilenn.pt)")->required();
  cmd->add_option("--out", o.out, "Export folder to write (created)")->required();
  cmd->add_option("--calibration", o.calibration, "Training images whose min/max set the activation ranges")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--table-images", o.table_images, "Training images whose symbols train the rANS tables (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--golden", o.golden, "Test images in the golden vectors")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--data", o.data_dir, "Data folder, if not the run's");
  cmd->add_flag("--json", args->json, "Print one JSON object on stdout (the table goes to stderr)");
  cmd->callback([args, &exit_code] { exit_code = run_export(*args); });
}

}  // namespace agilenn::cli
