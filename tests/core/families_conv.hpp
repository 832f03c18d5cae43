// The op families of convolution and pooling (conv2d, max_pool2d, avg_pool2d), for
// every_op_family() (tests/core/op_families.hpp).
#pragma once

#include <vector>

#include "core/op_case.hpp"
#include "xgrad/ops/conv.hpp"

namespace xgrad::testing {

inline void append_conv_families(std::vector<Case>& cases) {
    using P = std::vector<Var>;
    cases.push_back(Case{"conv2d stride 2 padding 1 with bias",
                         // the bias through a product: an empty Var passed as the bias itself
                         // means "no bias", not a missing operand
                         [](const P& p) { return conv2d(p[0], p[1], p[2] * 1.0, 2, 1); },
                         {{2, 2, 5, 4}, {3, 2, 3, 2}, {3}}});
    cases.push_back(Case{"conv2d 1x1 without bias then tanh",
                         [](const P& p) { return tanh(conv2d(p[0], p[1], Var())); },
                         {{2, 3, 3, 3}, {2, 3, 1, 1}}});
    cases.push_back(Case{"conv2d same input twice",
                         [](const P& p) { return conv2d(p[0], p[0], Var(), 1, 1); },
                         {{2, 2, 3, 3}}});
    cases.push_back(Case{"max_pool2d overlapping windows",
                         [](const P& p) { return max_pool2d(p[0], 3, 2); },
                         {{2, 2, 7, 6}}});
    cases.push_back(Case{"avg_pool2d then square",
                         [](const P& p) { return square(avg_pool2d(p[0], 2)); },
                         {{1, 3, 5, 4}}});
}

}  // namespace xgrad::testing
