// Adam (Kingma & Ba) with bias correction, the update torch.optim.Adam makes.
#include "xgrad/optim/adam.hpp"

#include <cmath>

namespace xgrad::optim {

Adam::Adam(std::vector<Var> params, double learning_rate, double beta1, double beta2,
           double epsilon, double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      beta1_(beta1),
      beta2_(beta2),
      epsilon_(epsilon),
      weight_decay_(weight_decay),
      first_moment_(zero_state()),
      second_moment_(zero_state()) {}

void Adam::step() {
    check_shapes({&first_moment_, &second_moment_});
    ++steps_;
    const auto t = static_cast<double>(steps_);
    const double step_size = learning_rate_ / (1.0 - std::pow(beta1_, t));
    const double correction2_sqrt = std::sqrt(1.0 - std::pow(beta2_, t));
    for (std::size_t k = 0; k < params_.size(); ++k) {
        array& p = params_[k].mutable_value();
        const array& grad = params_[k].grad();
        double* m = first_moment_[k].data();
        double* v = second_moment_[k].data();
        for (std::size_t i = 0; i < p.size(); ++i) {
            double g = grad.data()[i];
            if (weight_decay_ != 0.0) g += weight_decay_ * p.data()[i];
            m[i] = m[i] * beta1_ + (1.0 - beta1_) * g;
            v[i] = v[i] * beta2_ + (1.0 - beta2_) * g * g;
            const double denominator = std::sqrt(v[i]) / correction2_sqrt + epsilon_;
            p.data()[i] += -step_size * m[i] / denominator;
        }
    }
}

}  // namespace xgrad::optim
