// nn::Linear: Glorot (Xavier) and He initialisation (nn::init), uniform or normal; y = x·W + b.
#include "xgrad/nn/linear.hpp"

#include <stdexcept>
#include <string>

#include "xgrad/core/random.hpp"
#include "xgrad/nn/init.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::nn {

array draw_weights(Init init, const shape_type& shape, const init::Fans& fans, Random& random) {
    switch (init) {
        case Init::xavier_uniform:
            return init::xavier_uniform(shape, fans, random);
        case Init::xavier_normal:
            return init::xavier_normal(shape, fans, random);
        case Init::he_uniform:
            return init::kaiming_uniform(shape, fans, random);
        case Init::he_normal:
            return init::kaiming_normal(shape, fans, random);
    }
    return init::kaiming_uniform(shape, fans, random);  // not reached: every Init is above
}

Linear::Linear(std::size_t in, std::size_t out, std::uint64_t seed, Init init) {
    if (in == 0 || out == 0) {
        throw std::invalid_argument("Linear: needs in > 0 and out > 0, got " + std::to_string(in) +
                                    " and " + std::to_string(out));
    }
    Random random(seed);
    array w = draw_weights(init, {in, out}, nn::init::Fans{in, out}, random);
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
