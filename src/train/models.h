// The networks of AgileNN (REFERENCE-FACTS.md, "Model"), as LibTorch modules with options structs.
//
//   image -> FeatureExtractor -> 24-channel map f in [0, 6]
//            f[:, :k]  -> LocalNN  -> local logits                      (on the device)
//            f[:, k:]  -> FeatureQuantizer -> RemoteNN -> remote logits (on the server)
//   final logits = alpha * local + (1 - alpha) * remote, alpha = sigmoid(w / T)
// ReferenceNN reads the whole map; it is used only in training, to compute feature importance.
#pragma once

#include <torch/torch.h>

#include <array>
#include <functional>
#include <vector>

namespace agilenn::train {

struct ExtractorOptions {
  int in_channels = 3;
  int mid_channels = 4;    // first separable conv's width (the authors' code: 4)
  int out_channels = 24;   // the feature map's channels
  int stride = 1;          // of the first conv: 1 for native 32x32/64x64, 3 for the paper's 96x96
};

// Two separable 3x3 convolutions (depthwise 3x3 + pointwise 1x1), each followed by batch norm and
// ReLU6, so every feature lies in [0, 6].
class FeatureExtractorImpl : public torch::nn::Module {
 public:
  explicit FeatureExtractorImpl(const ExtractorOptions& options = {});
  torch::Tensor forward(const torch::Tensor& images);
  // Reorders the output channels: new channel i is old channel order[i]. Permutes the last
  // pointwise conv's filters and the last batch norm's parameters and running statistics.
  void permute_output_channels(const std::vector<int64_t>& order);
  const ExtractorOptions& options() const { return options_; }

  torch::nn::Conv2d dw1{nullptr}, pw1{nullptr}, dw2{nullptr}, pw2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};

 private:
  ExtractorOptions options_;
};
TORCH_MODULE(FeatureExtractor);

struct LocalOptions {
  int in_channels = 5;  // k
  int classes = 10;
  bool logit_batch_norm = false;  // the authors' code puts batch norm on the logits
};

