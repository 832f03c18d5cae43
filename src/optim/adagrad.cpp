// AdaGrad (Duchi, Hazan & Singer), the update torch.optim.Adagrad makes without rate decay.
#include "xgrad/optim/adagrad.hpp"

#include <cmath>

namespace xgrad::optim {

AdaGrad::AdaGrad(std::vector<Var> params, double learning_rate, double epsilon, double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      epsilon_(epsilon),
      weight_decay_(weight_decay),
      sum_of_squares_(zero_state()) {}

void AdaGrad::step() {
    check_shapes({&sum_of_squares_});
    for (std::size_t k = 0; k < params_.size(); ++k) {
        array& p = params_[k].mutable_value();
        const array& grad = params_[k].grad();
        double* s = sum_of_squares_[k].data();
        for (std::size_t i = 0; i < p.size(); ++i) {
            double g = grad.data()[i];
            if (weight_decay_ != 0.0) g += weight_decay_ * p.data()[i];
            s[i] += g * g;
            p.data()[i] += -learning_rate_ * g / (std::sqrt(s[i]) + epsilon_);
        }
    }
}

}  // namespace xgrad::optim
