// A custom op written outside the library: the Huber loss as an xgrad::Function with all its
// rules (backward, backward_as_graph for second derivatives, tangent for forward mode), checked
// against central differences, then used to fit a line through data with outliers, beside the
// same fit by mean squared error.
#include <cmath>
#include <cstdio>
#include <vector>

#include <xtensor/xmath.hpp>

#include "xgrad/check/gradcheck.hpp"
#include "xgrad/core/function.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/xgrad.hpp"

#include "huber_op.hpp"

using namespace xgrad;

using examples::huber_function;

/// @brief Fits y ≈ w·x + b by full-batch gradient descent on `loss`, from w = b = 0.
std::pair<double, double> fit(const Var& x, const Var& y, bool robust) {
    const Var w = parameter(0.0);
    const Var b = parameter(0.0);
    const Function h = huber_function(1.0);
    const Var prediction = x * w + b;
    Tape tape(robust ? h({prediction, y}) : mse(prediction, y));
    optim::SGD sgd({w, b}, robust ? 1.0 : 0.05, 0.9);
    for (int step = 0; step < 2000; ++step) {
        tape.forward();
        sgd.zero_grad();
        tape.backward();
        sgd.step();
    }
    return {w.item(), b.item()};
}

int main() {
    // y = 2x + 1 with a little noise, and one point in eight thrown far off.
    Random rng(7);
    const std::size_t n = 64;
    array xs = array::from_shape({n});
    array ys = array::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        xs(i) = rng.uniform(-3.0, 3.0);
        ys(i) = 2.0 * xs(i) + 1.0 + rng.normal(0.0, 0.2);
        if (i % 8 == 0) ys(i) += rng.uniform(15.0, 30.0);  // outliers, all above the line
    }
    const Var x = constant(xs);
    const Var y = constant(ys);

    // Gradient checks of the op: first order, and second order through backward_as_graph.
    const Var p = parameter(array{0.3, -2.0, 1.7, -0.4, 2.6});
    const Var t = parameter(array{0.1, 0.4, -0.3, 0.2, 0.3});
    const Function h = huber_function(1.0);
    const GradcheckReport first = gradcheck([&] { return h({p, t}); }, {p, t});
    const GradcheckReport second = gradgradcheck([&] { return h({p, t}); }, {p, t});
    std::printf("gradcheck (first order):      %s\n%s", first.passed ? "passed" : "FAILED",
                first.to_string().c_str());
    std::printf("gradgradcheck (second order): %s\n%s", second.passed ? "passed" : "FAILED",
                second.to_string().c_str());
    // Forward mode agrees with reverse mode.
    const array forward = jacobian_forward(h({p, t}), p);
    const array reverse = jacobian(h({p, t}), p);
    const double gap = xt::amax(xt::abs(forward - reverse))();
    std::printf("forward-mode Jacobian vs reverse: max difference %.2e\n\n", gap);

    const auto [w_mse, b_mse] = fit(x, y, false);
    const auto [w_huber, b_huber] = fit(x, y, true);
    std::printf("fit of y = 2x + 1 with %zu outliers in %zu points:\n", n / 8, n);
    std::printf("  mean squared error: w = %.3f, b = %.3f\n", w_mse, b_mse);
    std::printf("  Huber (delta = 1):  w = %.3f, b = %.3f\n", w_huber, b_huber);
    const bool ok = first.passed && second.passed && gap < 1e-12 && std::abs(w_huber - 2.0) < 0.1 &&
                    std::abs(b_huber - 1.0) < 0.5;
    std::printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
