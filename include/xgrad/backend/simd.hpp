// The instruction set of the elementwise kernels (every unary and binary elementwise op).
#pragma once

#include <string>

namespace xgrad {

/// @brief The instruction set the elementwise ops run on: "avx512" (8 doubles per vector),
/// "avx2" (4, with FMA) or "scalar" (the C library, one at a time). By default the widest this
/// CPU runs among those built; the environment variable XGRAD_SIMD names another at start-up.
/// The vector sets agree with "scalar" to 2 ulp in every function (README, "How it works",
/// vector kernels).
std::string simd_instruction_set();
/// @brief Makes the elementwise ops run on `name` ("avx512", "avx2", "scalar", or "native" for
/// the widest this CPU runs). Returns false, changing nothing, if that set was not built into
/// this library or this CPU cannot run it. Not for use while another thread runs ops.
bool set_simd_instruction_set(const std::string& name);

}  // namespace xgrad
