// optim::Adam: Adam with bias correction and L2 weight decay (torch.optim.Adam).
#pragma once

#include <cstddef>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief Adam (Kingma & Ba 2015, arXiv:1412.6980) with bias correction, in torch.optim.Adam's
/// arithmetic order (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html, amsgrad
/// off), elementwise, for gradient g, step t counted from 1, learning rate η and weight decay λ:
///   g = g + λ·p                                  (L2 weight decay, not AdamW's)
///   m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g·g
///   p ← p − (η / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)
/// which is the paper's p ← p − η·m̂ / (√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
/// computed in torch's order (torch's first 10 steps are matched to 1e-12,
/// tests/test_optim.cpp). solvers::adam runs this update with the default β₁, β₂ and ε.
class Adam : public Optimizer {
  public:
    /// @param params parameter() leaves of any shapes; m and v start at zero, of their shapes.
    /// @param learning_rate η > 0.
    /// @param beta1 β₁, the first moment's decay; not checked (torch asks 0 ≤ β₁ < 1).
    /// @param beta2 β₂, the second moment's decay; not checked (torch asks 0 ≤ β₂ < 1).
    /// @param epsilon ε, added to the denominator.
    /// @param weight_decay λ, an L2 penalty (λ/2)‖p‖² added through the gradient.
    /// @throw std::invalid_argument for η ≤ 0.
    /// @throw graph_error if a Var is not a parameter() leaf.
    Adam(std::vector<Var> params, double learning_rate = 1e-3, double beta1 = 0.9,
         double beta2 = 0.999, double epsilon = 1e-8, double weight_decay = 0.0);
    /// @brief One update, as in the class comment (t goes up by one).
    /// @throw graph_error if a parameter's shape changed since the optimizer was made.
    void step() override;

  private:
    double beta1_;
    double beta2_;
    double epsilon_;
    double weight_decay_;
    std::size_t steps_ = 0;
    std::vector<array> first_moment_;
    std::vector<array> second_moment_;
};

}  // namespace xgrad::optim
