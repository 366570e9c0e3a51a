// agilenn bench <what>: benchmarks that print figures (never pass/fail on time).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "train/trainer.h"
#include "train_options.h"

namespace agilenn::cli {
namespace {

struct TrainStepArgs {
  TrainArgs train;  // the network and data options of `agilenn train`
  int steps = 20;   // --steps: timed steps of each kind (after 2 warm-up steps)
  bool json = false;
};

int run_train_step(const TrainStepArgs& a) {
  train::TrainConfig c = a.train.resolve();
  std::fprintf(stderr, "bench train-step: preset %s, dataset %s, batch %d, XAI on %d of each batch (%s, %d steps)\n",
               c.preset.c_str(), c.dataset.c_str(), c.batch, c.xai_samples, c.xai.c_str(), c.ig_steps);
  const train::StepBenchReport r = train::bench_train_step(c, a.steps);
  std::FILE* table = a.json ? stderr : stdout;
  std::fprintf(table, "median step (batch %d, %d steps each, alternating)\n  agilenn  %.3f s\n  plain    %.3f s\n"
                      "  ratio    %.2f (the paper: 3-4x; goal <= 1.5)\n",
               r.batch, r.steps, r.agilenn_step_s, r.plain_step_s, r.ratio);
  if (a.json) std::printf("%s\n", r.to_json().dump().c_str());
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& root, int& exit_code) {
  CLI::App* bench = root.add_subcommand("bench", "Benchmarks that print figures");
  bench->require_subcommand(1);
  auto args = std::make_shared<TrainStepArgs>();
  CLI::App* step = bench->add_subcommand("train-step", "Time AgileNN and plain training steps side by side");
  add_train_options(step, args->train);
  step->add_option("--steps", args->steps, "Timed steps of each kind")->check(CLI::PositiveNumber)->capture_default_str();
  step->add_flag("--json", args->json, "Print one JSON object on stdout (the table goes to stderr)");
  step->callback([args, &exit_code] { exit_code = run_train_step(*args); });
  add_bench_serve_command(*bench, exit_code);
}

}  // namespace agilenn::cli
