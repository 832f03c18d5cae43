// Deprecated path, kept for one release: the header is now xgrad/optim/solvers.hpp.
#pragma once

#include "xgrad/optim/solvers.hpp"
