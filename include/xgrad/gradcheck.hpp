// Deprecated path, kept for one release: the header is now xgrad/check/gradcheck.hpp.
#pragma once

#include "xgrad/check/gradcheck.hpp"
