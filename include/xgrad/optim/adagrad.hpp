// optim::AdaGrad (torch.optim.Adagrad without learning-rate decay).
#pragma once

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief AdaGrad (Duchi, Hazan & Singer 2011) in torch.optim.Adagrad's arithmetic with
/// lr_decay 0 and initial_accumulator_value 0
/// (https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html), elementwise, for
/// gradient g, learning rate η and weight decay λ:
///   g = g + λ·p
///   s ← s + g·g
///   p ← p − η·g / (√s + ε)
class AdaGrad : public Optimizer {
  public:
    /// @param params parameter() leaves of any shapes; s starts at zero, of their shapes.
    /// @param learning_rate η > 0.
    /// @param epsilon ε, added to the denominator.
    /// @param weight_decay λ, an L2 penalty (λ/2)‖p‖² added through the gradient.
    /// @throw std::invalid_argument for η ≤ 0.
    /// @throw graph_error if a Var is not a parameter() leaf.
    AdaGrad(std::vector<Var> params, double learning_rate = 1e-2, double epsilon = 1e-10,
            double weight_decay = 0.0);
    /// @brief One update, as in the class comment.
    /// @throw graph_error if a parameter's shape changed since the optimizer was made.
    void step() override;

  private:
    double epsilon_;
    double weight_decay_;
    std::vector<array> sum_of_squares_;
};

}  // namespace xgrad::optim
