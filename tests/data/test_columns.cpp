// (being written)
#include "support.hpp"
