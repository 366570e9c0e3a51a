// agilenn train | eval: AgileNN training (reference, Algorithm 1 + mapping, AgileNN; or the plain
// baseline) and the evaluation of a trained run.
#include <cstdio>
#include <functional>
#include <sstream>
#include <memory>
#include <vector>

#include "commands.h"
#include "train_options.h"
#include "train/trainer.h"

namespace agilenn::cli {
namespace {

using train::TrainConfig;

void print_config(const TrainConfig& c) {
  std::fprintf(stderr, "train: preset %s, dataset %s, stage %s, out %s\n%s\n", c.preset.c_str(), c.dataset.c_str(),
               c.stage.c_str(), c.out.c_str(), train::to_json(c).dump().c_str());
}

struct EvalArgs {
  std::string run;             // --run: the run folder
  std::string split = "test";  // --split: test | val
  double alpha = -1;           // --alpha: override the trained alpha (-1 = trained)
  std::string data_dir;        // --data: overrides the run's data folder
  bool json = false;
};

int run_eval(const EvalArgs& a) {
  const train::EvalReport r = train::evaluate_run(a.run, a.split, a.alpha, a.data_dir);
  std::FILE* table = a.json ? stderr : stdout;
  std::fprintf(table,
               "%s split, %lld images\n  accuracy  final %.4f  local %.4f  remote %.4f  reference %.4f\n"
               "  skewness %.4f  disorder rate %.4f  alpha %.4f  remote symbol entropy %.0f bytes/image\n",
               a.split.c_str(), static_cast<long long>(r.count), r.final_accuracy, r.local_accuracy, r.remote_accuracy,
               r.reference_accuracy, r.skewness, r.disorder_rate, r.alpha, r.entropy_bytes);
  const auto row = [table](const char* what, const std::vector<double>& v) {
    std::fprintf(table, "  %-34s", what);
    for (const double x : v) std::fprintf(table, " %5.3f", x);
    std::fprintf(table, "\n");
  };
  row("importance per channel (local first)", r.channel_importance);
  row("disordered: weakest local channel", r.disorder_weakest_local);
  row("disordered: strongest remote channel", r.disorder_strongest_remote);
  std::fprintf(table, "  images with a local channel of zero importance: %.4f\n", r.dead_local_rate);
  if (a.json) std::printf("%s\n", r.to_json().dump().c_str());
  return 0;
}

}  // namespace

void add_train_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = root.add_subcommand(
      "train", "Train AgileNN: the reference, Algorithm 1 and the channel mapping, then AgileNN (or one --stage)");
  add_train_options(cmd, *args);
  cmd->callback([args, &exit_code] {
    const TrainConfig c = args->resolve();
    print_config(c);
    train::run_train(c);
    exit_code = 0;
  });

  auto eval = std::make_shared<EvalArgs>();
  CLI::App* ecmd = root.add_subcommand("eval", "Evaluate a trained run: accuracies, skewness, disorder, alpha");
  ecmd->add_option("--run", eval->run, "Run folder written by agilenn train")->required();
  ecmd->add_option("--split", eval->split, "test | val")->check(CLI::IsMember({"test", "val"}))->capture_default_str();
  ecmd->add_option("--alpha", eval->alpha, "Use this alpha instead of the trained one (-1 = trained)")->capture_default_str();
  ecmd->add_option("--data", eval->data_dir, "Data folder, if not the run's");
  ecmd->add_flag("--json", eval->json, "Print one JSON object on stdout (the table goes to stderr)");
  ecmd->callback([eval, &exit_code] { exit_code = run_eval(*eval); });
}

}  // namespace agilenn::cli
