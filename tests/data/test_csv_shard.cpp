// (being written)
#include <gtest/gtest.h>
TEST(CsvShard, BeingWritten) {}
