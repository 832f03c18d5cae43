// The AVX-512 kernels (8 doubles per vector). This file alone is compiled for AVX-512 F, CD,
// DQ, BW and VL with FMA (CMakeLists.txt; without DQ, xsimd emulates the bitwise operations on
// doubles and exp runs at half speed); it includes only templates over its math policy, so none
// of its code can stand in for the rest of the library's, and it runs only where the CPU has all
// of them (kernels(), elementwise_dispatch.cpp).
// xsimd 8 has two functions that are not templates over the instruction set (sin/cos/tan's
// argument reduction for huge x); inline, each kernel file would emit its own copy under the same
// name and the linker keep one for all, maybe this file's, for a CPU without this set. Here they
// get this file's own names. (Every other symbol of this file names its instruction set:
// `nm -C --defined-only` on the object lists none that does not.)
#define __kernel_rem_pio2 xgrad_avx512_kernel_rem_pio2
#define __ieee754_rem_pio2 xgrad_avx512_ieee754_rem_pio2

#include "backend/elementwise_loops.hpp"
#include "backend/math_simd.hpp"

namespace xgrad::detail {

const KernelTable* avx512_kernel_table() {
    static const KernelTable table =
        kernel_loops::make_kernel_table<SimdMath<xsimd::avx512bw>>("avx512");
    return &table;
}

}  // namespace xgrad::detail
