// Data for the tests of collectives: values that differ by rank, and the bytes of a result (to
// check that every rank got the same bits).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace xgrad::testing {

/// @brief A value that differs by rank and element and rounds when added (so the order shows).
inline double sample(int rank, std::size_t i) {
    return std::sin(1.0 + 0.37 * rank + 0.011 * static_cast<double>(i)) * std::pow(10.0, rank % 3);
}

/// @brief The bytes of `v`, to compare results bit for bit across ranks (allgather).
inline std::string bytes_of(const std::vector<double>& v) {
    std::string out(v.size() * sizeof(double), '\0');
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
    return out;
}

}  // namespace xgrad::testing
