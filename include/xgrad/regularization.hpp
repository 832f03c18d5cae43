// Deprecated path, kept for one release: the header is now xgrad/ops/regularization.hpp.
#pragma once

#include "xgrad/ops/regularization.hpp"
