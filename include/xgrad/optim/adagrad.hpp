// optim::AdaGrad (torch.optim.Adagrad without learning-rate decay).
#pragma once

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief AdaGrad, in torch.optim.Adagrad's arithmetic (no learning-rate decay):
///   g = g + λ·p          (weight decay λ)
///   s ← s + g·g
///   p ← p − η·g / (√s + ε)
class AdaGrad : public Optimizer {
  public:
    AdaGrad(std::vector<Var> params, double learning_rate = 1e-2, double epsilon = 1e-10,
            double weight_decay = 0.0);
    void step() override;

  private:
    double epsilon_;
    double weight_decay_;
    std::vector<array> sum_of_squares_;
};

}  // namespace xgrad::optim
