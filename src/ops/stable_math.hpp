// Overflow-free scalar sigmoid and softplus, and an elementwise map.
#pragma once

#include <cmath>

#include "xgrad/core/var.hpp"

namespace xgrad::detail {

/// @brief 1/(1+e^-x) through e^-|x|, which never overflows.
inline double stable_sigmoid(double x) {
    const double e = std::exp(-std::abs(x));
    return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

/// @brief log(1+e^x) = max(x,0) + log1p(e^-|x|), which never overflows.
inline double stable_softplus(double x) {
    return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}

/// @brief y = f(x) elementwise over contiguous storage; y takes x's shape.
template <class F>
void map_elementwise(array& y, const array& x, F f) {
    y.resize(x.shape());
    const double* in = x.data();
    double* out = y.data();
    const std::size_t n = x.size();
    for (std::size_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

}  // namespace xgrad::detail
