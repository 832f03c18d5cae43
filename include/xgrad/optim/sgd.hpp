// optim::SGD: gradient descent with momentum, Nesterov and weight decay (torch.optim.SGD).
#pragma once

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief Stochastic gradient descent, with torch.optim.SGD's update (dampening 0):
///   d = g + λ·p                      (weight decay λ)
///   b = d on the first step, else b ← μ·b + d   (momentum μ)
///   d = d + μ·b if nesterov, else d = b          (when μ > 0)
///   p ← p − η·d
class SGD : public Optimizer {
  public:
    SGD(std::vector<Var> params, double learning_rate, double momentum = 0.0, bool nesterov = false,
        double weight_decay = 0.0);
    void step() override;

  private:
    double momentum_;
    bool nesterov_;
    double weight_decay_;
    std::vector<array> velocity_;  // b, one per parameter; empty before the first step
};

}  // namespace xgrad::optim
