/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include <cmath>

#include "xgrad/optim/adagrad.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/schedules.hpp"
#include "xgrad/optim/sgd.hpp"

namespace xgrad::optim {

namespace {

std::vector<array> zeros_like(const std::vector<Var>& params) {
    std::vector<array> out;
    for (const Var& p : params) out.push_back(xt::zeros<double>(p.shape()));
    return out;
}

}  // namespace

Optimizer::Optimizer(std::vector<Var> params, double learning_rate)
    : params_(std::move(params)), learning_rate_(learning_rate) {
    for (const Var& p : params_) {
        if (!p.is_leaf() || !p.requires_grad()) {
            throw graph_error(
                std::string("optimizer: parameters must be parameter() leaves, got '") +
                p.op_name() + "'");
        }
    }
    if (!(learning_rate > 0.0)) {
        throw std::invalid_argument("optimizer: learning rate must be > 0, got " +
                                    std::to_string(learning_rate));
    }
}

void Optimizer::zero_grad() const {
    xgrad::zero_grad(params_);
}

SGD::SGD(std::vector<Var> params, double learning_rate, double momentum, bool nesterov,
         double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      momentum_(momentum),
      nesterov_(nesterov),
      weight_decay_(weight_decay) {
    if (nesterov && momentum <= 0.0) {
        throw std::invalid_argument("SGD: Nesterov momentum needs momentum > 0");
    }
}

void SGD::step() {
    const bool first = velocity_.empty();
    if (first && momentum_ != 0.0) velocity_ = zeros_like(params_);
    for (std::size_t k = 0; k < params_.size(); ++k) {
        double* p = params_[k].mutable_value().data();
        const double* g = params_[k].grad().data();
        const std::size_t n = params_[k].value().size();
        if (momentum_ == 0.0 && weight_decay_ == 0.0) {  // plain SGD: one vectorisable loop
            for (std::size_t i = 0; i < n; ++i) p[i] -= learning_rate_ * g[i];
            continue;
        }
        double* velocity = momentum_ != 0.0 ? velocity_[k].data() : nullptr;
        for (std::size_t i = 0; i < n; ++i) {
            double d = g[i];
            if (weight_decay_ != 0.0) d += weight_decay_ * p[i];
            if (velocity != nullptr) {
                velocity[i] = first ? d : momentum_ * velocity[i] + d;
                d = nesterov_ ? d + momentum_ * velocity[i] : velocity[i];
            }
            p[i] -= learning_rate_ * d;
        }
    }
}

Adam::Adam(std::vector<Var> params, double learning_rate, double beta1, double beta2,
           double epsilon, double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      beta1_(beta1),
      beta2_(beta2),
      epsilon_(epsilon),
      weight_decay_(weight_decay),
      first_moment_(zeros_like(params_)),
      second_moment_(zeros_like(params_)) {}

void Adam::step() {
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

AdaGrad::AdaGrad(std::vector<Var> params, double learning_rate, double epsilon, double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      epsilon_(epsilon),
      weight_decay_(weight_decay),
      sum_of_squares_(zeros_like(params_)) {}

void AdaGrad::step() {
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

RMSProp::RMSProp(std::vector<Var> params, double learning_rate, double alpha, double epsilon,
                 double momentum, double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      alpha_(alpha),
      epsilon_(epsilon),
      momentum_(momentum),
      weight_decay_(weight_decay),
      square_average_(zeros_like(params_)),
      velocity_(zeros_like(params_)) {}

void RMSProp::step() {
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

Schedule constant_rate(double initial) {
    return [initial](std::size_t) { return initial; };
}

Schedule time_based_decay(double initial, double k) {
    return [initial, k](std::size_t t) { return initial / (1.0 + k * static_cast<double>(t)); };
}

Schedule exponential_decay(double initial, double k) {
    return [initial, k](std::size_t t) { return initial * std::exp(-k * static_cast<double>(t)); };
}

Schedule step_decay(double initial, double drop, std::size_t every) {
    if (every == 0) throw std::invalid_argument("step_decay: every must be > 0");
    return [initial, drop, every](std::size_t t) {
        return initial * std::pow(drop, static_cast<double>(t / every));
    };
}

Schedule cosine_warm_restarts(double initial, std::size_t first_cycle, std::size_t cycle_growth,
                              double minimum) {
    if (first_cycle == 0 || cycle_growth == 0) {
        throw std::invalid_argument("cosine_warm_restarts: cycle lengths must be > 0");
    }
    return [=](std::size_t t) {
        std::size_t cycle = first_cycle;
        while (t >= cycle) {  // skip whole cycles, each cycle_growth times longer
            t -= cycle;
            cycle *= cycle_growth;
        }
        const double progress = static_cast<double>(t) / static_cast<double>(cycle);
        return minimum + 0.5 * (initial - minimum) * (1.0 + std::cos(M_PI * progress));
    };
}

}  // namespace xgrad::optim
