#include "train_options.h"

#include <memory>
#include <sstream>

namespace agilenn::cli {

using train::TrainConfig;

TrainConfig TrainArgs::resolve() const {
  TrainConfig c = TrainConfig::preset_values(preset);
  for (const auto& [option, apply] : fields) {
    if (option->count() > 0) apply(c);
  }
  c.resume = resume;
  return c;
}

namespace {

template <class T>
void bind_option(CLI::App* cmd, TrainArgs& args, const std::string& flag, T TrainConfig::*field, const std::string& help) {
  const TrainConfig quick = TrainConfig::preset_values("quick");
  std::ostringstream def;
  def << quick.*field;
  auto value = std::make_shared<T>();
  CLI::Option* option = cmd->add_option(flag, *value, help + " (quick preset: " + def.str() + ")");
  args.fields.emplace_back(option, [value, field](TrainConfig& c) { c.*field = *value; });
}

// A list of the Remote NN's seven stages, e.g. --remote-blocks 1,1,2,2,2,1,1.
void bind_stage_list(CLI::App* cmd, TrainArgs& args, const std::string& flag, std::array<int, 7> TrainConfig::*field,
                     const std::string& help) {
  const TrainConfig quick = TrainConfig::preset_values("quick");
  std::string def;
  for (int v : quick.*field) def += (def.empty() ? "" : ",") + std::to_string(v);
  auto value = std::make_shared<std::vector<int>>();
  CLI::Option* option = cmd->add_option(flag, *value, help + " (quick preset: " + def + ")")
                            ->delimiter(',')
                            ->expected(7)
                            ->check(CLI::PositiveNumber);
  args.fields.emplace_back(option, [value, field](TrainConfig& c) { std::copy(value->begin(), value->end(), (c.*field).begin()); });
}

}  // namespace

void add_train_options(CLI::App* cmd, TrainArgs& a) {
  cmd->add_option("--preset", a.preset,
                  "smoke: seconds, for tests; quick: reference + AgileNN on CIFAR-10 in <= 25 min on 2 CPU cores; "
                  "paper: 200 epochs, width 1.0, the paper's recipe (meant for a GPU)")
      ->check(CLI::IsMember({"smoke", "quick", "paper"}))
      ->capture_default_str();
  bind_option(cmd, a, "--dataset", &TrainConfig::dataset, "Data set: cifar10|cifar100|tinyimagenet|svhn|imagefolder|idx");
  bind_option(cmd, a, "--data", &TrainConfig::data_dir, "Data folder (default: $AGILENN_DATA, ./data, the shipped archives)");
  bind_option(cmd, a, "--out", &TrainConfig::out, "Run folder (required)");
  bind_option(cmd, a, "--stage", &TrainConfig::stage,
       "all (reference, Algorithm 1, AgileNN) | reference | agilenn | plain (baseline with the same wall-time budget) | "
       "local-refit (refit the Local NN of a finished AgileNN stage)");
  bind_option(cmd, a, "--seed", &TrainConfig::seed, "Seed of data order, augmentation and initialisation");
  bind_option(cmd, a, "--device", &TrainConfig::device, "cpu | cuda");
  bind_option(cmd, a, "--threads", &TrainConfig::threads, "Compute threads (0 = $OMP_NUM_THREADS or all cores)");
  cmd->add_flag("--resume", a.resume, "Continue from the last epoch checkpoints in --out");
  bind_option(cmd, a, "--batch", &TrainConfig::batch, "Batch size");
  bind_option(cmd, a, "--val-count", &TrainConfig::val_count, "Validation images held out of train (-1: 5000 CIFAR-10, else 10%)");
  bind_option(cmd, a, "--train-limit", &TrainConfig::train_limit, "Use only this many training images (0 = all)");
  bind_option(cmd, a, "--test-limit", &TrainConfig::test_limit, "Evaluate on only this many test images (0 = all)");
  bind_option(cmd, a, "--flip", &TrainConfig::flip, "Horizontal flips: 1, 0, or -1 = yes except digits");
  bind_option(cmd, a, "--augment-pad", &TrainConfig::augment_pad, "Pad-and-crop shift in pixels (0 = no shift)");
  bind_option(cmd, a, "--augment-pad-mode", &TrainConfig::augment_pad_mode,
              "The border a shift brings in: zero (black) | reflect (mirrored image)");
  bind_option(cmd, a, "--k", &TrainConfig::k, "Channels kept on the device");
  bind_option(cmd, a, "--extractor-mid", &TrainConfig::extractor_mid, "First separable conv's channels");
  bind_option(cmd, a, "--extractor-out", &TrainConfig::extractor_out, "Feature map channels");
  bind_option(cmd, a, "--extractor-stride", &TrainConfig::extractor_stride, "First conv's stride (3: the paper's 96x96 geometry)");
  bind_option(cmd, a, "--remote-width", &TrainConfig::remote_width, "Remote NN (MobileNetV2) width multiplier");
  bind_stage_list(cmd, a, "--remote-blocks", &TrainConfig::remote_blocks,
                  "Remote NN blocks per MobileNetV2 stage, 7 values (the paper: 1,2,3,4,3,3,1)");
  bind_stage_list(cmd, a, "--remote-strides", &TrainConfig::remote_strides,
                  "Remote NN stride of each MobileNetV2 stage, 7 values (the paper's CIFAR form: 1,1,2,2,1,2,1)");
  bind_option(cmd, a, "--reference-width", &TrainConfig::reference_width, "Reference NN base width");
  bind_option(cmd, a, "--reference-stride", &TrainConfig::reference_stride, "Reference NN first conv stride (1 or 2)");
  bind_option(cmd, a, "--levels", &TrainConfig::levels, "Feature quantizer levels");
  bind_option(cmd, a, "--quant-softness", &TrainConfig::quant_softness, "Soft quantizer sigma");
  bind_option(cmd, a, "--alpha-temperature", &TrainConfig::alpha_temperature, "T in alpha = sigmoid(w / T)");
  bind_option(cmd, a, "--local-logit-bn", &TrainConfig::local_logit_bn, "Batch norm on the Local NN's logits (the authors' code)");
  bind_option(cmd, a, "--xai", &TrainConfig::xai, "ig (Integrated Gradients) | saliency");
  bind_option(cmd, a, "--ig-steps", &TrainConfig::ig_steps, "IG points m (2 = the authors' two end points)");
  bind_option(cmd, a, "--xai-samples", &TrainConfig::xai_samples, "Images of each batch in the XAI losses (0 = all)");
  bind_option(cmd, a, "--xai-every", &TrainConfig::xai_every,
              "XAI losses and the reference's adaptation on one step in N, weighted x N (1 = every step, the paper)");
  bind_option(cmd, a, "--rho", &TrainConfig::rho, "Required skewness");
  bind_option(cmd, a, "--lambda", &TrainConfig::lambda, "Weight of the prediction loss");
  bind_option(cmd, a, "--disorder", &TrainConfig::disorder, "channel (Eq. 1) | element (the authors' per-element variant)");
  bind_option(cmd, a, "--disorder-margin", &TrainConfig::disorder_margin,
              "Importance lead the weakest local channel must keep over the strongest remote one (0 = the paper)");
  bind_option(cmd, a, "--xai-remote", &TrainConfig::xai_remote,
              "full: the XAI losses' gradient reaches the remote channels through the attribution's factor f (the paper) | "
              "detach: only through the reference's gradient, so the losses cannot switch remote channels off | "
              "detach-skewness: detach in the skewness loss only; the disorder loss can dim the strongest remote channel");
  bind_option(cmd, a, "--rate-weight", &TrainConfig::rate_weight, "Weight of the estimated bits of the remote symbols (0 = paper)");
  bind_option(cmd, a, "--local-weight", &TrainConfig::local_weight, "Weight of an extra CE on the Local NN alone (0 = paper)");
  bind_option(cmd, a, "--local-refit", &TrainConfig::local_refit,
              "After the AgileNN stage, refit the Local NN's dense layer on the training split's frozen features (convex); "
              "kept when validation accuracy improves (0 = paper)");
  bind_option(cmd, a, "--reference-mode", &TrainConfig::reference_mode,
       "adapt: the reference keeps learning the current features (detached) | frozen: the authors' recipe");
  bind_option(cmd, a, "--channel-score", &TrainConfig::channel_score, "topk: Algorithm 1's frequency | mean: mean importance");
  bind_option(cmd, a, "--selection-samples", &TrainConfig::selection_samples, "Training images Algorithm 1 scores (0 = all)");
  bind_option(cmd, a, "--metric-samples", &TrainConfig::metric_samples, "Validation images for skewness/disorder (0 = all)");
  bind_option(cmd, a, "--lr", &TrainConfig::lr, "AgileNN stage learning rate (cosine decay); its prediction loss has weight lambda");
  bind_option(cmd, a, "--reference-lr", &TrainConfig::reference_lr, "Reference stage learning rate");
  bind_option(cmd, a, "--plain-lr", &TrainConfig::plain_lr, "Plain stage learning rate");
  bind_option(cmd, a, "--reference-adapt-lr", &TrainConfig::reference_adapt_lr,
              "Constant learning rate of the reference body while it adapts to the current features (AgileNN stage)");
  bind_option(cmd, a, "--reference-adapt-samples", &TrainConfig::reference_adapt_samples,
              "Images of each XAI step's batch the reference adapts on (0 = the XAI samples)");
  bind_option(cmd, a, "--reference-bn-momentum", &TrainConfig::reference_bn_momentum,
              "Momentum of the reference body's batch-norm running statistics while it adapts (AgileNN stage)");
  bind_option(cmd, a, "--bn-recal-batches", &TrainConfig::bn_recal_batches,
              "Recompute every batch norm's statistics over this many training batches before each validation (0 = off)");
  bind_option(cmd, a, "--momentum", &TrainConfig::momentum, "SGD momentum");
  bind_option(cmd, a, "--weight-decay", &TrainConfig::weight_decay, "Weight decay");
  bind_option(cmd, a, "--reference-epochs", &TrainConfig::reference_epochs, "Reference stage epochs (a cap when budgeted)");
  bind_option(cmd, a, "--agilenn-epochs", &TrainConfig::agilenn_epochs, "AgileNN stage epochs (a cap when budgeted)");
  bind_option(cmd, a, "--plain-epochs", &TrainConfig::plain_epochs, "Plain stage epochs (a cap when budgeted)");
  bind_option(cmd, a, "--reference-budget-s", &TrainConfig::reference_budget_s, "Reference stage wall time, 0 = by epochs");
  bind_option(cmd, a, "--agilenn-budget-s", &TrainConfig::agilenn_budget_s, "AgileNN stage wall time, 0 = by epochs");
  bind_option(cmd, a, "--plain-budget-s", &TrainConfig::plain_budget_s, "Plain stage wall time, 0 = the AgileNN run's");
}

}  // namespace agilenn::cli
