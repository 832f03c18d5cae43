// Weight initialisers: fans as torch.nn.init computes them; Kaiming and Glorot bounds and
// deviations; uniform and normal draws in row-major order from a seeded Random.
#include "xgrad/nn/init.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "xgrad/core/errors.hpp"

namespace xgrad::nn::init {

namespace {

std::size_t element_count(const shape_type& shape) {
    std::size_t n = 1;
    for (std::size_t e : shape) n *= e;
    return n;
}

/// @brief The chosen fan as a double; invalid_argument naming `op` if it is 0 for a non-empty
/// shape (the bound would be infinite).
double chosen_fan(const char* op, const shape_type& shape, const Fans& fans, FanMode mode) {
    const std::size_t fan = mode == FanMode::fan_in ? fans.fan_in : fans.fan_out;
    if (fan == 0 && element_count(shape) != 0) {
        throw std::invalid_argument(std::string("init: ") + op + " needs a " +
                                    (mode == FanMode::fan_in ? "fan_in" : "fan_out") +
                                    " > 0 for shape " + format_shape(shape));
    }
    return static_cast<double>(fan);
}

double fan_sum(const char* op, const shape_type& shape, const Fans& fans) {
    const std::size_t total = fans.fan_in + fans.fan_out;
    if (total == 0 && element_count(shape) != 0) {
        throw std::invalid_argument(std::string("init: ") + op +
                                    " needs fan_in + fan_out > 0 for shape " + format_shape(shape));
    }
    return static_cast<double>(total);
}

}  // namespace

Fans compute_fans(const shape_type& shape) {
    if (shape.size() < 2) {
        throw std::invalid_argument("init: fan_in and fan_out cannot be computed for shape " +
                                    format_shape(shape) + " (fewer than 2 axes)");
    }
    std::size_t receptive = 1;
    for (std::size_t k = 2; k < shape.size(); ++k) receptive *= shape[k];
    return {shape[1] * receptive, shape[0] * receptive};
}

double leaky_relu_gain(double negative_slope) {
    return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
}

array uniform(const shape_type& shape, double low, double high, Random& random) {
    array w = array::from_shape(shape);
    for (double& v : w) v = random.uniform(low, high);
    return w;
}

array normal(const shape_type& shape, double mean, double deviation, Random& random) {
    array w = array::from_shape(shape);
    for (double& v : w) v = random.normal(mean, deviation);
    return w;
}

// b = √(6 / ((1 + a²)·fan)): the variance b²/3 of U(−b, b) is gain²/fan, gain² = 2/(1 + a²)
array kaiming_uniform(const shape_type& shape, const Fans& fans, Random& random, double a,
                      FanMode mode) {
    const double fan = chosen_fan("kaiming_uniform", shape, fans, mode);
    const double bound = std::sqrt(6.0 / ((1.0 + a * a) * fan));
    return uniform(shape, -bound, bound, random);
}

array kaiming_uniform(const shape_type& shape, Random& random, double a, FanMode mode) {
    return kaiming_uniform(shape, compute_fans(shape), random, a, mode);
}

// σ² = gain²/fan = 2 / ((1 + a²)·fan)
array kaiming_normal(const shape_type& shape, const Fans& fans, Random& random, double a,
                     FanMode mode) {
    const double fan = chosen_fan("kaiming_normal", shape, fans, mode);
    return normal(shape, 0.0, std::sqrt(2.0 / ((1.0 + a * a) * fan)), random);
}

array kaiming_normal(const shape_type& shape, Random& random, double a, FanMode mode) {
    return kaiming_normal(shape, compute_fans(shape), random, a, mode);
}

// b = gain·√(6 / (fan_in + fan_out)): variance gain²·2/(fan_in + fan_out)
array xavier_uniform(const shape_type& shape, const Fans& fans, Random& random, double gain) {
    const double bound = gain * std::sqrt(6.0 / fan_sum("xavier_uniform", shape, fans));
    return uniform(shape, -bound, bound, random);
}

array xavier_uniform(const shape_type& shape, Random& random, double gain) {
    return xavier_uniform(shape, compute_fans(shape), random, gain);
}

array xavier_normal(const shape_type& shape, const Fans& fans, Random& random, double gain) {
    const double deviation = gain * std::sqrt(2.0 / fan_sum("xavier_normal", shape, fans));
    return normal(shape, 0.0, deviation, random);
}

array xavier_normal(const shape_type& shape, Random& random, double gain) {
    return xavier_normal(shape, compute_fans(shape), random, gain);
}

}  // namespace xgrad::nn::init
