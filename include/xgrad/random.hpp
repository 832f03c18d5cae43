// Deprecated path, kept for one release: the header is now xgrad/core/random.hpp.
#pragma once

#include "xgrad/core/random.hpp"
