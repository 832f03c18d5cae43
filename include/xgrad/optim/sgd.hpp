// optim::SGD: gradient descent with momentum, Nesterov and weight decay (torch.optim.SGD).
#pragma once

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief Stochastic gradient descent with momentum, Nesterov momentum and weight decay:
/// torch.optim.SGD's update with dampening 0
/// (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html), elementwise, for
/// gradient g, learning rate η, momentum μ and weight decay λ:
///   d = g + λ·p
///   b = d on the first step, else b ← μ·b + d     (when μ ≠ 0)
///   d = d + μ·b if nesterov, else d = b           (when μ ≠ 0)
///   p ← p − η·d
/// With μ = λ = 0 this is plain gradient descent p ← p − η·g, which solvers::gradient_descent
/// runs. A parameter of 2¹⁷ elements or more is split between the BLAS threads
/// (set_blas_threads), at least 2¹⁶ elements a part; every element gets the same arithmetic on
/// any thread count.
class SGD : public Optimizer {
  public:
    /// @param params parameter() leaves of any shapes.
    /// @param learning_rate η > 0.
    /// @param momentum μ (0: none; torch's momentum).
    /// @param nesterov Nesterov momentum (Sutskever et al. 2013, in torch's form); needs μ > 0.
    /// @param weight_decay λ, an L2 penalty (λ/2)‖p‖² added through the gradient.
    /// @throw std::invalid_argument for η ≤ 0, or nesterov with μ ≤ 0.
    /// @throw graph_error if a Var is not a parameter() leaf.
    SGD(std::vector<Var> params, double learning_rate, double momentum = 0.0, bool nesterov = false,
        double weight_decay = 0.0);
    /// @brief One update, as in the class comment; the velocity b is made on the first step.
    /// @throw graph_error if a parameter's shape changed since the optimizer was made.
    void step() override;

  private:
    double momentum_;
    bool nesterov_;
    double weight_decay_;
    std::vector<array> velocity_;  // b, one per parameter; empty before the first step
};

}  // namespace xgrad::optim
