// Deprecated path, kept for one release: the header is now xgrad/backend/blas.hpp.
#pragma once

#include "xgrad/backend/blas.hpp"
