/***************************************************************************
 * xgrad example: first- against second-order optimisation.                 *
 *                                                                          *
 * L2-regularised logistic regression (λ = 1) on the standardised           *
 * breast-cancer data, trained by gradient descent, Adam, L-BFGS and Newton *
 * (IRLS with the autodiff Hessian). Prints the iterations and time each    *
 * needs to reach ‖∇f‖ < 1e-6 and plots f − f* against iteration.           *
 *                                                                          *
 * Usage: solver_comparison [DATA_DIR] [OUT_DIR]                            *
 ***************************************************************************/
#include <cstdio>
#include <functional>

#include "example_data.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/optim/solvers.hpp"
#include "xgrad/plot/svg_plot.hpp"
#include "xgrad/xgrad.hpp"

namespace {

struct Run {
    const char* name;
    xgrad::solvers::SolveResult result;
};

}  // namespace

int main(int argc, char** argv) {
    try {
        const auto [data_dir, out_dir] = xgrad::examples::parse_arguments(argc, argv);
        const xgrad::data::Dataset d = xgrad::examples::standardized_breast_cancer(data_dir);
        const std::size_t n = d.features.shape()[1];
        const double tolerance = 1e-6;

        using Solver = std::function<xgrad::solvers::SolveResult(const xgrad::Var&,
                                                                 const std::vector<xgrad::Var>&)>;
        const std::pair<const char*, Solver> solvers[] = {
            {"gradient descent (lr 1)",
             [&](const auto& f, const auto& p) {
                 return xgrad::solvers::gradient_descent(f, p, 1.0, {100000, tolerance});
             }},
            {"Adam (lr 0.05)",
             [&](const auto& f, const auto& p) {
                 return xgrad::solvers::adam(f, p, 0.05, {100000, tolerance});
             }},
            {"L-BFGS (history 10)",
             [&](const auto& f, const auto& p) {
                 xgrad::solvers::LbfgsOptions options;
                 options.stop = {10000, tolerance};
                 return xgrad::solvers::lbfgs(f, p, options);
             }},
            {"Newton (IRLS)",
             [&](const auto& f, const auto& p) {
                 return xgrad::solvers::newton(f, p, {100, tolerance});
             }},
        };
        std::vector<Run> runs;
        for (const auto& [name, solve] : solvers) {
            xgrad::Var w = xgrad::parameter(xt::zeros<double>({n}));
            xgrad::Var b = xgrad::parameter(0.0);
            runs.push_back(
                {name, solve(xgrad::examples::logistic_objective(d, w, b, 1.0), {w, b})});
        }

        double best = runs.front().result.objective;
        for (const Run& r : runs) best = std::min(best, r.result.objective);
        std::printf(
            "L2 logistic regression (λ = 1) on breast cancer, from w = 0, until ‖∇f‖ < %.0e\n\n",
            tolerance);
        std::printf("  %-24s %10s %12s %12s %20s\n", "method", "iterations", "evaluations",
                    "time (ms)", "final objective");
        std::vector<xgrad::plot::Series> series;
        for (const Run& r : runs) {
            std::printf("  %-24s %10zu %12zu %12.2f %20.15f%s\n", r.name, r.result.iterations,
                        r.result.evaluations, 1000.0 * r.result.seconds_history.back(),
                        r.result.objective, r.result.converged ? "" : "  (not converged)");
            xgrad::plot::Series s{r.name, {}, {}, r.result.iterations < 50};
            for (std::size_t k = 0; k < r.result.objective_history.size(); ++k) {
                s.x.push_back(static_cast<double>(k + 1));
                s.y.push_back(r.result.objective_history[k] - best + 1e-16);
            }
            series.push_back(std::move(s));
        }
        const std::string svg_path = out_dir + "/solver_comparison.svg";
        xgrad::write_file_atomically(
            svg_path, xgrad::plot::line_plot_svg(
                          series, {"Logistic regression on breast cancer: f - f* per iteration",
                                   "iteration + 1", "f - f* (+1e-16)", true, true, 860, 500}));
        std::printf("\n  f* = %.15f (the lowest objective reached)\n  plot: %s\n", best,
                    svg_path.c_str());
        for (const Run& r : runs) {
            if (!r.result.converged) return 1;
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "solver_comparison: %s\n", error.what());
        return 2;
    }
}
