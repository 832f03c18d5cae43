// optim::RMSProp, uncentred, with momentum (torch.optim.RMSprop).
#pragma once

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief RMSProp, in torch.optim.RMSprop's arithmetic (not centred):
///   g = g + λ·p                      (weight decay λ)
///   v ← α·v + (1 − α)·g·g
///   b ← μ·b + g / (√v + ε),  p ← p − η·b   when momentum μ > 0
///   p ← p − η·g / (√v + ε)                 otherwise
class RMSProp : public Optimizer {
  public:
    RMSProp(std::vector<Var> params, double learning_rate = 1e-2, double alpha = 0.99,
            double epsilon = 1e-8, double momentum = 0.0, double weight_decay = 0.0);
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
