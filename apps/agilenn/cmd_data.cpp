// agilenn data info | data show: what a data set holds, and what its images look like.
#include <chrono>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "data_report.h"
#include "dataset_options.h"
#include "train/data/contact_sheet.h"

namespace agilenn::cli {
namespace {

struct DataInfoOptions {
  DatasetOptions dataset;
  bool json = false;  // --json: one JSON object on stdout, the table on stderr
};

struct DataShowOptions {
  DatasetOptions dataset;
  size_t n = 64;                 // --n: images on the sheet
  std::string split = "train";   // --split: train|test
  uint64_t seed = 0;             // --seed: which images are sampled
  std::string out = "sheet.png"; // --out: PNG path
};

int run_data_info(const DataInfoOptions& o) {
  const data::DatasetLocation location = resolve_dataset(o.dataset);
  data::LoadOptions load;
  load.threads = o.dataset.threads;
  const auto start = std::chrono::steady_clock::now();
  const data::ImageSet train = data::load_split(location, data::Split::kTrain, load);
  const data::ImageSet test = data::load_split(location, data::Split::kTest, load);
  nlohmann::json report = data_report(location, train, test);
  report["load_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  print_data_report(o.json ? stderr : stdout, report);
  if (o.json) std::printf("%s\n", report.dump().c_str());
  return 0;
}

int run_data_show(const DataShowOptions& o) {
  const data::DatasetLocation location = resolve_dataset(o.dataset);
  data::LoadOptions load;
  load.threads = o.dataset.threads;
  const data::Split split = o.split == "test" ? data::Split::kTest : data::Split::kTrain;
  const data::ImageSet set = data::load_split(location, split, load);
  data::ContactSheetOptions sheet;
  sheet.count = o.n;
  sheet.seed = o.seed;
  sheet.title = std::string(data::dataset_name(location.kind)) + " " + data::split_name(split) + ": " +
                std::to_string(std::min(o.n, set.size())) + " of " + std::to_string(set.size()) +
                " images (seed " + std::to_string(o.seed) + ")";
  const Canvas canvas = data::render_contact_sheet(set, data::class_display_names(location, set), sheet);
  canvas.write_png(o.out);
  std::fprintf(stderr, "wrote %s (%dx%d)\n", o.out.c_str(), canvas.width(), canvas.height());
  return 0;
}

}  // namespace

void add_data_command(CLI::App& root, int& exit_code) {
  CLI::App* data_cmd = root.add_subcommand("data", "Inspect data sets: counts, statistics, images");
  data_cmd->require_subcommand(1);

  auto info = std::make_shared<DataInfoOptions>();
  CLI::App* info_cmd = data_cmd->add_subcommand(
      "info", "Counts per split and class, image size, per-channel mean/std of the train split");
  add_dataset_options(*info_cmd, info->dataset);
  info_cmd->add_flag("--json", info->json, "Print one JSON object on stdout (the table goes to stderr)");
  info_cmd->callback([info, &exit_code] { exit_code = run_data_info(*info); });

  auto show = std::make_shared<DataShowOptions>();
  CLI::App* show_cmd =
      data_cmd->add_subcommand("show", "Write a contact sheet PNG of sampled images with their class names");
  add_dataset_options(*show_cmd, show->dataset);
  show_cmd->add_option("--n", show->n, "Images on the sheet")->check(CLI::Range(1, 1024))->capture_default_str();
  show_cmd->add_option("--split", show->split, "Split to sample")
      ->check(CLI::IsMember({"train", "test"}))
      ->capture_default_str();
  show_cmd->add_option("--seed", show->seed, "Seed of the image sample")->capture_default_str();
  show_cmd->add_option("--out", show->out, "Output PNG")->capture_default_str();
  show_cmd->callback([show, &exit_code] { exit_code = run_data_show(*show); });
}

}  // namespace agilenn::cli
