// Learning-rate schedules: constant, time-based, exponential, step, cosine annealing (with or
// without warm restarts), one-cycle.
#pragma once

#include <cstddef>
#include <functional>

namespace xgrad::optim {

/// @brief A learning-rate schedule: the rate for epoch t (from 0), a double. Feed it to
/// Optimizer::set_learning_rate before each epoch (or before each step, for a schedule counted
/// in steps such as one_cycle). Calling a schedule never throws.
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

/// @brief Cosine annealing, torch.optim.lr_scheduler.CosineAnnealingLR with T_max = `period`:
///   η_t = η_min + ½(α₀ − η_min)(1 + cos(π·t / T_max)),
/// from α₀ at t = 0 down to η_min at t = T_max. Past T_max it follows the same cosine back up
/// (period 2·T_max), as torch's does; use cosine_warm_restarts for restarts at α₀ instead.
/// @param initial α₀.
/// @param period T_max > 0.
/// @param minimum η_min.
/// @return the schedule.
/// @throw std::invalid_argument "cosine_annealing: period must be > 0" for period = 0.
Schedule cosine_annealing(double initial, std::size_t period, double minimum = 0.0);

/// @brief How one_cycle moves between its rates within a phase: anneal_strategy 'cos' or
/// 'linear' of torch's OneCycleLR.
enum class Anneal { cosine, linear };

/// @brief The one-cycle policy (Smith & Topin 2017, arXiv:1708.07120) as
/// torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps, pct_start,
/// anneal_strategy, cycle_momentum = False, div_factor, final_div_factor, three_phase), the
/// rate for step t = 0, 1, ..., total_steps − 1 (call it once per optimizer step, or per epoch
/// with total_steps = epochs). With η₀ = max_rate/div_factor and
/// η_min = η₀/final_div_factor, the phases end at step (fractional, as torch's):
///   two phases (default): η₀ → max_rate until pct_start·T − 1, then max_rate → η_min until T − 1;
///   three_phase: η₀ → max_rate until pct_start·T − 1, max_rate → η₀ until 2·pct_start·T − 2,
///                then η₀ → η_min until T − 1;
/// within a phase from step s to e, at pct = (t − s)/(e − s): cosine
/// end + (start − end)/2·(cos(π·pct) + 1), or linear start + (end − start)·pct.
/// Not supported: momentum cycling (cycle_momentum, base_momentum, max_momentum: a Schedule
/// is a rate only), per-group rates, epochs × steps_per_epoch (pass their product).
/// Differences from torch: for t ≥ total_steps the rate stays η_min (torch raises past
/// total_steps); a phase of length 0 (pct_start·T = 1, where torch divides by zero) gives its
/// end rate.
/// @param max_rate the peak rate.
/// @param total_steps T > 0.
/// @param pct_start the fraction of the steps spent rising, in [0, 1].
/// @param div_factor η₀ = max_rate/div_factor, > 0.
/// @param final_div_factor η_min = η₀/final_div_factor, > 0.
/// @return the schedule.
/// @throw std::invalid_argument "one_cycle: total_steps must be > 0", "one_cycle: pct_start
/// must be in [0, 1], got 1.5", "one_cycle: div_factor and final_div_factor must be > 0".
Schedule one_cycle(double max_rate, std::size_t total_steps, double pct_start = 0.3,
                   double div_factor = 25.0, double final_div_factor = 1e4,
                   Anneal anneal = Anneal::cosine, bool three_phase = false);

}  // namespace xgrad::optim
