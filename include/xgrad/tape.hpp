// Deprecated path, kept for one release: the header is now xgrad/core/tape.hpp.
#pragma once

#include "xgrad/core/tape.hpp"
