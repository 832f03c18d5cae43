// Data-parallel training over MPI in one include (xgrad::distributed, built when MPI is found):
// the communicator, shards, the parameter broadcast and the gradient all-reduce.
#pragma once

#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/gradients.hpp"
#include "xgrad/distributed/mpi.hpp"
#include "xgrad/distributed/thread_group.hpp"
