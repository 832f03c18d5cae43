// RMSProp (Hinton), uncentred, with momentum: the update torch.optim.RMSprop makes.
#include "xgrad/optim/rmsprop.hpp"

#include <cmath>

namespace xgrad::optim {

RMSProp::RMSProp(std::vector<Var> params, double learning_rate, double alpha, double epsilon,
                 double momentum, double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      alpha_(alpha),
      epsilon_(epsilon),
      momentum_(momentum),
      weight_decay_(weight_decay),
      square_average_(zero_state()),
      velocity_(zero_state()) {}

void RMSProp::step() {
    check_shapes({&square_average_, &velocity_});
    for (std::size_t k = 0; k < params_.size(); ++k) {
        array& p = params_[k].mutable_value();
        const array& grad = params_[k].grad();
        double* v = square_average_[k].data();
        double* b = velocity_[k].data();
        for (std::size_t i = 0; i < p.size(); ++i) {
            double g = grad.data()[i];
            if (weight_decay_ != 0.0) g += weight_decay_ * p.data()[i];
            v[i] = v[i] * alpha_ + (1.0 - alpha_) * g * g;
            const double average = std::sqrt(v[i]) + epsilon_;
            if (momentum_ > 0.0) {
                b[i] = b[i] * momentum_ + g / average;
                p.data()[i] += -learning_rate_ * b[i];
            } else {
                p.data()[i] += -learning_rate_ * g / average;
            }
        }
    }
}

}  // namespace xgrad::optim
