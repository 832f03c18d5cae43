// The value types: array (a row-major array of doubles, any rank) and shape_type.
#pragma once

#include <xtensor/xarray.hpp>

#include "xgrad/core/allocator.hpp"

namespace xgrad {

/// @brief The value type of every node: a row-major array of doubles, of any rank (a scalar is
/// rank 0, shape ()). An xt::xarray whose storage comes from the caching allocator
/// (xgrad/core/allocator.hpp); any xtensor expression converts to it and it to any.
using array = xt::xarray<double, xt::layout_type::row_major, detail::caching_allocator<double>>;

/// @brief Shape of a value: one extent per axis, row-major.
using shape_type = array::shape_type;

}  // namespace xgrad
