/***************************************************************************
 * xgrad example: forward against reverse mode, the course exercise.       *
 *                                                                          *
 * For f: ℝⁿ → ℝᵐ the Jacobian J (m×n) can be built two ways:               *
 * - reverse mode (xgrad::jacobian): one backward pass gives one row,       *
 *   uᵀJ for a one-hot u (a vector-Jacobian product), so the whole J takes  *
 *   m passes: cheap for many inputs and few outputs (a loss: m = 1).       *
 * - forward mode (xgrad::jacobian_forward): one tangent pass gives one     *
 *   column, J·t for a one-hot t (a Jacobian-vector product), so J takes    *
 *   n passes: cheap for few inputs and many outputs.                       *
 * Each pass costs a small multiple of evaluating f, so the costs are       *
 * O(m)·cost(f) against O(n)·cost(f). The table times both on              *
 * f1(x) = Σ sin(xᵢ)·xᵢ² + (Σ x)²       ℝ¹⁰⁰⁰ → ℝ       (n = 1000, m = 1)   *
 * f2(t) = (sin(c_k·t)·e^(−t))_k       ℝ → ℝ¹⁰⁰⁰       (n = 1, m = 1000)   *
 * f3(x) = tanh(A·x)                   ℝ¹⁰⁰ → ℝ¹⁰⁰     (n = m = 100)       *
 * and checks both against each other and against the closed forms. Then a  *
 * Hessian-vector product H·v of f1 both ways: reverse over reverse (the    *
 * gradient of ∇f·v) and forward over reverse (one tangent pass through the *
 * gradient's graph).                                                       *
 * Times are medians of several runs (std::chrono::steady_clock).           *
 *                                                                          *
 * Usage: forward_vs_reverse [REPETITIONS]   (default 7; exit status 1 if   *
 *        the two modes or the closed forms disagree)                       *
 ***************************************************************************/
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "course_functions.hpp"

namespace {

using xgrad::array;
using xgrad::Var;
namespace course = xgrad::course;

/// @brief The median time in milliseconds of `repetitions` runs of `work`.
double median_ms(int repetitions, const std::function<void()>& work) {
    std::vector<double> times;
    for (int r = 0; r < repetitions; ++r) {
        const auto start = std::chrono::steady_clock::now();
        work();
        const auto stop = std::chrono::steady_clock::now();
        times.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::sort(times.begin(), times.end());
    const std::size_t mid = times.size() / 2;
    return times.size() % 2 == 1 ? times[mid] : 0.5 * (times[mid - 1] + times[mid]);
}

/// @brief One row of the table: f, its input and output, and J's closed form.
struct Case {
    std::string name;
    Var input;
    Var output;
    array closed;
    std::function<Var()> evaluate;  ///< builds f's graph afresh at the same point: cost(f)
};

bool run_case(const Case& c, int repetitions) {
    const std::size_t n = c.input.size(), m = c.output.size();
    array reverse, forward;
    const double reverse_ms =
        median_ms(repetitions, [&] { reverse = xgrad::jacobian(c.output, c.input); });
    const double forward_ms =
        median_ms(repetitions, [&] { forward = xgrad::jacobian_forward(c.output, c.input); });
    const double evaluate_ms = median_ms(repetitions, [&] { c.evaluate(); });
    const double between = course::max_abs_difference(reverse, forward);
    const double scale = std::max(1.0, double(xt::amax(xt::abs(c.closed))()));
    const double closed = std::max(course::max_abs_difference(reverse, c.closed),
                                   course::max_abs_difference(forward, c.closed));
    std::printf("  %-29s %5zu %5zu %8.3f %11.3f %8zu %11.3f %8zu %12.1e %12.1e   %s\n",
                c.name.c_str(), n, m, evaluate_ms, reverse_ms, m, forward_ms, n, between, closed,
                reverse_ms * 1.25 < forward_ms   ? "reverse"
                : forward_ms * 1.25 < reverse_ms ? "forward"
                                                 : "similar");
    return between <= 1e-12 * scale && closed <= 1e-12 * scale;
}

bool hessian_vector_products(int repetitions) {
    const std::size_t n = 1000;
    const array x0 = course::course_input(n);
    array v = array::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) v(i) = std::sin(0.9 * static_cast<double>(i));
    const Var x = xgrad::parameter(x0);
    const Var f = course::f1(x);
    std::vector<array> rr, fr;
    const double rr_ms = median_ms(repetitions, [&] {
        rr = xgrad::hessian_vector_product(f, {x}, {v}, xgrad::hvp_mode::reverse_over_reverse);
    });
    const double fr_ms = median_ms(repetitions, [&] {
        fr = xgrad::hessian_vector_product(f, {x}, {v}, xgrad::hvp_mode::forward_over_reverse);
    });
    const array closed = course::f1_hessian_times(x0, v);
    const double between = course::max_abs_difference(rr[0], fr[0]);
    const double to_closed = std::max(course::max_abs_difference(rr[0], closed),
                                      course::max_abs_difference(fr[0], closed));
    std::printf(
        "\nHessian-vector product H·v of f1 (n = %zu): one gradient graph, then one more pass\n"
        "  %-24s %10s\n"
        "  %-24s %10.3f\n"
        "  %-24s %10.3f\n"
        "  max |difference| between the modes %.1e, against the closed form\n"
        "  (diag(2 sin x + 4x cos x − x² sin x) + 2·11ᵀ)·v: %.1e\n"
        "  Either way H·v costs a few gradients, not the n = %zu passes of the full Hessian.\n",
        n, "mode", "ms", "reverse over reverse", rr_ms, "forward over reverse", fr_ms, between,
        to_closed, n);
    const double scale = std::max(1.0, double(xt::amax(xt::abs(closed))()));
    return between <= 1e-12 * scale && to_closed <= 1e-12 * scale;
}

}  // namespace

