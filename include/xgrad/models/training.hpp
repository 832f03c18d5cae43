// Deprecated path, kept for one release: the header is now xgrad/models/train_options.hpp.
#pragma once

#include "xgrad/models/train_options.hpp"
