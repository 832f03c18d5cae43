// The Huber loss written as a custom op (xgrad::Function) with all its rules: the op
// examples/custom_op.cpp fits with, and the one tests/core/test_custom_ops.cpp checks.
#pragma once

#include <cmath>
#include <vector>

#include <xtensor/xmath.hpp>

#include "xgrad/core/function.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::examples {

/// @brief The Huber loss of predictions against targets (one shape, at least one element), as a
/// custom op: L = mean ℓ(p − t), ℓ(r) = ½r² for |r| ≤ δ, δ(|r| − ½δ) beyond.
/// ∂L/∂p = clip(r, −δ, δ)/n = −∂L/∂t; ∂²L/∂p² = [|r| ≤ δ]/n (elementwise).
inline Function huber_function(double delta = 1.0) {
    Function f;
    f.name = "huber";
    f.forward = [delta](const Function::Inputs& in) {
        const array& p = in[0];
        const array& t = in[1];
        if (p.shape() != t.shape()) {
            throw shape_error("huber: predictions " + format_shape(p.shape()) + " and targets " +
                              format_shape(t.shape()) + " differ in shape");
        }
        if (p.size() == 0) throw shape_error("huber: cannot average over no elements");
        double total = 0.0;
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double r = std::abs(p.data()[i] - t.data()[i]);
            total += r <= delta ? 0.5 * r * r : delta * (r - 0.5 * delta);
        }
        return array(total / static_cast<double>(p.size()));
    };
    // ∂L/∂p = g·clip(r, −δ, δ)/n, ∂L/∂t = −∂L/∂p
    f.backward = [delta](const array& g, const Function::Inputs& in, const array&) {
        const double scale = g() / static_cast<double>(in[0].size());
        const array d = scale * xt::clip(in[0] - in[1], -delta, delta);
        std::vector<array> grads(2);
        if (in.requires_grad(0)) grads[0] = d;
        if (in.requires_grad(1)) grads[1] = -d;
        return grads;
    };
    // the same from Var ops: clip's derivative is [|r| ≤ δ], the second derivative
    f.backward_as_graph = [delta](const Var& g, const std::vector<Var>& in, const Var&) {
        const Var d = g * clip(in[0] - in[1], -delta, delta) / static_cast<double>(in[0].size());
        return std::vector<Var>{d, -d};
    };
    // dL = Σ clip(rᵢ, −δ, δ)(dpᵢ − dtᵢ)/n
    f.tangent = [delta](const std::vector<const array*>& t, const Function::Inputs& in,
                        const array&) {
        const array slope = xt::clip(in[0] - in[1], -delta, delta);
        double d = 0.0;
        if (t[0] != nullptr) d += xt::sum(slope * *t[0])();
        if (t[1] != nullptr) d -= xt::sum(slope * *t[1])();
        return array(d / static_cast<double>(in[0].size()));
    };
    return f;
}

}  // namespace xgrad::examples
