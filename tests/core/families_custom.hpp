// The op families of custom ops (xgrad::Function) and checkpoint, for every_op_family()
// (tests/core/op_families.hpp).
#pragma once

#include <vector>

#include "core/op_case.hpp"

namespace xgrad::testing {

inline void append_custom_families(std::vector<Case>& cases) {
    (void)cases;
}

}  // namespace xgrad::testing
