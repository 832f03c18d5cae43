// Deprecated path, kept for one release: the header is now xgrad/core/errors.hpp.
#pragma once

#include "xgrad/core/errors.hpp"
