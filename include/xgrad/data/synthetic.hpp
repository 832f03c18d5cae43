// Generated data sets (make_moons, ...).
#pragma once

#include <cstddef>
#include <cstdint>

#include "xgrad/data/csv.hpp"

namespace xgrad::data {

/// @brief Two interleaved half circles in the plane, as scikit-learn's make_moons: the upper
/// moon (label 0) and the lower one shifted right (label 1), half the points each, with Gaussian
/// noise of the given deviation on both coordinates, in seeded random order.
Dataset make_moons(std::size_t points, double noise, std::uint64_t seed);

}  // namespace xgrad::data
