// optim::Adam: Adam with bias correction and L2 weight decay (torch.optim.Adam).
#pragma once

#include <cstddef>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief Adam with bias correction, in torch.optim.Adam's arithmetic order (step t from 1):
///   g = g + λ·p                                  (weight decay λ)
///   m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g·g
///   p ← p − (η / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)
class Adam : public Optimizer {
  public:
    Adam(std::vector<Var> params, double learning_rate = 1e-3, double beta1 = 0.9,
         double beta2 = 0.999, double epsilon = 1e-8, double weight_decay = 0.0);
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
