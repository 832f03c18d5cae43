// The op families of reductions (max, min, logsumexp, variance, stddev, norm, keepdims), for
// every_op_family() (tests/core/op_families.hpp).
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "core/op_case.hpp"

namespace xgrad::testing {

inline void append_reduction_families(std::vector<Case>& cases) {
    auto unary = [&cases](std::string name, std::function<Var(const Var&)> f, shape_type shape) {
        cases.push_back(
            Case{std::move(name), [f](const std::vector<Var>& p) { return f(p[0]); }, {shape}});
    };
    // keepdims on sum and mean: the result broadcasts against x again
    unary("sum_keepdims", [](const Var& x) { return sum(x, 0, true) * x; }, {2, 3});
    unary("mean_keepdims", [](const Var& x) { return x - mean(x, -1, true); }, {2, 3});
    // max and min (random values: no ties)
    unary("max", [](const Var& x) { return max(x); }, {2, 3});
    unary("max_axis", [](const Var& x) { return max(x, 0); }, {2, 3});
    unary("max_axis_keepdims", [](const Var& x) { return max(x, -1, true); }, {2, 3});
    unary("max_3d", [](const Var& x) { return max(x, 1); }, {2, 3, 2});
    unary("min", [](const Var& x) { return min(x); }, {2, 3});
    unary("min_axis", [](const Var& x) { return min(x, 1); }, {2, 3});
    unary("min_axis_keepdims", [](const Var& x) { return min(x, 0, true); }, {2, 3});
    unary("max_squared", [](const Var& x) { return square(max(x, 1)); }, {2, 3});
    // logsumexp
    unary("logsumexp", [](const Var& x) { return logsumexp(x); }, {2, 3});
    unary("logsumexp_axis", [](const Var& x) { return logsumexp(x, 0); }, {2, 3});
    unary("logsumexp_keepdims", [](const Var& x) { return logsumexp(x, -1, true); }, {2, 3});
    unary("logsumexp_3d", [](const Var& x) { return logsumexp(x, 1); }, {2, 3, 2});
    unary("logsumexp_scaled", [](const Var& x) { return logsumexp(3.0 * x, 1); }, {2, 3});
    // variance and stddev (stddev over n = 2 with ddof 1 is |a − b|/√2, piecewise linear: its
    // Hessian is 0 up to rounding, which would make the HVP comparison one of noise)
    unary("variance", [](const Var& x) { return variance(x); }, {2, 3});
    unary("variance_axis", [](const Var& x) { return variance(x, 1); }, {2, 3});
    unary("variance_ddof", [](const Var& x) { return variance(x, 0, 1); }, {2, 3});
    unary("variance_3d", [](const Var& x) { return variance(x, -2, 1); }, {2, 3, 2});
    unary("stddev", [](const Var& x) { return stddev(x); }, {2, 3});
    unary("stddev_axis", [](const Var& x) { return stddev(x, 1); }, {2, 3});
    unary("stddev_ddof", [](const Var& x) { return stddev(x, -1, 1); }, {2, 3});
    unary("stddev_3d", [](const Var& x) { return stddev(x, 1, 1); }, {2, 3, 2});
    // norm
    unary("norm", [](const Var& x) { return norm(x); }, {2, 3});
    unary("norm_p1", [](const Var& x) { return norm(x, 1.0); }, {2, 3});
    unary("norm_p3", [](const Var& x) { return norm(x, 3.0); }, {2, 3});
    unary("norm_p1.5", [](const Var& x) { return norm(x, 1.5); }, {2, 3});
    unary("norm_inf", [](const Var& x) { return norm(x, std::numeric_limits<double>::infinity()); },
          {2, 3});
    unary("norm_squared", [](const Var& x) { return norm(x) * norm(x, 3.0); }, {3});
}

}  // namespace xgrad::testing
