/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include <algorithm>
#include <cmath>

#include "xgrad/optim/adagrad.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/schedules.hpp"
#include "xgrad/optim/sgd.hpp"

#include "backend/worker_pool.hpp"

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

void Optimizer::check_shapes(std::initializer_list<const std::vector<array>*> states) const {
    for (std::size_t k = 0; k < params_.size(); ++k) {
        const shape_type& shape = params_[k].shape();
        auto fail = [&](const std::string& what, const shape_type& other) {
            throw graph_error("optimizer: parameter " + std::to_string(k) + " has shape " +
                              format_shape(shape) + " but its " + what + " has shape " +
                              format_shape(other) +
                              "; make a new optimizer after changing a parameter's shape");
        };
        if (params_[k].grad().shape() != shape) fail("gradient", params_[k].grad().shape());
        for (const std::vector<array>* state : states) {
            if (!state->empty() && (*state)[k].shape() != shape) fail("state", (*state)[k].shape());
        }
    }
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

namespace {
/// @brief One SGD update of n elements, split between threads by ranges of elements.
struct SgdUpdate {
    double* p;
    const double* g;
    double* velocity;  // null without momentum
    std::size_t n, part_size;
    double learning_rate, momentum, weight_decay;
    bool nesterov, first;

    static void run_part(void* context, std::size_t part) {
        const SgdUpdate& u = *static_cast<const SgdUpdate*>(context);
        const std::size_t begin = std::min(u.n, part * u.part_size);
        const std::size_t end = std::min(u.n, begin + u.part_size);
        if (u.velocity == nullptr && u.weight_decay == 0.0) {  // plain SGD: a vectorisable loop
            for (std::size_t i = begin; i < end; ++i) u.p[i] -= u.learning_rate * u.g[i];
            return;
        }
        for (std::size_t i = begin; i < end; ++i) {
            double d = u.g[i];
            if (u.weight_decay != 0.0) d += u.weight_decay * u.p[i];
            if (u.velocity != nullptr) {
                u.velocity[i] = u.first ? d : u.momentum * u.velocity[i] + d;
                d = u.nesterov ? d + u.momentum * u.velocity[i] : u.velocity[i];
            }
            u.p[i] -= u.learning_rate * d;
        }
    }
};
constexpr std::size_t min_update_per_part = std::size_t{1} << 16;
}  // namespace

void SGD::step() {
    check_shapes({&velocity_});
    const bool first = velocity_.empty();
    if (first && momentum_ != 0.0) velocity_ = zeros_like(params_);
    for (std::size_t k = 0; k < params_.size(); ++k) {
        const std::size_t n = params_[k].value().size();
        const std::size_t parts = detail::parallel_parts(n, min_update_per_part);
        SgdUpdate update{params_[k].mutable_value().data(),
                         params_[k].grad().data(),
                         momentum_ != 0.0 ? velocity_[k].data() : nullptr,
                         n,
                         (n + parts - 1) / parts,
                         learning_rate_,
                         momentum_,
                         weight_decay_,
                         nesterov_,
                         first};
        detail::run_in_parallel(parts, &SgdUpdate::run_part, &update);
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

AdaGrad::AdaGrad(std::vector<Var> params, double learning_rate, double epsilon, double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      epsilon_(epsilon),
      weight_decay_(weight_decay),
      sum_of_squares_(zeros_like(params_)) {}

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
