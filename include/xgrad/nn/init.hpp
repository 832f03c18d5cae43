// Weight initialisers: Kaiming (He) and Glorot (Xavier), uniform and normal, for any weight
// shape, drawn from a seeded xgrad::Random; fans as torch.nn.init computes them.
#pragma once

#include <cstddef>

#include "xgrad/core/random.hpp"
#include "xgrad/core/types.hpp"

namespace xgrad::nn::init {

/// @brief A weight's fan-in and fan-out: the number of inputs that feed one output unit, and
/// the number of outputs one input unit feeds.
struct Fans {
    std::size_t fan_in = 0;
    std::size_t fan_out = 0;
};

/// @brief Which fan Kaiming initialisation keeps the variance of: fan_in preserves the forward
/// pass's activations, fan_out the backward pass's gradients (torch's mode).
enum class FanMode { fan_in, fan_out };

/// @brief The fans of a weight in PyTorch's layout, as torch.nn.init._calculate_fan_in_and_fan_out:
/// shape (out, in, k...) gives fan_in = in·Πk, fan_out = out·Πk; so a conv weight
/// (C_out, C_in, kH, kW) gives (C_in·kH·kW, C_out·kH·kW) and a torch Linear weight (out, in)
/// gives (in, out). xgrad's nn::Linear stores W as (in, out), the transpose: pass its fans
/// explicitly, Fans{in, out}.
/// @throw std::invalid_argument for fewer than 2 axes ("init: fan_in and fan_out cannot be
/// computed for shape (3,) (fewer than 2 axes)"), as torch.
Fans compute_fans(const shape_type& shape);

/// @brief The recommended gain of torch.nn.init.calculate_gain('leaky_relu', negative_slope):
/// √(2 / (1 + negative_slope²)); negative_slope = 0 is ReLU's √2.
double leaky_relu_gain(double negative_slope = 0.0);

/// @brief Kaiming (He) uniform, torch.nn.init.kaiming_uniform_(w, a, mode, 'leaky_relu'):
/// U(−b, b) with b = √(6 / ((1 + a²)·fan)) = gain·√(3 / fan), fan the chosen one of
/// compute_fans(shape). a = 0 is He's initialisation for ReLU; torch's Linear and Conv layers
/// use a = √5 (b = √(1/fan_in)). Elements are drawn in row-major order.
/// @throw std::invalid_argument as compute_fans. An empty shape (an extent 0) draws nothing.
array kaiming_uniform(const shape_type& shape, Random& random, double a = 0.0,
                      FanMode mode = FanMode::fan_in);
/// @brief kaiming_uniform with the fans given (for layouts other than PyTorch's).
/// @throw std::invalid_argument if the chosen fan is 0 and the shape is not empty.
array kaiming_uniform(const shape_type& shape, const Fans& fans, Random& random, double a = 0.0,
                      FanMode mode = FanMode::fan_in);
/// @brief Kaiming (He) normal, torch.nn.init.kaiming_normal_: N(0, σ²) with
/// σ = √(2 / ((1 + a²)·fan)) = gain/√fan. Errors as kaiming_uniform.
array kaiming_normal(const shape_type& shape, Random& random, double a = 0.0,
                     FanMode mode = FanMode::fan_in);
/// @brief kaiming_normal with the fans given.
array kaiming_normal(const shape_type& shape, const Fans& fans, Random& random, double a = 0.0,
                     FanMode mode = FanMode::fan_in);

/// @brief Glorot (Xavier) uniform, torch.nn.init.xavier_uniform_(w, gain): U(−b, b) with
/// b = gain·√(6 / (fan_in + fan_out)); for tanh and sigmoid layers. Errors as compute_fans.
array xavier_uniform(const shape_type& shape, Random& random, double gain = 1.0);
/// @brief xavier_uniform with the fans given.
/// @throw std::invalid_argument if fan_in + fan_out is 0 and the shape is not empty.
array xavier_uniform(const shape_type& shape, const Fans& fans, Random& random, double gain = 1.0);
/// @brief Glorot (Xavier) normal, torch.nn.init.xavier_normal_: N(0, σ²) with
/// σ = gain·√(2 / (fan_in + fan_out)). Errors as xavier_uniform.
array xavier_normal(const shape_type& shape, Random& random, double gain = 1.0);
/// @brief xavier_normal with the fans given.
array xavier_normal(const shape_type& shape, const Fans& fans, Random& random, double gain = 1.0);

/// @brief U(low, high) elements of the given shape, row-major (e.g. torch's bias init
/// U(−1/√fan_in, 1/√fan_in)). Never throws.
array uniform(const shape_type& shape, double low, double high, Random& random);
/// @brief N(mean, deviation²) elements of the given shape, row-major. Never throws.
array normal(const shape_type& shape, double mean, double deviation, Random& random);

}  // namespace xgrad::nn::init
