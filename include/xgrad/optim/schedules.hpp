// Learning-rate schedules: constant, time-based, exponential, step, cosine with warm restarts.
#pragma once

#include <cstddef>
#include <functional>

namespace xgrad::optim {

/// @brief A learning-rate schedule: the rate for epoch t (from 0).
using Schedule = std::function<double(std::size_t epoch)>;

/// @brief α₀ always.
Schedule constant_rate(double initial);
/// @brief Time-based decay α₀ / (1 + k·t).
Schedule time_based_decay(double initial, double k);
/// @brief Exponential decay α₀·e^(−k·t).
Schedule exponential_decay(double initial, double k);
/// @brief Step decay α₀·drop^⌊t / every⌋.
Schedule step_decay(double initial, double drop, std::size_t every);
/// @brief Cosine annealing with warm restarts (SGDR): within a cycle of length Tᵢ,
/// η_min + ½(α₀ − η_min)(1 + cos(π·t_cur / Tᵢ)); the first cycle lasts `first_cycle` epochs and
/// each next one `cycle_growth` times longer.
Schedule cosine_warm_restarts(double initial, std::size_t first_cycle, std::size_t cycle_growth = 1,
                              double minimum = 0.0);

}  // namespace xgrad::optim
