// Deprecated path, kept for one release: the header is now xgrad/check/graphviz.hpp.
#pragma once

#include "xgrad/check/graphviz.hpp"
