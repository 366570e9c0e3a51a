// `agilenn train` and `agilenn eval`: the stages of AgileNN training and the evaluation of a run.
//
// A run folder holds:
//   config.json             the resolved configuration
//   reference.pt            the reference stage's best network (stem + body), chosen on validation
//   channels.json           Algorithm 1's scores, the channel order and the chosen local channels
//   agilenn.pt              the AgileNN stage's best network and its reference body
//   plain.pt                the plain baseline's best network
//   <stage>.ckpt            the last epoch's full state (models, optimisers, counters) for --resume
//   metrics.jsonl           one JSON object per epoch of every stage
//   summary.json            the last evaluation of each stage, and wall times
// Every file is written atomically (temporary file + rename).
#pragma once

#include <cstdint>
#include <string>

#include "train/train_config.h"

namespace agilenn::train {

// Runs config.stage ("all" = reference, Algorithm 1 + mapping, AgileNN). Throws on errors.
void run_train(const TrainConfig& config);

struct EvalReport {
  double final_accuracy = 0, local_accuracy = 0, remote_accuracy = 0, reference_accuracy = 0;
  double skewness = 0, disorder_rate = 0, alpha = 0;
  double entropy_bytes = 0;  // empirical entropy of the remote symbols, bytes per image
  int64_t count = 0;
  // Over the correctly classified images that the XAI metrics use (xai.h, ImportanceProfile):
  // mean importance per channel; per local channel, the fraction of the disordered images in
  // which it is the weakest local one; per remote channel, in which it is the strongest remote
  // one; the fraction of images in which some local channel has no importance at all.
  std::vector<double> channel_importance, disorder_weakest_local, disorder_strongest_remote;
  double dead_local_rate = 0;
  nlohmann::json to_json() const;
};

// Evaluates the AgileNN network of `run_dir` on `split` ("test" or "val"). alpha_override in
// [0, 1] replaces the trained alpha; data_dir overrides the run's data folder when not empty.
EvalReport evaluate_run(const std::string& run_dir, const std::string& split, double alpha_override,
                        const std::string& data_dir);

// `agilenn bench train-step`: AgileNN and plain training steps timed alternately on the same
// batches of real data (networks as configured, freshly initialised; no reference stage needed).
struct StepBenchReport {
  double agilenn_step_s = 0;  // median over blocks of xai_every steps, per step
  double plain_step_s = 0;    // the same
  double ratio = 0;           // agilenn / plain
  int steps = 0;
  int batch = 0;
  int xai_samples = 0;
  int xai_every = 1;
  nlohmann::json to_json() const;
};
StepBenchReport bench_train_step(const TrainConfig& config, int steps);

}  // namespace agilenn::train
