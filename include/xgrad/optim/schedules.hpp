// Learning-rate schedules: constant, time-based, exponential, step, cosine with warm restarts.
#pragma once

#include <cstddef>
#include <functional>

namespace xgrad::optim {

/// @brief A learning-rate schedule: the rate for epoch t (from 0), a double. Feed it to
/// Optimizer::set_learning_rate before each epoch. Calling a schedule never throws.
using Schedule = std::function<double(std::size_t epoch)>;

/// @brief α₀ for every t.
/// @return the schedule; never throws.
Schedule constant_rate(double initial);

/// @brief Time-based (inverse-time) decay α₀ / (1 + k·t), Keras's InverseTimeDecay with
/// decay_steps 1.
/// @param initial α₀.
/// @param k the decay rate (k = 0: constant).
/// @return the schedule; never throws (k is not checked: with k < 0 the rate grows).
Schedule time_based_decay(double initial, double k);

/// @brief Exponential decay α₀·e^(−k·t): torch.optim.lr_scheduler.ExponentialLR with
/// gamma = e^(−k).
/// @param initial α₀.
/// @param k the decay rate per epoch.
/// @return the schedule; never throws.
Schedule exponential_decay(double initial, double k);

/// @brief Step decay α₀·drop^⌊t / every⌋: torch.optim.lr_scheduler.StepLR with
/// gamma = drop and step_size = every.
/// @param initial α₀.
/// @param drop the factor applied every `every` epochs (e.g. 0.5).
/// @param every the epochs between drops, > 0.
/// @return the schedule.
/// @throw std::invalid_argument "step_decay: every must be > 0" for every = 0.
Schedule step_decay(double initial, double drop, std::size_t every);

/// @brief Cosine annealing with warm restarts, SGDR (Loshchilov & Hutter 2017,
/// arXiv:1608.03983), torch.optim.lr_scheduler.CosineAnnealingWarmRestarts stepped once per
/// epoch: within a cycle of length Tᵢ, at epoch t_cur of it,
///   η = η_min + ½(α₀ − η_min)(1 + cos(π·t_cur / Tᵢ)),
/// where the first cycle lasts T₀ = `first_cycle` epochs and each next one `cycle_growth`
/// (T_mult) times longer; each cycle starts again at α₀.
/// @param initial α₀, the rate at the start of every cycle.
/// @param first_cycle T₀ > 0.
/// @param cycle_growth T_mult > 0 (1: cycles of equal length).
/// @param minimum η_min, approached at the end of each cycle.
/// @return the schedule.
/// @throw std::invalid_argument "cosine_warm_restarts: cycle lengths must be > 0" for
/// first_cycle = 0 or cycle_growth = 0.
Schedule cosine_warm_restarts(double initial, std::size_t first_cycle, std::size_t cycle_growth = 1,
                              double minimum = 0.0);

}  // namespace xgrad::optim
