// SGD with momentum, Nesterov and weight decay, the update torch.optim.SGD makes.
#include "xgrad/optim/sgd.hpp"

#include <algorithm>

#include "backend/worker_pool.hpp"

namespace xgrad::optim {

SGD::SGD(std::vector<Var> params, double learning_rate, double momentum, bool nesterov,
         double weight_decay)
    : Optimizer(std::move(params), learning_rate),
      momentum_(momentum),
      nesterov_(nesterov),
      weight_decay_(weight_decay) {
    if (nesterov && momentum <= 0.0) {
        throw std::invalid_argument("SGD: Nesterov momentum needs momentum > 0");
    }
}

namespace {
/// @brief One SGD update of n elements, split between threads by ranges of elements.
struct SgdUpdate {
    double* p;
    const double* g;
    double* velocity;  // null without momentum
    std::size_t n, part_size;
    double learning_rate, momentum, weight_decay;
    bool nesterov, first;

    static void run_part(void* context, std::size_t part) {
        const SgdUpdate& u = *static_cast<const SgdUpdate*>(context);
        const std::size_t begin = std::min(u.n, part * u.part_size);
        const std::size_t end = std::min(u.n, begin + u.part_size);
        if (u.velocity == nullptr && u.weight_decay == 0.0) {  // plain SGD: a vectorisable loop
            for (std::size_t i = begin; i < end; ++i) u.p[i] -= u.learning_rate * u.g[i];
            return;
        }
        for (std::size_t i = begin; i < end; ++i) {
            double d = u.g[i];
            if (u.weight_decay != 0.0) d += u.weight_decay * u.p[i];
            if (u.velocity != nullptr) {
                u.velocity[i] = u.first ? d : u.momentum * u.velocity[i] + d;
                d = u.nesterov ? d + u.momentum * u.velocity[i] : u.velocity[i];
            }
            u.p[i] -= u.learning_rate * d;
        }
    }
};
constexpr std::size_t min_update_per_part = std::size_t{1} << 16;
}  // namespace

void SGD::step() {
    check_shapes({&velocity_});
    const bool first = velocity_.empty();
    if (first && momentum_ != 0.0) velocity_ = zero_state();
    for (std::size_t k = 0; k < params_.size(); ++k) {
        const std::size_t n = params_[k].value().size();
        const std::size_t parts = detail::parallel_parts(n, min_update_per_part);
        SgdUpdate update{params_[k].mutable_value().data(),
                         params_[k].grad().data(),
                         momentum_ != 0.0 ? velocity_[k].data() : nullptr,
                         n,
                         (n + parts - 1) / parts,
                         learning_rate_,
                         momentum_,
                         weight_decay_,
                         nesterov_,
                         first};
        detail::run_in_parallel(parts, &SgdUpdate::run_part, &update);
    }
}

}  // namespace xgrad::optim
