// The value types: array (a row-major array of doubles, any rank) and shape_type.
#pragma once

#include <xtensor/xarray.hpp>

namespace xgrad {

/// @brief The value type of every node: a row-major array of doubles, of any rank (a scalar is
/// rank 0, shape ()).
using array = xt::xarray<double>;

/// @brief Shape of a value: one extent per axis, row-major.
using shape_type = array::shape_type;

}  // namespace xgrad
