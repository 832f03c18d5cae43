// Deprecated path, kept for one release: the header is now xgrad/core/autograd.hpp.
#pragma once

#include "xgrad/core/autograd.hpp"
