// Deprecated path, kept for one release: the header is now xgrad/ops/losses.hpp.
#pragma once

#include "xgrad/ops/losses.hpp"
