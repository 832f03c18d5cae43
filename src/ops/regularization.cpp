// Penalties: L2, L1 and elastic net on the weights, scaled by the sample count.
#include "xgrad/ops/regularization.hpp"

#include <stdexcept>
#include <string>

#include "xgrad/ops.hpp"

namespace xgrad {

namespace {

double per_sample(double lambda, std::size_t m, const char* who) {
    if (m == 0) throw std::invalid_argument(std::string(who) + ": m must be > 0");
    if (!(lambda >= 0.0)) {
        throw std::invalid_argument(std::string(who) + ": lambda must be >= 0, got " +
                                    std::to_string(lambda));
    }
    return lambda / static_cast<double>(m);
}

}  // namespace

Var l2_penalty(const Var& weights, double lambda, std::size_t m) {
    return (0.5 * per_sample(lambda, m, "l2_penalty")) * sum(weights * weights);
}

Var l1_penalty(const Var& weights, double lambda, std::size_t m) {
    return per_sample(lambda, m, "l1_penalty") * sum(abs(weights));
}

Var elastic_net_penalty(const Var& weights, double lambda, double l1_ratio, std::size_t m) {
    if (!(l1_ratio >= 0.0 && l1_ratio <= 1.0)) {
        throw std::invalid_argument("elastic_net_penalty: l1_ratio must be in [0, 1], got " +
                                    std::to_string(l1_ratio));
    }
    return l1_ratio * l1_penalty(weights, lambda, m) +
           (1.0 - l1_ratio) * l2_penalty(weights, lambda, m);
}

std::pair<double, double> balanced_class_weights(const array& labels) {
    double ones = 0.0;
    for (double v : labels) {
        if (v != 0.0 && v != 1.0) {
            throw std::invalid_argument("balanced_class_weights: labels must be 0 or 1, found " +
                                        std::to_string(v));
        }
        ones += v;
    }
    const auto m = static_cast<double>(labels.size());
    const double zeros = m - ones;
    if (ones == 0.0 || zeros == 0.0) {
        throw std::invalid_argument("balanced_class_weights: both classes must occur");
    }
    return {m / (2.0 * zeros), m / (2.0 * ones)};
}

}  // namespace xgrad
