// The learned feature quantizer's per-element arithmetic on the CPU (models.cpp's FusedQuantize
// calls it on ranges of elements from at::parallel_for). Plain C++ with no LibTorch, so it compiles
// in a second and the compiler vectorises it: the quantizer's backward pass costs 8 exponentials
// per remote feature (20 M per batch of 128 at 32x32), which took ~0.19 s per step with scalar
// std::exp, a third of a plain training step.
//
// Per element x, with ascending levels l_j and softness s:
//   p_j  = softmax_j(-s (x - l_j)^2),  soft = sum_j p_j l_j
//   d soft / d x   = sum_j p_j (l_j - soft) * (-2 s (x - l_j))
//   d soft / d l_j = p_j + p_j (l_j - soft) * 2 s (x - l_j)
// The forward output is the nearest level (hard); the gradient is the soft one (straight-through).
// The optional rate term (soft_rate) is the expected cost e = sum_j p_j q_j of the same assignment
// under per-level costs q_j (bits), with its value and all its gradients from the same pass.
#pragma once

#include <cstdint>

namespace agilenn::train {

// out[i] = the level nearest to x[i] (the lower one on a tie).
template <typename T>
void nearest_levels(const T* x, int64_t count, const T* levels, int64_t n_levels, T* out);

// grad_x[i] = grad[i] * d soft / d x at x[i]; adds sum_i grad[i] * d soft / d l_j to
// grad_levels[j]. float uses a vectorisable exp accurate to 1e-7 relative (below 2^-126 it
// returns about 2^-126 instead of less: next to the largest term, 1, both vanish); double uses
// std::exp.
template <typename T>
void soft_quantize_backward(const T* x, const T* grad, int64_t count, const T* levels, int64_t n_levels, T softness,
                            T* grad_x, T* grad_levels);

// The rate term over one channel's elements, with costs q_j = cost[j]:
//   e = sum_j p_j q_j
//   d e / d x   = sum_j p_j (q_j - e) * (-2 s (x - l_j))
//   d e / d l_j = p_j (q_j - e) * 2 s (x - l_j)
//   d e / d q_j = p_j
// Returns the sum of e over the elements; writes grad_x[i] = d e / d x at x[i]; adds the sums over
// the elements of d e / d l_j to grad_levels[j] and of d e / d q_j to grad_cost[j].
template <typename T>
T soft_rate(const T* x, int64_t count, const T* levels, int64_t n_levels, T softness, const T* cost, T* grad_x,
            T* grad_levels, T* grad_cost);

}  // namespace agilenn::train
