// nn::Linear: Glorot (Xavier) and He initialisation (nn::init), uniform or normal; y = x·W + b.
#include "xgrad/nn/linear.hpp"

#include <stdexcept>
#include <string>

#include "xgrad/core/random.hpp"
#include "xgrad/nn/init.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::nn {

Linear::Linear(std::size_t in, std::size_t out, std::uint64_t seed, Init init) {
    if (in == 0 || out == 0) {
        throw std::invalid_argument("Linear: needs in > 0 and out > 0, got " + std::to_string(in) +
                                    " and " + std::to_string(out));
    }
    Random random(seed);
    const shape_type shape = {in, out};
    const nn::init::Fans fans{in, out};
    array w;
    switch (init) {
        case Init::xavier_uniform:
            w = nn::init::xavier_uniform(shape, fans, random);
            break;
        case Init::xavier_normal:
            w = nn::init::xavier_normal(shape, fans, random);
            break;
        case Init::he_uniform:
            w = nn::init::kaiming_uniform(shape, fans, random);
            break;
        case Init::he_normal:
            w = nn::init::kaiming_normal(shape, fans, random);
            break;
    }
    weight_ = register_parameter("weight", parameter(std::move(w)));
    bias_ = register_parameter("bias", parameter(xt::zeros<double>({out})));
}

Var Linear::forward(const Var& x) {
    if (x.dimension() != 2 || x.shape()[1] != weight_.shape()[0]) {
        throw shape_error("Linear: expects a batch of shape (rows, " +
                          std::to_string(weight_.shape()[0]) + "), got " + format_shape(x.shape()));
    }
    return matmul(x, weight_) + bias_;
}

}  // namespace xgrad::nn
