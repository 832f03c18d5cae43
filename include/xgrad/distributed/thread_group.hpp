// A group of ranks that are threads of one process: data-parallel code tested without MPI.
#pragma once

#include <cstddef>
#include <functional>

#include "xgrad/distributed/communicator.hpp"

namespace xgrad::distributed {

/// @brief Runs body(comm) on `ranks` threads at once, each with the Communicator of its rank in
/// one group of `ranks`: the collectives of MPI's communicator, with the same fixed-order sums
/// (in rank order here), between threads. For testing data-parallel code without mpirun.
/// When a body throws, the ranks waiting in a collective throw distributed_error ("rank R
/// failed"), and run_ranks rethrows, after every thread has ended, the exception of the lowest
/// rank that failed first-hand. Communicator::abort() throws distributed_error instead of
/// ending the process. An allreduce or broadcast whose count differs between ranks (a misuse
/// MPI does not survive) throws distributed_error on every rank ("allreduce_sum: rank R passes
/// N elements; rank 0 passes M") instead of reading past a rank's data; the group stays usable.
/// @throw std::invalid_argument for ranks = 0; what the bodies throw, as above.
void run_ranks(std::size_t ranks, const std::function<void(Communicator&)>& body);

}  // namespace xgrad::distributed
