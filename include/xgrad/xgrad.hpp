/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include "xgrad/autograd.hpp"
#include "xgrad/blas.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/gradcheck.hpp"
#include "xgrad/graphviz.hpp"
#include "xgrad/losses.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/tape.hpp"
#include "xgrad/var.hpp"
