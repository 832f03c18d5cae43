// Learning-rate schedules: constant, time-based, exponential, step, cosine annealing (with or
// without warm restarts), one-cycle (torch's OneCycleLR phases).
#include "xgrad/optim/schedules.hpp"

#include <array>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace xgrad::optim {

Schedule constant_rate(double initial) {
    return [initial](std::size_t) { return initial; };
}

Schedule time_based_decay(double initial, double k) {
    return [initial, k](std::size_t t) { return initial / (1.0 + k * static_cast<double>(t)); };
}

Schedule exponential_decay(double initial, double k) {
    return [initial, k](std::size_t t) { return initial * std::exp(-k * static_cast<double>(t)); };
}

Schedule step_decay(double initial, double drop, std::size_t every) {
    if (every == 0) throw std::invalid_argument("step_decay: every must be > 0");
    return [initial, drop, every](std::size_t t) {
        return initial * std::pow(drop, static_cast<double>(t / every));
    };
}

Schedule cosine_warm_restarts(double initial, std::size_t first_cycle, std::size_t cycle_growth,
                              double minimum) {
    if (first_cycle == 0 || cycle_growth == 0) {
        throw std::invalid_argument("cosine_warm_restarts: cycle lengths must be > 0");
    }
    return [=](std::size_t t) {
        std::size_t cycle = first_cycle;
        while (t >= cycle) {  // skip whole cycles, each cycle_growth times longer
            t -= cycle;
            cycle *= cycle_growth;
        }
        const double progress = static_cast<double>(t) / static_cast<double>(cycle);
        return minimum + 0.5 * (initial - minimum) * (1.0 + std::cos(M_PI * progress));
    };
}

Schedule cosine_annealing(double initial, std::size_t period, double minimum) {
    if (period == 0) throw std::invalid_argument("cosine_annealing: period must be > 0");
    return [=](std::size_t t) {
        const double progress = static_cast<double>(t) / static_cast<double>(period);
        return minimum + 0.5 * (initial - minimum) * (1.0 + std::cos(M_PI * progress));
    };
}

Schedule one_cycle(double max_rate, std::size_t total_steps, double pct_start, double div_factor,
                   double final_div_factor, Anneal anneal, bool three_phase) {
    if (total_steps == 0) throw std::invalid_argument("one_cycle: total_steps must be > 0");
    if (!(pct_start >= 0.0 && pct_start <= 1.0)) {
        std::ostringstream text;
        text << "one_cycle: pct_start must be in [0, 1], got " << pct_start;
        throw std::invalid_argument(text.str());
    }
    if (!(div_factor > 0.0 && final_div_factor > 0.0)) {
        throw std::invalid_argument("one_cycle: div_factor and final_div_factor must be > 0");
    }
    struct Phase {
        double end_step, start_rate, end_rate;
    };
    const double initial = max_rate / div_factor;
    const double minimum = initial / final_div_factor;
    const double total = static_cast<double>(total_steps);
    std::array<Phase, 3> phases{};
    std::size_t count = 2;
    phases[0] = {pct_start * total - 1.0, initial, max_rate};
    if (three_phase) {
        phases[1] = {2.0 * pct_start * total - 2.0, max_rate, initial};
        phases[2] = {total - 1.0, initial, minimum};
        count = 3;
    } else {
        phases[1] = {total - 1.0, max_rate, minimum};
    }
    return [=](std::size_t t) {
        if (t >= total_steps) return minimum;
        const auto step = static_cast<double>(t);
        double start_step = 0.0;
        for (std::size_t i = 0; i < count; ++i) {
            const Phase& phase = phases[i];
            if (step <= phase.end_step || i + 1 == count) {
                const double span = phase.end_step - start_step;
                const double pct = span == 0.0 ? 1.0 : (step - start_step) / span;
                if (anneal == Anneal::linear) {
                    return (phase.end_rate - phase.start_rate) * pct + phase.start_rate;
                }
                // torch's _annealing_cos, term for term
                const double cos_out = std::cos(M_PI * pct) + 1.0;
                return phase.end_rate + (phase.start_rate - phase.end_rate) / 2.0 * cos_out;
            }
            start_step = phase.end_step;
        }
        return minimum;
    };
}

}  // namespace xgrad::optim