// Global average pooling + dense (+ optional batch norm on the logits).
class LocalNNImpl : public torch::nn::Module {
 public:
  explicit LocalNNImpl(const LocalOptions& options = {});
  torch::Tensor forward(const torch::Tensor& features);
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(LocalNN);

struct RemoteOptions {
  int in_channels = 19;  // 24 - k
  int classes = 10;
  double width = 1.0;    // MobileNetV2 width multiplier
  // Blocks per stage of (t, c, n, s) = (1,16,1,1) (6,24,2,1) (6,32,3,2) (6,64,4,2) (6,96,3,1)
  // (6,160,3,2) (6,320,1,1): the facts file's depths; trimmed depths train faster.
  std::array<int, 7> blocks = {1, 2, 3, 4, 3, 3, 1};
  std::array<int, 7> strides = {1, 1, 2, 2, 1, 2, 1};
  int last_channels = 1280;  // scaled by width when width > 1 only, as in MobileNetV2
};

// Adapter separable conv (in -> 16 * width) + MobileNetV2 inverted-residual stages + 1x1 conv
// + pooling + dense.
class RemoteNNImpl : public torch::nn::Module {
 public:
  explicit RemoteNNImpl(const RemoteOptions& options = {});
  torch::Tensor forward(const torch::Tensor& features);
  torch::nn::Sequential body{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(RemoteNN);

struct ReferenceOptions {
  int in_channels = 24;
  int classes = 10;
  int base_width = 16;  // stages of 2w, 4w, 8w channels at 1/s, 1/(2s), 1/(4s) resolution
  int stride = 2;       // s: the first conv's stride (1 keeps the first stage at full resolution)
};

// The evaluator of feature importance: a VGG-style network (two 3x3 conv + BN + ReLU per stage)
// on the 24-channel map, stronger than the Local NN.
class ReferenceNNImpl : public torch::nn::Module {
 public:
  explicit ReferenceNNImpl(const ReferenceOptions& options = {});
  torch::Tensor forward(const torch::Tensor& features);
  // In eval mode, the same function as forward() (up to rounding) with each batch norm folded
  // into the convolution before it. Attributions use it: their second-order graph then has no
  // batch-norm nodes, whose double backward cost about a fifth of what XAI adds to a training step.
  // Throws in train mode.
  torch::Tensor forward_folded(const torch::Tensor& features);
  // Reorders the input channels the same way as FeatureExtractor::permute_output_channels, so
  // the network computes the same function of the permuted features.
  void permute_input_channels(const std::vector<int64_t>& order);
  torch::nn::Sequential body{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ReferenceNN);

struct QuantizerOptions {
  int levels = 8;
  double softness = 10.0;  // sigma of the soft assignment softmax(-sigma * (x - level)^2)
};

// Scalar soft-to-hard quantization with L learned levels, each kept in (0, 6) as 6*sigmoid(c).
// forward() returns the nearest level (hard) with the gradient of the soft assignment
// (straight-through).
class FeatureQuantizerImpl : public torch::nn::Module {
 public:
  explicit FeatureQuantizerImpl(const QuantizerOptions& options = {});
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor levels() const;                       // [L], ascending
  torch::Tensor symbols(const torch::Tensor& x) const;  // int64 index of the nearest level
  // Soft assignment probabilities [..., L].
  torch::Tensor soft_assignment(const torch::Tensor& x) const;
  // The rate term: the expected bits per image of x [B, C, H, W] under per-channel symbol costs
  // cost [C, L] (bits), sum over the elements of sum_l soft_assignment_l * cost[c, l], over B.
  // Differentiable in x, the levels and cost; one fused pass on the CPU.
  torch::Tensor rate_bits(const torch::Tensor& x, const torch::Tensor& cost) const;
  torch::Tensor logits_c;
  double softness;
};
TORCH_MODULE(FeatureQuantizer);

// alpha = sigmoid(w / T), trained with everything else.
class AlphaImpl : public torch::nn::Module {
 public:
  explicit AlphaImpl(double temperature = 5.0);
  torch::Tensor forward() const;
  torch::Tensor w;
  double temperature;
};
TORCH_MODULE(Alpha);

struct AgileOptions {
  ExtractorOptions extractor;
  int k = 5;  // channels kept on the device
  int classes = 10;
  bool local_logit_batch_norm = false;
  RemoteOptions remote;
  QuantizerOptions quantizer;
  double alpha_temperature = 5.0;
};

struct AgileOutput {
  torch::Tensor features;  // [B, 24, H, W]
  torch::Tensor local;     // logits
  torch::Tensor remote;
  torch::Tensor final;
  torch::Tensor alpha;     // scalar
};

// The whole split model. `alpha_override` in [0, 1] replaces the trained alpha (inference only).
class AgileNetImpl : public torch::nn::Module {
 public:
  explicit AgileNetImpl(const AgileOptions& options = {});
  AgileOutput forward(const torch::Tensor& images, double alpha_override = -1.0);
  AgileOutput forward_features(const torch::Tensor& features, double alpha_override = -1.0);
  const AgileOptions& options() const { return options_; }

  FeatureExtractor extractor{nullptr};
  LocalNN local{nullptr};
  FeatureQuantizer quantizer{nullptr};
  RemoteNN remote{nullptr};
  Alpha alpha{nullptr};

 private:
  AgileOptions options_;
};
TORCH_MODULE(AgileNet);

// The `plain` baseline: the same extractor and Remote NN on all channels, no split, no XAI.
class PlainNetImpl : public torch::nn::Module {
 public:
  PlainNetImpl(const ExtractorOptions& extractor, const RemoteOptions& remote);
  torch::Tensor forward(const torch::Tensor& images);
  FeatureExtractor extractor{nullptr};
  RemoteNN remote{nullptr};
};
TORCH_MODULE(PlainNet);

// The reference stage's network: an extractor-shaped stem and the reference body, trained end
// to end; the stem initialises AgileNN's extractor.
class ReferenceNetImpl : public torch::nn::Module {
 public:
  ReferenceNetImpl(const ExtractorOptions& stem, const ReferenceOptions& body);
  torch::Tensor forward(const torch::Tensor& images);
  FeatureExtractor stem{nullptr};
  ReferenceNN body{nullptr};
};
TORCH_MODULE(ReferenceNet);

// Sets the running-average momentum of every batch norm in `module` and its children.
void set_batch_norm_momentum(torch::nn::Module& module, double momentum);

// "Precise" batch-norm statistics: every batch norm of `modules` is reset and `feed` runs them
// on some batches in train mode without gradients, so that each layer's running mean and
// variance become plain averages over those batches (then its momentum is restored and the
// modules are left in eval mode). Running averages lag behind weights that move fast.
void recalibrate_batch_norm(const std::vector<torch::nn::Module*>& modules, const std::function<void()>& feed);

}  // namespace agilenn::train
