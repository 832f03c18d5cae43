// Random: seeded random numbers that are the same on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace xgrad {

/// @brief A seeded source of random numbers that gives the same sequence on every platform
/// (std::normal_distribution and std::shuffle do not promise that).
class Random {
  public:
    explicit Random(std::uint64_t seed) : engine_(seed) {}

    /// @brief Uniform in [low, high), from 53 random bits.
    double uniform(double low = 0.0, double high = 1.0);
    /// @brief Normal by the Box-Muller transform.
    double normal(double mean = 0.0, double deviation = 1.0);
    /// @brief Uniform whole number in [0, n).
    std::size_t index(std::size_t n);
    /// @brief Shuffles in place (Fisher-Yates).
    void shuffle(std::vector<std::size_t>& items);
    /// @brief 0, 1, ..., n−1 in random order.
    std::vector<std::size_t> permutation(std::size_t n);

  private:
    std::mt19937_64 engine_;
};

}  // namespace xgrad
