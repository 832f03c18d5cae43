// optim::RMSProp, uncentred, with momentum (torch.optim.RMSprop).
#pragma once

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief RMSProp (Hinton, Neural Networks for Machine Learning, lecture 6e) in
/// torch.optim.RMSprop's arithmetic, not centred
/// (https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html), elementwise, for
/// gradient g, learning rate η, smoothing α, momentum μ and weight decay λ:
///   g = g + λ·p
///   v ← α·v + (1 − α)·g·g
///   b ← μ·b + g / (√v + ε),  p ← p − η·b   when μ > 0
///   p ← p − η·g / (√v + ε)                 otherwise
class RMSProp : public Optimizer {
  public:
    /// @param params parameter() leaves of any shapes; v and b start at zero, of their shapes.
    /// @param learning_rate η > 0.
    /// @param alpha α, the decay of the mean square.
    /// @param epsilon ε, added to the denominator.
    /// @param momentum μ (0: none).
    /// @param weight_decay λ, an L2 penalty (λ/2)‖p‖² added through the gradient.
    /// @throw std::invalid_argument for η ≤ 0.
    /// @throw graph_error if a Var is not a parameter() leaf.
    RMSProp(std::vector<Var> params, double learning_rate = 1e-2, double alpha = 0.99,
            double epsilon = 1e-8, double momentum = 0.0, double weight_decay = 0.0);
    /// @brief One update, as in the class comment.
    /// @throw graph_error if a parameter's shape changed since the optimizer was made.
    void step() override;

  private:
    double alpha_;
    double epsilon_;
    double momentum_;
    double weight_decay_;
    std::vector<array> square_average_;
    std::vector<array> velocity_;
};

}  // namespace xgrad::optim
