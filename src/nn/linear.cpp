// nn::Linear: Glorot (Xavier) and He initialisation, uniform or normal; y = x·W + b.
#include "xgrad/nn/linear.hpp"

#include <cmath>

#include "xgrad/core/random.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::nn {

Linear::Linear(std::size_t in, std::size_t out, std::uint64_t seed, Init init) {
    if (in == 0 || out == 0) {
        throw std::invalid_argument("Linear: needs in > 0 and out > 0, got " + std::to_string(in) +
                                    " and " + std::to_string(out));
    }
    Random random(seed);
    const auto fan_in = static_cast<double>(in);
    const auto fan_out = static_cast<double>(out);
    array w = array::from_shape({in, out});
    for (double& v : w) {
        switch (init) {
            case Init::xavier_uniform: {
                const double a = std::sqrt(6.0 / (fan_in + fan_out));
                v = random.uniform(-a, a);
                break;
            }
            case Init::xavier_normal:
                v = random.normal(0.0, std::sqrt(2.0 / (fan_in + fan_out)));
                break;
            case Init::he_uniform: {
                const double a = std::sqrt(6.0 / fan_in);
                v = random.uniform(-a, a);
                break;
            }
            case Init::he_normal:
                v = random.normal(0.0, std::sqrt(2.0 / fan_in));
                break;
        }
    }
    weight_ = parameter(std::move(w));
    bias_ = parameter(xt::zeros<double>({out}));
}

Var Linear::forward(const Var& x) {
    if (x.dimension() != 2 || x.shape()[1] != weight_.shape()[0]) {
        throw shape_error("Linear: expects a batch of shape (rows, " +
                          std::to_string(weight_.shape()[0]) + "), got " + format_shape(x.shape()));
    }
    return matmul(x, weight_) + bias_;
}

}  // namespace xgrad::nn
