// The op families of reductions (max, min, logsumexp, variance, stddev, norm, keepdims), for
// every_op_family() (tests/core/op_families.hpp).
#pragma once

#include <vector>

#include "core/op_case.hpp"

namespace xgrad::testing {

inline void append_reduction_families(std::vector<Case>& cases) {
    (void)cases;
}

}  // namespace xgrad::testing
