// run_in_parallel and parallel_parts: splitting a kernel between the BLAS threads.
// A few persistent worker threads for the kernels that split their rows between cores. Work is
// handed over as a function pointer and a context, so that a call allocates nothing.
#pragma once

#include <cstddef>

namespace xgrad::detail {

/// @brief Runs task(context, k) for k = 0 … parts−1, part 0 on the calling thread and the others
/// on workers started on first use; returns when all are done. Calls from several threads at
/// once take turns.
void run_in_parallel(std::size_t parts, void (*task)(void* context, std::size_t part),
                     void* context);

/// @brief How many parts a kernel should split into: the BLAS thread count (the one thread
/// setting xgrad has), but one part per `min_work` elements of work at least.
std::size_t parallel_parts(std::size_t work, std::size_t min_work);

}  // namespace xgrad::detail
