// The scalar kernels: the rules on one double at a time, with the C library's functions. Built
// with the library's default flags; the reference the vector kernels are tested against.
#include "backend/elementwise_loops.hpp"
#include "backend/math_scalar.hpp"

namespace xgrad::detail {

const KernelTable& scalar_kernel_table() {
    static const KernelTable table = kernel_loops::make_kernel_table<ScalarMath>("scalar");
    return table;
}

}  // namespace xgrad::detail
