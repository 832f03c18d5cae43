// nn::Conv2d, nn::MaxPool2d, nn::AvgPool2d.
#include "xgrad/nn/conv.hpp"

#include <stdexcept>
#include <string>

#include "xgrad/core/random.hpp"
#include "xgrad/nn/init.hpp"
#include "xgrad/ops/conv.hpp"

namespace xgrad::nn {

Conv2d::Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
               std::uint64_t seed, std::size_t stride, std::size_t padding, Init init, bool bias)
    : stride_(stride), padding_(padding) {
    if (in_channels == 0 || out_channels == 0 || kernel == 0 || stride == 0) {
        throw std::invalid_argument(
            "Conv2d: needs in_channels, out_channels, kernel and stride > 0, got " +
            std::to_string(in_channels) + ", " + std::to_string(out_channels) + ", " +
            std::to_string(kernel) + " and " + std::to_string(stride));
    }
    Random random(seed);
    const shape_type shape = {out_channels, in_channels, kernel, kernel};
    // the fans of (C_out, C_in, k, k): C_in·k², C_out·k²
    array w = draw_weights(init, shape, init::compute_fans(shape), random);
    weight_ = register_parameter("weight", parameter(std::move(w)));
    if (bias) bias_ = register_parameter("bias", parameter(xt::zeros<double>({out_channels})));
}

Var Conv2d::forward(const Var& x) {
    return conv2d(x, weight_, bias_, stride_, padding_);
}

namespace {

void check_kernel(const char* layer, std::size_t kernel) {
    if (kernel == 0) throw std::invalid_argument(std::string(layer) + ": needs kernel > 0, got 0");
}

}  // namespace

MaxPool2d::MaxPool2d(std::size_t kernel, std::size_t stride) : kernel_(kernel), stride_(stride) {
    check_kernel("MaxPool2d", kernel);
}

Var MaxPool2d::forward(const Var& x) {
    return max_pool2d(x, kernel_, stride_);
}

AvgPool2d::AvgPool2d(std::size_t kernel, std::size_t stride) : kernel_(kernel), stride_(stride) {
    check_kernel("AvgPool2d", kernel);
}

Var AvgPool2d::forward(const Var& x) {
    return avg_pool2d(x, kernel_, stride_);
}

}  // namespace xgrad::nn
