// Learning-rate schedules: constant, time-based, exponential, step, cosine with warm restarts.
#include "xgrad/optim/schedules.hpp"

#include <cmath>
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

}  // namespace xgrad::optim
