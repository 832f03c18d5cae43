// nn::Dropout (a node that draws its mask on every forward pass, replays included) and
// nn::Flatten (the flatten shape op).
#include "xgrad/nn/layers.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/op.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::nn {

namespace {

/// @brief y = x ⊙ m/(1 − p), the mask m ~ Bernoulli(1 − p) drawn afresh by every forward().
class DropoutNode final : public detail::SingleInputNode {
  public:
    DropoutNode(const Var& x, double p, std::shared_ptr<Random> random)
        : SingleInputNode("dropout", x),
          keep_(1.0 - p),
          scale_(p < 1.0 ? 1.0 / (1.0 - p) : 0.0),
          random_(std::move(random)) {}

    void forward() override {
        const array& x = input(0).value();
        mask_.resize(x.shape());
        value_.resize(x.shape());
        double* m = mask_.data();
        double* y = value_.data();
        const double* in = x.data();
        for (std::size_t i = 0; i < x.size(); ++i) {
            m[i] = random_->uniform() < keep_ ? scale_ : 0.0;
            y[i] = in[i] * m[i];
        }
    }

  private:
    // dy/dx = m/(1 − p), the scaled mask of the last forward pass
    void backward_into(detail::Node& x) override {
        const detail::GradSink gx(x);
        const double* g = grad().data();
        const double* m = mask_.data();
        for (std::size_t i = 0; i < gx.size(); ++i) gx.put(i, g[i] * m[i]);
    }
    // the same product with the mask as a constant: the second derivative is 0
    Var gradient_as_graph(const Var& g) override { return g * constant(mask_); }
    // linear in x: J·t = t ⊙ m/(1 − p)
    array tangent_of(const array& t) override { return t * mask_; }

    double keep_;   // 1 − p
    double scale_;  // 1/(1 − p), 0 for p = 1 (nothing is kept)
    std::shared_ptr<Random> random_;
    array mask_;  // m/(1 − p) of the last forward pass
};

}  // namespace

Dropout::Dropout(double p, std::uint64_t seed) : p_(p), random_(std::make_shared<Random>(seed)) {
    if (!(p >= 0.0 && p <= 1.0)) {
        std::ostringstream text;
        text << "Dropout: p must be in [0, 1], got " << p;
        throw std::invalid_argument(text.str());
    }
}

Var Dropout::forward(const Var& x) {
    if (!is_training() || p_ == 0.0) return x;
    return detail::finish_op(std::make_shared<DropoutNode>(x, p_, random_));
}

Var Flatten::forward(const Var& x) {
    return flatten(x, start_dim_, end_dim_);
}

}  // namespace xgrad::nn
