// The op families of custom ops (xgrad::Function) and checkpoint, for every_op_family()
// (tests/core/op_families.hpp); the Huber op is the example's (examples/huber_op.hpp).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <xtensor/xmath.hpp>

#include "../../examples/huber_op.hpp"
#include "core/op_case.hpp"
#include "xgrad/core/checkpoint.hpp"
#include "xgrad/core/function.hpp"

namespace xgrad::testing {

using examples::huber_function;

inline void append_custom_families(std::vector<Case>& cases) {
    // Residuals of random parameters in [−1, 1] reach past δ = 0.5: both branches are taken.
    cases.push_back(Case{"custom op huber",
                         [](const std::vector<Var>& p) {
                             return apply(huber_function(0.5), {p[0], p[1]});
                         },
                         {{6}, {6}}});
    cases.push_back(Case{"custom op huber used twice",
                         [](const std::vector<Var>& p) {
                             const Function h = huber_function(0.3);
                             const Var q = tanh(p[0]) * p[1];
                             return h({q, p[0]}) * h({q, p[0] * p[1]});
                         },
                         {{2, 3}, {}}});
    // A captured weight (not in inputs) and an explicit input, through two tanh layers.
    cases.push_back(Case{"checkpoint with a captured weight",
                         [](const std::vector<Var>& p) {
                             const Var W = p[1];
                             const Var h = checkpoint(
                                 [W](const std::vector<Var>& in) {
                                     return tanh(matmul(tanh(matmul(in[0], W)), W));
                                 },
                                 {p[0]});
                             return h * 2.0;
                         },
                         {{2, 3}, {3, 3}}});
    // Several explicit inputs, one used twice, a custom op inside; nested checkpoints.
    cases.push_back(Case{"checkpoint of a custom op, nested",
                         [](const std::vector<Var>& p) {
                             auto inner = [](const std::vector<Var>& in) {
                                 return sin(in[0]) * in[1] + in[0];
                             };
                             auto outer = [inner](const std::vector<Var>& in) {
                                 const Var s = checkpoint(inner, {in[0], in[1]});
                                 return apply(huber_function(0.4), {s, in[1]}) + sum(s * s);
                             };
                             return checkpoint(outer, {p[0], p[1], p[0]});
                         },
                         {{4}, {4}}});
}

}  // namespace xgrad::testing
