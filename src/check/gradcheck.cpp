// gradcheck and gradgradcheck: central differences against autodiff; the step sweep.
#include "xgrad/check/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/tape.hpp"

namespace xgrad {

namespace {

/// @brief The output's value after writing `value` into one parameter entry and replaying.
double evaluate_at(Tape& tape, double& entry, double value) {
    const double original = entry;
    entry = value;
    tape.forward();
    const double result = tape.output().item();
    entry = original;
    return result;
}

/// @brief The gradient's values after writing `value` into one entry and replaying.
std::vector<array> gradient_at(Tape& tape, const std::vector<Var>& params, double& entry,
                               double value) {
    const double original = entry;
    entry = value;
    tape.forward();
    std::vector<array> result;
    for (const Var& g : grad(tape.output(), params)) result.push_back(g.value());
    entry = original;
    return result;
}

/// @brief Folds one (autodiff, numeric) pair into a parameter's check.
void compare(ParameterCheck& check, std::size_t entry, double autodiff, double numeric,
             const GradcheckOptions& options, double& worst_excess) {
    const double error = std::abs(autodiff - numeric);
    const double scale = std::max(std::abs(autodiff), std::abs(numeric));
    check.max_abs_error = std::max(check.max_abs_error, error);
    if (scale > 0.0) check.max_rel_error = std::max(check.max_rel_error, error / scale);
    const double excess = error - (options.atol + options.rtol * std::abs(numeric));
    if (excess > worst_excess || std::isnan(error)) {
        worst_excess = excess;
        check.worst_entry = entry;
        check.autodiff = autodiff;
        check.numeric = numeric;
    }
    if (!(excess <= 0.0)) check.passed = false;
}

Var build_output(const std::function<Var()>& f, const char* who) {
    Var output = f();
    if (output.size() != 1) {
        throw graph_error(std::string(who) + ": f must return a single number, got shape " +
                          format_shape(output.shape()));
    }
    return output;
}

}  // namespace

double normwise_relative_error(const array& actual, const array& reference) {
    if (actual.shape() != reference.shape()) {
        throw shape_error("normwise_relative_error: shapes " + format_shape(actual.shape()) +
                          " and " + format_shape(reference.shape()) + " differ");
    }
    double difference = 0.0;
    double scale = 0.0;
    for (std::size_t i = 0; i < reference.size(); ++i) {
        difference = std::max(difference, std::abs(actual.data()[i] - reference.data()[i]));
        scale = std::max(scale, std::abs(reference.data()[i]));
    }
    return scale > 0.0 ? difference / scale : difference;
}

std::string GradcheckReport::to_string() const {
    std::string text;
    char line[256];
    for (const ParameterCheck& c : parameters) {
        std::snprintf(line, sizeof line,
                      "parameter %zu: max abs error %.3e, max rel error %.3e, worst entry %zu "
                      "(autodiff %.12g, numeric %.12g) %s\n",
                      c.parameter, c.max_abs_error, c.max_rel_error, c.worst_entry, c.autodiff,
                      c.numeric, c.passed ? "ok" : "FAILED");
        text += line;
    }
    return text;
}

GradcheckReport gradcheck(const std::function<Var()>& f, const std::vector<Var>& params,
                          const GradcheckOptions& options) {
    Tape tape(build_output(f, "gradcheck"));
    const std::vector<Var> autodiff = grad(tape.output(), params);
    GradcheckReport report;
    for (std::size_t p = 0; p < params.size(); ++p) {
        ParameterCheck check;
        check.parameter = p;
        double worst_excess = -INFINITY;
        array& x = Var(params[p]).mutable_value();
        for (std::size_t i = 0; i < x.size(); ++i) {
            double& entry = x.data()[i];
            const double plus = evaluate_at(tape, entry, entry + options.step);
            const double minus = evaluate_at(tape, entry, entry - options.step);
            compare(check, i, autodiff[p].value().data()[i], (plus - minus) / (2.0 * options.step),
                    options, worst_excess);
        }
        report.passed = report.passed && check.passed;
        report.parameters.push_back(check);
    }
    tape.forward();  // leave every value as it was found
    return report;
}

GradcheckReport gradgradcheck(const std::function<Var()>& f, const std::vector<Var>& params,
                              const GradcheckOptions& options) {
    Tape tape(build_output(f, "gradgradcheck"));
    const array H = hessian(tape.output(), params);
    const std::size_t total = H.shape()[0];
    // Column j of the numeric Hessian: the central difference of the gradient along entry j.
    array numeric = xt::zeros<double>({total, total});
    std::size_t column = 0;
    for (const Var& param : params) {
        array& x = Var(param).mutable_value();
        for (std::size_t i = 0; i < x.size(); ++i, ++column) {
            double& entry = x.data()[i];
            const std::vector<array> plus = gradient_at(tape, params, entry, entry + options.step);
            const std::vector<array> minus = gradient_at(tape, params, entry, entry - options.step);
            std::size_t row = 0;
            for (std::size_t q = 0; q < params.size(); ++q) {
                for (std::size_t k = 0; k < plus[q].size(); ++k, ++row) {
                    numeric(row, column) =
                        (plus[q].data()[k] - minus[q].data()[k]) / (2.0 * options.step);
                }
            }
        }
    }
    tape.forward();
    GradcheckReport report;
    std::size_t row = 0;
    for (std::size_t p = 0; p < params.size(); ++p) {
        ParameterCheck check;
        check.parameter = p;
        double worst_excess = -INFINITY;
        for (std::size_t k = 0; k < params[p].size(); ++k, ++row) {
            for (std::size_t c = 0; c < total; ++c) {
                compare(check, k * total + c, H(row, c), numeric(row, c), options, worst_excess);
            }
        }
        report.passed = report.passed && check.passed;
        report.parameters.push_back(check);
    }
    return report;
}

std::vector<StepSweepRow> finite_difference_sweep(const std::function<Var()>& f,
                                                  const std::vector<Var>& params,
                                                  const std::vector<double>& steps) {
    Tape tape(build_output(f, "finite_difference_sweep"));
    const double f0 = tape.output().item();
    const std::vector<Var> autodiff = grad(tape.output(), params);
    double scale = 0.0;
    for (const Var& g : autodiff) {
        for (double v : g.value()) scale = std::max(scale, std::abs(v));
    }
    std::vector<StepSweepRow> rows;
    for (double h : steps) {
        double forward_error = 0.0;
        double central_error = 0.0;
        for (std::size_t p = 0; p < params.size(); ++p) {
            array& x = Var(params[p]).mutable_value();
            for (std::size_t i = 0; i < x.size(); ++i) {
                double& entry = x.data()[i];
                const double plus = evaluate_at(tape, entry, entry + h);
                const double minus = evaluate_at(tape, entry, entry - h);
                const double exact = autodiff[p].value().data()[i];
                forward_error = std::max(forward_error, std::abs((plus - f0) / h - exact));
                central_error =
                    std::max(central_error, std::abs((plus - minus) / (2.0 * h) - exact));
            }
        }
        rows.push_back({h, forward_error / scale, central_error / scale});
    }
    tape.forward();
    return rows;
}

}  // namespace xgrad
