/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include "xgrad/var.hpp"

namespace xgrad::metrics {

/// @brief The fraction of positions where predicted equals expected (same shape, one or more).
double accuracy(const array& predicted, const array& expected);

}  // namespace xgrad::metrics
