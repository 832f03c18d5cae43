// Deprecated path, kept for one release: the header is now xgrad/data/io.hpp.
#pragma once

#include "xgrad/data/io.hpp"
