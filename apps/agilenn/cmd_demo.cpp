// agilenn demo: the whole chain on a default data set, one stage after another, with what each
// stage produced. Stages land here as the project grows; the ones not built yet are listed at
// the end rather than faked.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "data_report.h"
#include "dataset_options.h"
#include "host/file_io.h"
#include "train/backend.h"
#include "train/data/contact_sheet.h"
#include "train/trainer.h"

namespace agilenn::cli {
namespace {

struct DemoOptions {
  DatasetOptions dataset;           // cifar10 by default
  std::string out = "runs/demo";    // --out: folder for everything the demo writes
  double reference_budget_s = 60;   // --reference-budget-s: reference training wall time
  double agilenn_budget_s = 150;    // --agilenn-budget-s: AgileNN training wall time
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

  std::fprintf(stderr,
               "\nnot built yet, so not run: int8 export, device runtime, UDP server and client, Cortex-M7 "
               "firmware in QEMU\n");
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
  cmd->add_flag("--json", o->json, "Print the summary as one JSON object on stdout");
  cmd->callback([o, &exit_code] { exit_code = run_demo(*o); });
}

}  // namespace agilenn::cli
