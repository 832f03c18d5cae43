// Every op family as a small graph of random parameters: what the engine-wide tests (fault
// kinds, forward mode) run over. A new op adds its case here.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/families_conv.hpp"
#include "core/families_custom.hpp"
#include "core/families_indexing.hpp"
#include "core/families_reduce.hpp"
#include "core/op_case.hpp"
#include "support.hpp"

namespace xgrad::testing {

inline std::vector<Case> every_op_family() {
    auto unary = [](const char* name, Var (*f)(const Var&)) {
        return Case{name, [f](const std::vector<Var>& p) { return f(p[0]); }, {{2, 3}}};
    };
    std::vector<Case> cases = {
        unary("neg", [](const Var& x) { return -x; }),
        unary("square", [](const Var& x) { return pow(x, 2.0); }),
        unary("pow3", [](const Var& x) { return pow(x, 3.0); }),
        unary("pow0", [](const Var& x) { return pow(x, 0.0); }),
        unary("exp", [](const Var& x) { return exp(x); }),
        unary("log", [](const Var& x) { return log(x * x + 1.0); }),
        unary("tanh", [](const Var& x) { return tanh(x); }),
        unary("sigmoid", [](const Var& x) { return sigmoid(x); }),
        unary("relu", [](const Var& x) { return relu(x); }),
        unary("abs", [](const Var& x) { return abs(x); }),
        unary("leaky_relu", [](const Var& x) { return leaky_relu(x, 0.1); }),
        unary("softplus", [](const Var& x) { return softplus(x); }),
        unary("log_sigmoid", [](const Var& x) { return log_sigmoid(x); }),
        unary("log_of_sigmoid", [](const Var& x) { return log(sigmoid(x)); }),
        unary("log_one_minus_sigmoid", [](const Var& x) { return log(1.0 - sigmoid(x)); }),
        unary("transpose", [](const Var& x) { return transpose(x) * 2.0; }),
        unary("reshape",
              [](const Var& x) {
                  return reshape(x, {3, 2});
              }),
        unary("sum", [](const Var& x) { return sum(x); }),
        unary("mean_axis", [](const Var& x) { return mean(x, 0); }),
        unary("sum_axis", [](const Var& x) { return sum(x, -1); }),
        unary("log_softmax", [](const Var& x) { return log_softmax(x); }),
        unary("softmax", [](const Var& x) { return softmax(x); }),
        unary("broadcast_to",
              [](const Var& x) {
                  return broadcast_to(x, {4, 2, 3});
              }),
        unary("sum_to",
              [](const Var& x) {
                  return sum_to(x, {1, 3});
              }),
        unary("scalar_ops", [](const Var& x) { return (2.0 - x) / 3.0 + 1.0 / (x * x + 1.0); }),
        unary("sin", [](const Var& x) { return sin(x); }),
        unary("cos", [](const Var& x) { return cos(x); }),
        unary("tan", [](const Var& x) { return tan(x); }),
        unary("sqrt", [](const Var& x) { return sqrt(x * x + 1.0); }),
        unary("square", [](const Var& x) { return square(x); }),
        unary("log1p", [](const Var& x) { return log1p(x * x); }),
        unary("expm1", [](const Var& x) { return expm1(x); }),
        unary("erf", [](const Var& x) { return erf(x); }),
        unary("silu", [](const Var& x) { return silu(x); }),
        unary("gelu", [](const Var& x) { return gelu(x); }),
        unary("elu", [](const Var& x) { return elu(x, 0.7); }),
        unary("clip", [](const Var& x) { return clip(x, -0.3, 0.4); }),
    };
    auto binary = [](const char* name, Var (*f)(const Var&, const Var&), shape_type a,
                     shape_type b) {
        return Case{name, [f](const std::vector<Var>& p) { return f(p[0], p[1]); }, {a, b}};
    };
    for (const auto& [a, b] : std::vector<std::pair<shape_type, shape_type>>{{{2, 3}, {2, 3}},
                                                                             {{2, 3}, {3}},
                                                                             {{3}, {2, 3}},
                                                                             {{2, 3}, {}},
                                                                             {{1}, {2, 3}},
                                                                             {{3, 1}, {1, 4}},
                                                                             {{2, 1, 3}, {4, 1}}}) {
        cases.push_back(binary(
            "add", [](const Var& x, const Var& y) { return x + y; }, a, b));
        cases.push_back(binary(
            "sub", [](const Var& x, const Var& y) { return x - y; }, a, b));
        cases.push_back(binary(
            "mul", [](const Var& x, const Var& y) { return x * y; }, a, b));
        cases.push_back(binary(
            "div", [](const Var& x, const Var& y) { return x / (y * y + 1.0); }, a, b));
        cases.push_back(binary(
            "maximum", [](const Var& x, const Var& y) { return maximum(x, y); }, a, b));
        cases.push_back(binary(
            "minimum", [](const Var& x, const Var& y) { return minimum(x, y); }, a, b));
        cases.push_back(binary(
            "pow", [](const Var& x, const Var& y) { return pow(x * x + 0.5, y); }, a, b));
        cases.push_back(binary(
            "where", [](const Var& x, const Var& y) { return where(x > 0.1, x * y, exp(y)); }, a,
            b));
    }
    auto mm = [](const Var& x, const Var& y) { return matmul(x, y); };
    auto mm_ta = [](const Var& x, const Var& y) { return matmul(transpose(x), y); };
    auto mm_tb = [](const Var& x, const Var& y) { return matmul(x, transpose(y)); };
    cases.push_back(binary("matmul vec.vec", mm, {3}, {3}));
    cases.push_back(binary("matmul mat.vec", mm, {2, 3}, {3}));
    cases.push_back(binary("matmul vec.mat", mm, {2}, {2, 3}));
    cases.push_back(binary("matmul mat.mat", mm, {2, 3}, {3, 4}));
    cases.push_back(binary("matmul matT.mat", mm_ta, {3, 2}, {3, 4}));
    cases.push_back(binary("matmul mat.matT", mm_tb, {2, 3}, {4, 3}));
    cases.push_back(binary("matmul matT.vec", mm_ta, {3, 2}, {3}));
    cases.push_back(binary("matmul vec.matT", mm_tb, {3}, {2, 3}));
    cases.push_back(binary("matmul stack", mm, {2, 2, 3}, {2, 3, 4}));
    cases.push_back(binary("matmul stack.mat", mm, {2, 2, 3}, {3, 4}));
    cases.push_back(binary("matmul mat.stack", mm, {2, 3}, {2, 3, 4}));
    cases.push_back(binary("matmul stackT", mm_ta, {2, 3, 2}, {1, 3, 4}));
    cases.push_back(binary(
        "bce_with_logits",
        [](const Var& z, const Var& y) { return bce_with_logits(z, sigmoid(y)); }, {5}, {5}));
    cases.push_back(binary(
        "binary_cross_entropy",
        [](const Var& z, const Var& y) { return binary_cross_entropy(sigmoid(z), sigmoid(y)); },
        {5}, {5}));
    cases.push_back(binary("binary_cross_entropy on probabilities",
                           [](const Var& z, const Var& y) {
                               return binary_cross_entropy(0.5 + 0.4 * tanh(z), sigmoid(y));
                           },
                           {5}, {5}));
    cases.push_back(binary("mse", [](const Var& p, const Var& t) { return mse(p, t); }, {5}, {5}));
    cases.push_back(Case{"cross_entropy",
                         [](const std::vector<Var>& p) {
                             return cross_entropy(p[0], constant({2.0, 0.0, 1.0}));
                         },
                         {{3, 4}}});
    cases.push_back(
        Case{"linear_bce_with_logits",
             [](const std::vector<Var>& p) {
                 return linear_bce_with_logits(p[0], p[1], p[2], constant({1.0, 0.0, 1.0, 0.0}));
             },
             {{4, 3}, {3}, {}}});
    cases.push_back(
        Case{"fusable logistic graph",
             [](const std::vector<Var>& p) {
                 return bce_with_logits(matmul(p[0], p[1]) + p[2], constant({1.0, 0.0, 1.0, 0.0}));
             },
             {{4, 3}, {3}, {}}});
    append_reduction_families(cases);
    append_indexing_families(cases);
    append_custom_families(cases);
    append_conv_families(cases);
    return cases;
}

inline std::vector<Var> make_parameters(const Case& c, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<Var> params;
    for (const shape_type& s : c.shapes) params.push_back(parameter(random_array(rng, s)));
    return params;
}

}  // namespace xgrad::testing