int main(int argc, char** argv) {
    const int repetitions = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
    std::printf(
        "Forward against reverse mode: the full Jacobian of f: R^n -> R^m (median of %d runs)\n"
        "  reverse (xgrad::jacobian): one backward pass per output   -> m passes, O(m)·cost(f)\n"
        "  forward (xgrad::jacobian_forward): one tangent pass per input -> n passes, "
        "O(n)·cost(f)\n\n",
        repetitions);
    std::printf("  %-29s %5s %5s %8s %11s %8s %11s %8s %12s %12s   %s\n", "f", "n", "m", "f ms",
                "reverse ms", "passes", "forward ms", "passes", "max|rev-fwd|", "max|-closed|",
                "faster");

    std::vector<Case> cases;
    {
        const array x = course::course_input(1000);
        Var input = xgrad::parameter(x);
        cases.push_back({"f1 = sum sin(x)x^2+(sum x)^2", input, course::f1(input),
                         course::f1_gradient(x), [x] { return course::f1(xgrad::parameter(x)); }});
    }
    {
        const array c = course::frequencies(1000);
        const double t = 0.8;
        Var input = xgrad::parameter(t);
        cases.push_back({"f2 = sin(c t) exp(-t)", input, course::f2(input, c),
                         course::f2_derivative(t, c),
                         [c, t] { return course::f2(xgrad::parameter(t), c); }});
    }
    {
        const array A = course::square_matrix(100);
        const array x = course::course_input(100);
        Var input = xgrad::parameter(x);
        cases.push_back({"f3 = tanh(A x)", input, course::f3(input, A), course::f3_jacobian(x, A),
                         [A, x] { return course::f3(xgrad::parameter(x), A); }});
    }
    bool ok = true;
    for (const Case& c : cases) ok = run_case(c, repetitions) && ok;
    std::printf(
        "\n  f ms: one evaluation of f (building its graph); a pass costs a small multiple of it.\n"
        "  f1 has one output: reverse mode needs 1 pass where forward needs 1000.\n"
        "  f2 has one input: forward mode needs 1 pass where reverse needs 1000.\n"
        "  f3 is square: both need 100 passes; what differs is the cost of one pass.\n"
        "  A gradient of a loss (m = 1) is why training uses reverse mode (backpropagation).\n");
    ok = hessian_vector_products(repetitions) && ok;
    std::printf("\n%s\n", ok ? "both modes agree with each other and the closed forms to 1e-12"
                             : "DISAGREEMENT beyond 1e-12");
    return ok ? 0 : 1;
}
