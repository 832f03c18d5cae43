// Deprecated path, kept for one release: the header is now xgrad/core/var.hpp.
#pragma once

#include "xgrad/core/var.hpp"
