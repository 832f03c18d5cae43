/***************************************************************************
 * xgrad example: numerical against automatic derivatives.                  *
 *                                                                          *
 * On the logistic-regression graph (standardised breast-cancer data), the  *
 * step h of forward and central differences is swept from 1e-1 to 1e-13:   *
 * the error against backprop falls with h (truncation) until rounding      *
 * takes over, the classic V. Then gradcheck and gradgradcheck.             *
 *                                                                          *
 * Usage: gradient_check [DATA_DIR] [OUT_DIR]                               *
 ***************************************************************************/
#include <cmath>
#include <cstdio>
#include <random>

#include "example_data.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/plot/svg_plot.hpp"
#include "xgrad/xgrad.hpp"

int main(int argc, char** argv) {
    try {
        const auto [data_dir, out_dir] = xgrad::examples::parse_arguments(argc, argv);
        const xgrad::data::Dataset d = xgrad::examples::standardized_breast_cancer(data_dir);
        std::mt19937_64 rng(2026);
        std::normal_distribution<double> normal(0.0, 0.3);
        xgrad::array w0 = xt::zeros<double>({d.features.shape()[1]});
        for (double& v : w0) v = normal(rng);
        xgrad::Var w = xgrad::parameter(w0);
        xgrad::Var b = xgrad::parameter(0.1);
        const auto f = [&] { return xgrad::examples::logistic_objective(d, w, b, 1.0); };

        std::vector<double> steps;
        for (int e = -1; e >= -13; --e) steps.push_back(std::pow(10.0, e));
        const auto rows = xgrad::finite_difference_sweep(f, {w, b}, steps);
        std::printf("Finite differences against backprop, logistic regression on breast cancer\n");
        std::printf("(31 parameters; error = max |numeric - autodiff| / max |autodiff|)\n\n");
        std::printf("  %-8s  %-14s  %-14s\n", "h", "forward", "central");
        const xgrad::StepSweepRow* best_forward = &rows.front();
        const xgrad::StepSweepRow* best_central = &rows.front();
        xgrad::plot::Series forward{"forward difference", {}, {}, true};
        xgrad::plot::Series central{"central difference", {}, {}, true};
        for (const auto& row : rows) {
            std::printf("  %-8.0e  %-14.3e  %-14.3e\n", row.step, row.forward_error,
                        row.central_error);
            if (row.forward_error < best_forward->forward_error) best_forward = &row;
            if (row.central_error < best_central->central_error) best_central = &row;
            forward.x.push_back(row.step);
            forward.y.push_back(row.forward_error);
            central.x.push_back(row.step);
            central.y.push_back(row.central_error);
        }
        std::printf("\n  best forward: h = %.0e, error %.2e (theory: h ~ sqrt(eps) = 1.5e-8)\n",
                    best_forward->step, best_forward->forward_error);
        std::printf("  best central: h = %.0e, error %.2e (theory: h ~ cbrt(eps) = 6.1e-6)\n",
                    best_central->step, best_central->central_error);

        const std::string svg_path = out_dir + "/gradient_check.svg";
        xgrad::write_file_atomically(
            svg_path, xgrad::plot::line_plot_svg(
                          {forward, central}, {"Finite-difference error against backprop", "step h",
                                               "max relative error", true, true, 760, 480}));
        std::printf("  plot: %s\n\n", svg_path.c_str());

        const xgrad::GradcheckReport first = xgrad::gradcheck(f, {w, b});
        std::printf("gradcheck (h = 1e-6, atol 1e-5, rtol 1e-3): %s\n%s",
                    first.passed ? "passed" : "FAILED", first.to_string().c_str());
        const xgrad::GradcheckReport second = xgrad::gradgradcheck(f, {w, b});
        std::printf(
            "gradgradcheck (Hessian by backprop through backprop vs differences of the "
            "gradient): %s\n%s",
            second.passed ? "passed" : "FAILED", second.to_string().c_str());
        return first.passed && second.passed ? 0 : 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "gradient_check: %s\n", error.what());
        return 2;
    }
}
