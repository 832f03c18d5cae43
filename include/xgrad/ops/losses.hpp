// Losses: binary cross-entropy (on probabilities and on logits), cross-entropy, MSE.
#pragma once

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief How a loss folds its per-sample terms: into their mean or sum, or not at all (none:
/// one loss per sample, e.g. to weight them).
enum class reduction { mean, sum, none };

/// @brief Binary cross-entropy on probabilities, -[y log p + (1 - y) log(1 - p)], built from
/// log, mul, sub and mean nodes. When p is sigmoid(z) it is bce_with_logits(z, y): the same
/// value and gradient, computed stably in one node.
Var binary_cross_entropy(const Var& probabilities, const Var& targets,
                         reduction how = reduction::mean);

/// @brief Binary cross-entropy on logits z, fused: max(z,0) - z y + log(1 + e^-|z|). Finite for
/// any z; its gradient is exactly (sigmoid(z) - y) / m for the mean.
Var bce_with_logits(const Var& logits, const Var& targets, reduction how = reduction::mean);

/// @brief Softmax cross-entropy of logits (m, K) against class indices (m,) in [0, K):
/// −log softmax(logits)[i, yᵢ], averaged or summed; built on log_softmax, stable for any logits.
Var cross_entropy(const Var& logits, const Var& class_indices, reduction how = reduction::mean);

/// @brief bce_with_logits(matmul(X, w) + b, y), fused: one pass over X (by blocks of rows that
/// stay in cache) makes the loss and the gradients for w and b, where the separate ops read X
/// twice. X (m, n), w (n,), b one number, y (m,); mean or sum. A Tape replays the separate ops
/// this way by itself when no one holds their intermediate results (see Tape).
Var linear_bce_with_logits(const Var& X, const Var& w, const Var& b, const Var& y,
                           reduction how = reduction::mean);

/// @brief Squared error (prediction - target)^2, averaged or summed.
Var mse(const Var& predictions, const Var& targets, reduction how = reduction::mean);

}  // namespace xgrad
