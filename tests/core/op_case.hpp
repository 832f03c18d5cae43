// One op family's graph, for the engine-wide tests (tests/core/op_families.hpp).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "xgrad/xgrad.hpp"

namespace xgrad::testing {

/// @brief One op family's graph: parameters, and the output built from them.
struct Case {
    std::string name;
    std::function<Var(const std::vector<Var>&)> build;
    std::vector<shape_type> shapes;
};

}  // namespace xgrad::testing
