// (being written)
#include <gtest/gtest.h>
TEST(BeingWritten, Placeholder) {}
