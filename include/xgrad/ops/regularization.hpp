// Penalties added to a loss: L2, L1, elastic net.
#pragma once

#include <cstddef>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief (λ / 2m)·‖w‖², the L2 (ridge) term added to a mean loss over m samples. Pass the
/// weights only: the bias is not penalised.
Var l2_penalty(const Var& weights, double lambda, std::size_t m);

/// @brief (λ / m)·‖w‖₁, the L1 (lasso) term.
Var l1_penalty(const Var& weights, double lambda, std::size_t m);

/// @brief Elastic net: ρ·(λ/m)·‖w‖₁ + (1 − ρ)·(λ/2m)·‖w‖², ρ = l1_ratio in [0, 1].
Var elastic_net_penalty(const Var& weights, double lambda, double l1_ratio, std::size_t m);

/// @brief Per-class weights for 0/1 labels that make both classes count alike:
/// w_c = m / (2·count_c), as scikit-learn's class_weight="balanced". Returns {w₀, w₁}.
std::pair<double, double> balanced_class_weights(const array& labels);

}  // namespace xgrad
