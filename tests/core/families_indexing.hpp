// The op families of indexing and joining (slice, index_select, gather, concatenate, stack,
// squeeze, unsqueeze, flatten, permute), for every_op_family() (tests/core/op_families.hpp).
#pragma once

#include <limits>
#include <vector>

#include "core/op_case.hpp"

namespace xgrad::testing {

inline void append_indexing_families(std::vector<Case>& cases) {
    using P = std::vector<Var>;
    constexpr long to_front = std::numeric_limits<long>::min();
    auto add = [&cases](const char* name, std::function<Var(const P&)> f,
                        std::vector<shape_type> shapes) {
        cases.push_back(Case{name, std::move(f), std::move(shapes)});
    };
    add("slice rows", [](const P& p) { return slice(p[0], 0, 1, 4); }, {{4, 3}});
    add("slice negative step", [](const P& p) { return slice(p[0], 0, -1, to_front, -2); },
        {{5, 3}});
    add("slice last axis clamped", [](const P& p) { return slice(p[0], -1, -4, 100, 2); },
        {{2, 5}});
    add("slice then square", [](const P& p) { return square(slice(p[0], 1, 2, 0, -1)); },
        {{2, 3, 2}});
    add("index_select repeated rows",
        [](const P& p) {
            return index_select(p[0], 0, {0, 0, 2});
        },
        {{3, 2}});
    add("index_select last axis then tanh",
        [](const P& p) {
            return tanh(index_select(p[0], -1, {3, 1, 3}));
        },
        {{2, 4}});
    add("gather axis 0",
        [](const P& p) {
            return gather(p[0], 0, array{{0.0, 2.0}, {1.0, 0.0}, {2.0, 2.0}, {0.0, 0.0}});
        },
        {{3, 2}});
    add("gather axis 1 then square",
        [](const P& p) {
            return square(gather(p[0], 1, array{{2.0, 2.0}, {0.0, 1.0}}));
        },
        {{2, 3}});
    add("concatenate same Var twice",
        [](const P& p) {
            return concatenate({p[0], p[1], p[0]}, 0);
        },
        {{2, 3}, {1, 3}});
    add("concatenate last axis with a constant then square",
        [](const P& p) {
            return square(
                concatenate({p[0], reshape(constant(array{0.5, -0.5}), {2, 1}), p[1]}, -1));
        },
        {{2, 1}, {2, 3}});
    add("stack same Var twice",
        [](const P& p) {
            return stack({p[0], p[1], p[0]}, 1);
        },
        {{2, 3}, {2, 3}});
    add("stack new last axis times itself",
        [](const P& p) {
            const Var s = stack({p[0], p[1], p[0]}, -1);
            return s * s;
        },
        {{3}, {3}});
    add("squeeze", [](const P& p) { return squeeze(p[0], 1); }, {{2, 1, 3}});
    add("unsqueeze", [](const P& p) { return unsqueeze(p[0], -1); }, {{2, 3}});
    add("flatten", [](const P& p) { return flatten(p[0], 1); }, {{2, 3, 2}});
    add("permute 3-D", [](const P& p) { return permute(p[0], {2, 0, 1}); }, {{2, 3, 4}});
    add("permute then square", [](const P& p) { return square(permute(p[0], {1, 0})); }, {{2, 3}});
}

}  // namespace xgrad::testing
