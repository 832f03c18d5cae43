// Deprecated path, kept for one release: the header is now xgrad/models/metrics.hpp.
#pragma once

#include "xgrad/models/metrics.hpp"
