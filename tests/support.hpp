/***************************************************************************
 * xgrad: test helpers                                                      *
 ***************************************************************************/
#pragma once

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/xgrad.hpp"

namespace xgrad::testing {

/// @brief The bytes of the file at `path` (empty if it cannot be read).
inline std::string slurp(const std::string& path) {
    std::stringstream s;
    s << std::ifstream(path, std::ios::binary).rdbuf();
    return s.str();
}

/// @brief Uniform values in [low, high) of the given shape, from a seeded generator.
inline array random_array(std::mt19937_64& rng, const shape_type& shape, double low = -1.0,
                          double high = 1.0) {
    std::uniform_real_distribution<double> dist(low, high);
    array a = array::from_shape(shape);
    for (auto& v : a) v = dist(rng);
    return a;
}

/// @brief m labels, each 0 or 1 with probability ½ (the rounded uniform draws of random_array).
inline array random_labels(std::mt19937_64& rng, std::size_t m) {
    return xt::round(random_array(rng, {m}, 0.0, 1.0));
}

/// @brief An (n, 1) matrix: xtensor cannot tell {{1}, {2}} from a nested 1-D list.
inline array column(std::initializer_list<double> values) {
    array a = array::from_shape({values.size(), std::size_t{1}});
    std::copy(values.begin(), values.end(), a.begin());
    return a;
}

/// @brief |a - b| / max(|a|, |b|, floor): a relative error that does not blow up at zero.
inline double relative_error(double a, double b, double floor = 1e-300) {
    const double scale = std::max({std::abs(a), std::abs(b), floor});
    return std::abs(a - b) / scale;
}

/// @brief The largest elementwise relative error between two arrays of the same shape.
inline double max_relative_error(const array& a, const array& b, double floor = 1e-300) {
    EXPECT_EQ(a.shape(), b.shape());
    double worst = 0.0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        worst = std::max(worst, relative_error(a.data()[i], b.data()[i], floor));
    }
    return worst;
}

/// @brief Central differences (f(x+h) - f(x-h)) / 2h of a scalar output with respect to each
/// element of `param`, re-running the recorded graph for each perturbation.
inline array central_difference(Tape& tape, Var param, double h = 1e-6) {
    array& x = param.mutable_value();
    array numeric = array::from_shape(x.shape());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double original = x.data()[i];
        x.data()[i] = original + h;
        tape.forward();
        const double plus = tape.output().item();
        x.data()[i] = original - h;
        tape.forward();
        const double minus = tape.output().item();
        x.data()[i] = original;
        numeric.data()[i] = (plus - minus) / (2.0 * h);
    }
    tape.forward();
    return numeric;
}

/// @brief Checks backprop against central differences for every parameter of a scalar output:
/// |auto - numeric| ≤ atol + rtol·|numeric| elementwise.
inline void expect_gradients_match(const Var& output, double rtol = 1e-6, double atol = 1e-8,
                                   double h = 1e-6) {
    Tape tape(output);
    std::vector<Var> params = tape.parameters();
    ASSERT_FALSE(params.empty());
    zero_grad(params);
    tape.backward();
    for (std::size_t p = 0; p < params.size(); ++p) {
        const array analytic = params[p].grad();
        const array numeric = central_difference(tape, params[p], h);
        for (std::size_t i = 0; i < numeric.size(); ++i) {
            const double a = analytic.data()[i];
            const double n = numeric.data()[i];
            EXPECT_LE(std::abs(a - n), atol + rtol * std::abs(n))
                << "output '" << output.op_name() << "', parameter " << p << " of shape "
                << format_shape(params[p].shape()) << ", element " << i << ": backprop " << a
                << " vs central difference " << n;
        }
    }
}

/// @brief Expects `statement` to throw E whose message contains `fragment`.
#define XGRAD_EXPECT_THROW_WITH(statement, E, fragment)                            \
    do {                                                                           \
        try {                                                                      \
            statement;                                                             \
            ADD_FAILURE() << "expected " #E " from: " #statement;                  \
        } catch (const E& error) {                                                 \
            EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) \
                << "message: " << error.what();                                    \
        }                                                                          \
    } while (false)

}  // namespace xgrad::testing
