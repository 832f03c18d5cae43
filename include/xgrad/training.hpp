// Deprecated path, kept for one release: the header is now xgrad/optim/training.hpp.
#pragma once

#include "xgrad/optim/training.hpp"
