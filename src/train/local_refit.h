// The Local NN's dense layer refit after training (--local-refit, beyond the paper).
//
// The Local NN is a linear map of the k local channels' spatial means. Trained jointly, with the
// final prediction's cross-entropy and on augmented images, its dense layer ends 2-5 points of
// accuracy short of the best linear map of the same features (docs/training.md). On the frozen
// extractor that map is a convex problem (multinomial logistic regression on k numbers per
// image), solved here exactly by L-BFGS in seconds. The features, the Remote NN and alpha are
// untouched.
#pragma once

#include <torch/torch.h>

#include "train/models.h"

namespace agilenn::train {

struct LinearHead {
  torch::Tensor weight;  // [classes, k]: logits = pooled . weight^T + bias
  torch::Tensor bias;    // [classes]
};

// Minimises the mean cross-entropy of `labels` [N] (int64 in [0, classes)) given the logits of
// `pooled` [N, k], plus l2 times the squared norm of the weights on standardised features (each
// column scaled to unit standard deviation: the penalty does not depend on the features' units).
// With `remote` [N, classes] defined, it adds the mean cross-entropy of the mixed prediction
// alpha * logits + (1 - alpha) * remote (the final prediction, alpha fixed): the refit then serves
// the Local NN alone and the mix alike. Deterministic; float32 on the CPU.
LinearHead fit_linear_head(const torch::Tensor& pooled, const torch::Tensor& labels, int64_t classes, double l2,
                           const torch::Tensor& remote = {}, double alpha = 0);

// Sets `local`'s parameters so that its eval-mode function of the pooled means is `head`. A batch
// norm on the logits stays as it is (its running statistics and affine map) and is inverted into
// the dense layer; throws std::runtime_error when one of its scales is too close to 0 to invert.
void set_local_head(LocalNNImpl& local, const LinearHead& head);

}  // namespace agilenn::train
