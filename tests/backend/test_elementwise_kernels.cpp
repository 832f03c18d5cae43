// The elementwise kernels of every instruction set built into the library (AVX2, AVX-512)
// against the scalar kernels (the C library): each function within its stated ulp on a sweep with
// ±0, subnormals, ±1000, ±inf and NaN; exact arithmetic bit for bit; the same numbers wherever an
// element sits in the array; and the same numbers split between threads as on one.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/elementwise_kernels.hpp"
#include "support.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using namespace xgrad::detail;

/// @brief Distance in units in the last place (representable doubles between a and b); 0 for
/// two NaNs or equal values, "infinite" when only one is NaN.
double ulps(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0.0 : 1e300;
    if (a == b) return 0.0;
    // doubles in order as unsigned integers: negatives below positives, −0 next to +0
    auto ordered = [](double v) {
        std::uint64_t i;
        std::memcpy(&i, &v, sizeof i);
        return i >> 63 ? ~i : i | (std::uint64_t{1} << 63);
    };
    const std::uint64_t ia = ordered(a), ib = ordered(b);
    return static_cast<double>(ia > ib ? ia - ib : ib - ia);
}

/// @brief The sweep: special values, then uniform draws on several scales, then powers of ten
/// from 1e−310 to 1e3 of both signs. 5 000 + values; the count is not a multiple of 8 so that
/// the partial last vector is exercised too.
std::vector<double> sweep() {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> xs = {0.0,    -0.0,    5e-324, -5e-324, 1e-310, -1e-310, 2.2e-308,
                              1e-300, -1e-300, inf,    -inf,    NAN,    1000.0,  -1000.0,
                              700.0,  709.5,   -708.5, -740.0,  -750.0, 1e-8,    -1e-8,
                              0.5,    -0.5,    1.0,    -1.0,    20.0,   -20.0,   40.0,
                              -40.0,  1e300,   -1e300, 6.0,     -6.0,   27.0,    -27.0};
    std::mt19937_64 rng(15);
    for (double scale : {1.0, 4.0, 40.0, 710.0}) {
        std::uniform_real_distribution<double> u(-scale, scale);
        for (int i = 0; i < 1000; ++i) xs.push_back(u(rng));
    }
    std::uniform_real_distribution<double> exponent(-310.0, 3.0);
    for (int i = 0; i < 1001; ++i) {
        const double v = std::pow(10.0, exponent(rng));
        xs.push_back(i % 2 ? v : -v);
    }
    return xs;
}

struct UnaryCase {
    UnaryOp op;
    const char* name;
    Params params;
    double forward_ulps;    // the vector forward's largest distance from the scalar one
    double backward_ulps;   // the same for the derivative, given the same x and y; or, if
    bool absolute = false;  // absolute, a bound on |Δ| in units of ε·|g| (a derivative that
                            // is a difference of terms, where a relative bound means nothing)
};

// Stated accuracy of every vector function (README, "How it works", vector kernels).
std::vector<UnaryCase> unary_cases() {
    return {
        {UnaryOp::neg, "neg", {}, 0, 0},
        {UnaryOp::square, "square", {}, 0, 0},
        {UnaryOp::power, "pow 2.5", {2.5, 0}, 0, 0},
        {UnaryOp::power, "pow 0", {0.0, 0}, 0, 0},
        {UnaryOp::exp, "exp", {}, 1, 0},
        {UnaryOp::log, "log", {}, 1, 0},
        // 3: ours is within 2.15 ulp of the exact value and so is glibc's (12 million points)
        {UnaryOp::tanh, "tanh", {}, 3, 0},
        {UnaryOp::sigmoid, "sigmoid", {}, 2, 0},
        {UnaryOp::relu, "relu", {}, 0, 0},
        {UnaryOp::abs, "abs", {}, 0, 0},
        {UnaryOp::leaky_relu, "leaky_relu", {0.01, 0}, 0, 0},
        {UnaryOp::softplus, "softplus", {}, 2, 2},
        {UnaryOp::log_sigmoid, "log_sigmoid", {}, 2, 2},
        {UnaryOp::sin, "sin", {}, 1, 2},  // g·cos x: cos's ulp and the product's rounding
        {UnaryOp::cos, "cos", {}, 1, 2},
        {UnaryOp::tan, "tan", {}, 2, 0},
        {UnaryOp::sqrt, "sqrt", {}, 0, 0},
        {UnaryOp::log1p, "log1p", {}, 1, 0},
        {UnaryOp::expm1, "expm1", {}, 2, 0},
        {UnaryOp::erf, "erf", {}, 0, 3},  // g·(2/√π)·e^(−x²)
        {UnaryOp::silu, "silu", {}, 2, 4},  // g·σ(1 + x(1 − σ)): 1 + x(1 − σ) cancels a little
        // Φ(x) + xφ(x) cancels near x = −0.75: bounded absolutely
        {UnaryOp::gelu, "gelu", {}, 0, 2, true},
        {UnaryOp::elu, "elu", {1.5, 0}, 2, 0},
        {UnaryOp::clip, "clip", {-0.5, 0.75}, 0, 0},
    };
}

std::vector<const KernelTable*> vector_tables() {
    std::vector<const KernelTable*> tables;
    for (const char* name : {"avx2", "avx512"}) {
        if (const KernelTable* t = kernels_for(name)) tables.push_back(t);
    }
    return tables;
}

TEST(ElementwiseKernels, TheScalarTableAlwaysExistsAndTheWidestIsTheDefault) {
    ASSERT_NE(kernels_for("scalar"), nullptr);
    EXPECT_EQ(kernels_for("sse9"), nullptr);
    const std::vector<const KernelTable*> tables = vector_tables();
    if (tables.empty()) {
        GTEST_SKIP() << "no vector kernels on this build or CPU: only the scalar ones run";
    }
    if (std::getenv("XGRAD_SIMD") == nullptr) {
        EXPECT_STREQ(kernels().name, tables.back()->name);
    }
}

TEST(ElementwiseKernels, EveryUnaryOpIsWithinItsUlpsOfTheScalarKernelsForwardAndBackward) {
    const std::vector<const KernelTable*> tables = vector_tables();
    if (tables.empty()) GTEST_SKIP() << "no vector kernels on this build or CPU";
    const KernelTable& scalar = *kernels_for("scalar");
    const std::vector<double> x = sweep();
    const std::size_t n = x.size();
    std::vector<double> g(n);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(-2.0, 2.0);
    for (std::size_t i = 0; i < n; ++i) g[i] = i % 5 == 0 ? 0.0 : u(rng);  // zeros: strong zeros
    for (const KernelTable* table : tables) {
        for (const UnaryCase& c : unary_cases()) {
            SCOPED_TRACE(std::string(table->name) + " " + c.name);
            std::vector<double> y_ref(n), y(n), d_ref(n), d(n);
            scalar.unary_forward(c.op, c.params, x.data(), y_ref.data(), n, false);
            table->unary_forward(c.op, c.params, x.data(), y.data(), n, false);
            double worst = 0.0;
            double at = 0.0;
            for (std::size_t i = 0; i < n; ++i) {
                if (ulps(y[i], y_ref[i]) > worst) {
                    worst = ulps(y[i], y_ref[i]);
                    at = x[i];
                }
            }
            EXPECT_LE(worst, c.forward_ulps) << "forward, worst at x = " << at;
            // the derivative at the same x and y (the scalar forward's), so that only the rule's
            // own functions differ
            scalar.unary_backward(c.op, c.params, g.data(), x.data(), y_ref.data(), d_ref.data(), n,
                                  false, false);
            table->unary_backward(c.op, c.params, g.data(), x.data(), y_ref.data(), d.data(), n,
                                  false, false);
            worst = 0.0;
            for (std::size_t i = 0; i < n; ++i) {
                if (g[i] == 0.0) {
                    EXPECT_EQ(d[i], 0.0) << "strong zero at x = " << x[i];
                    EXPECT_FALSE(std::signbit(d[i]));
                }
                const double error =
                    c.absolute && std::isfinite(d_ref[i])
                        ? std::abs(d[i] - d_ref[i]) / (DBL_EPSILON * std::abs(g[i]) + DBL_MIN)
                        : ulps(d[i], d_ref[i]);
                if (error > worst) {
                    worst = error;
                    at = x[i];
                }
            }
            EXPECT_LE(worst, c.backward_ulps) << "backward, worst at x = " << at;
        }
    }
}

/// @brief |v − exact| in units of the last place of the exact value (long double, 64 bits: its
/// own error is below 1/2000 ulp of a double); below the smallest normal, in subnormal ulps.
double ulps_from_exact(double v, long double exact) {
    if (std::isnan(v) || std::isnan(exact)) return std::isnan(v) && std::isnan(exact) ? 0.0 : 1e300;
    const double rounded = static_cast<double>(exact);  // inf where the double overflows
    if (std::isinf(rounded) || v == exact) return v == rounded ? 0.0 : 1e300;
    int exponent = 0;
    std::frexp(rounded, &exponent);
    const long double ulp =
        std::abs(rounded) < DBL_MIN ? std::ldexp(1.0L, -1074) : std::ldexp(1.0L, exponent - 53);
    return static_cast<double>(std::abs(static_cast<long double>(v) - exact) / ulp);
}

TEST(ElementwiseKernels, TheVectorExpLogTanhAndSigmoidAreWithinTheirUlpsOfTheExactValue) {
    // Against the exact value (long double), not the C library. Measured here (worst over these
    // inputs, vector / glibc): exp 0.97 / 0.50, expm1 1.87 / 0.83, log 0.77 / 0.51, tanh 2.01 /
    // 2.12 (2.15 / 2.15 on 12 million points), sigmoid 2.31 / 2.31 (both 1/(1 + e^−|x|)). The
    // sweep, and 400 000 uniform draws on the scales where each function's reduction changes
    // branch.
    std::vector<const KernelTable*> tables = vector_tables();
    if (tables.empty()) GTEST_SKIP() << "no vector kernels on this build or CPU";
    std::vector<double> x = sweep();
    std::mt19937_64 rng(21);
    for (double scale : {0.01, 0.3, 1.0, 4.0, 30.0, 750.0}) {
        std::uniform_real_distribution<double> u(-scale, scale);
        for (int i = 0; i < 400000 / 6; ++i) x.push_back(u(rng));
    }
    std::vector<double> positive(x.size());
    std::transform(x.begin(), x.end(), positive.begin(), [](double v) { return std::abs(v); });
    struct Exact {
        UnaryOp op;
        const char* name;
        double bound;
        bool positive_only;
        long double (*f)(long double);
    };
    const std::vector<Exact> cases = {
        {UnaryOp::exp, "exp", 1.0, false, [](long double v) { return std::exp(v); }},
        {UnaryOp::expm1, "expm1", 2.0, false, [](long double v) { return std::expm1(v); }},
        {UnaryOp::log, "log", 1.0, true, [](long double v) { return std::log(v); }},
        {UnaryOp::tanh, "tanh", 2.5, false, [](long double v) { return std::tanh(v); }},
        {UnaryOp::sigmoid, "sigmoid", 2.5, false,
         [](long double v) { return 1.0L / (1.0L + std::exp(-v)); }},
    };
    for (const KernelTable* table : tables) {
        for (const Exact& c : cases) {
            SCOPED_TRACE(std::string(table->name) + " " + c.name);
            const std::vector<double>& in = c.positive_only ? positive : x;
            std::vector<double> y(in.size());
            table->unary_forward(c.op, {}, in.data(), y.data(), in.size(), false);
            double worst = 0.0;
            double at = 0.0;
            for (std::size_t i = 0; i < in.size(); ++i) {
                const double error = ulps_from_exact(y[i], c.f(in[i]));
                if (error > worst) {
                    worst = error;
                    at = in[i];
                }
            }
            EXPECT_LE(worst, c.bound) << "worst at x = " << at;
        }
    }
}

TEST(ElementwiseKernels, AccumulatingAddsToOldValuesAndOverwritingNeverReadsThem) {
    for (const char* name : {"scalar", "avx2", "avx512"}) {
        const KernelTable* table = kernels_for(name);
        if (table == nullptr) continue;
        SCOPED_TRACE(name);
        const std::vector<double> x = {0.5, -1.0, 2.0, 0.0, 3.0, -0.25, 1.5, 4.0, -2.0, 0.1, 7.0};
        const std::size_t n = x.size();
        std::vector<double> y(n), g(n, 1.0), out(n, NAN);
        g[3] = 0.0;
        table->unary_forward(UnaryOp::tanh, {}, x.data(), y.data(), n, false);
        table->unary_backward(UnaryOp::tanh, {}, g.data(), x.data(), y.data(), out.data(), n, false,
                              false);
        for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], g[i] * (1.0 - y[i] * y[i]));
        std::vector<double> twice = out;
        table->unary_backward(UnaryOp::tanh, {}, g.data(), x.data(), y.data(), twice.data(), n,
                              true, false);
        for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(twice[i], 2.0 * out[i]);
    }
}

TEST(ElementwiseKernels, BinaryOpsAreBitForBitTheScalarArithmeticInEveryStepPatternPowWithin3Ulps) {
    const std::vector<double> s = sweep();
    const std::size_t n = s.size();
    std::vector<double> b(s.rbegin(), s.rend());  // pairs of every kind of value
    std::vector<double> g(n);
    for (std::size_t i = 0; i < n; ++i) g[i] = i % 3 == 0 ? 0.0 : 0.5 + static_cast<double>(i % 7);
    const KernelTable& scalar = *kernels_for("scalar");
    for (const KernelTable* table : vector_tables()) {
        for (int op = 0; op < static_cast<int>(BinaryOp::count); ++op) {
            const BinaryOp o = static_cast<BinaryOp>(op);
            for (std::size_t a_step : {0, 1}) {
                for (std::size_t b_step : {0, 1}) {
                    SCOPED_TRACE(std::string(table->name) + " op " + std::to_string(op) +
                                 " steps " + std::to_string(a_step) + std::to_string(b_step));
                    const double* a_ptr = a_step ? s.data() : &s[40];
                    const double* b_ptr = b_step ? b.data() : &b[3];
                    std::vector<double> y_ref(n), y(n);
                    scalar.binary_forward(o, a_ptr, a_step, b_ptr, b_step, y_ref.data(), n, false);
                    table->binary_forward(o, a_ptr, a_step, b_ptr, b_step, y.data(), n, false);
                    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(ulps(y[i], y_ref[i]), 0.0) << i;
                    // pow's ∂/∂b is g·(y·log a): the vector log's ulp and two products
                    const double allowed = o == BinaryOp::pow ? 3.0 : 0.0;
                    for (int side = 0; side < 2; ++side) {
                        std::vector<double> d_ref(n), d(n);
                        scalar.binary_backward(o, side, g.data(), a_ptr, a_step, b_ptr, b_step,
                                               y_ref.data(), d_ref.data(), n, false, false);
                        table->binary_backward(o, side, g.data(), a_ptr, a_step, b_ptr, b_step,
                                               y_ref.data(), d.data(), n, false, false);
                        for (std::size_t i = 0; i < n; ++i) {
                            ASSERT_LE(ulps(d[i], d_ref[i]), allowed)
                                << "side " << side << " at " << i;
                        }
                    }
                }
            }
        }
    }
}

TEST(ElementwiseKernels, EveryZeroHasTheSignOfTheScalarKernelsZero) {
    // ulps() takes −0 and +0 as equal: here every zero a vector kernel gives, forward and
    // backward, must carry the scalar kernel's sign (−(+0) is −0, expm1(−0) is −0, as IEEE 754
    // and the C library say), so that 1/y or a later sign test cannot depend on the machine
    std::vector<double> x = sweep();
    const std::size_t n = x.size();
    std::vector<double> g(n);
    for (std::size_t i = 0; i < n; ++i) g[i] = i % 3 == 0 ? -0.75 : i % 3 == 1 ? 1.5 : -0.0;
    std::vector<double> b(x.rbegin(), x.rend());
    const KernelTable& scalar = *kernels_for("scalar");
    auto expect_same_zeros = [](const std::vector<double>& got, const std::vector<double>& want,
                                const std::vector<double>& at, const char* what) {
        for (std::size_t i = 0; i < want.size(); ++i) {
            if (want[i] == 0.0 && got[i] == 0.0) {
                EXPECT_EQ(std::signbit(got[i]), std::signbit(want[i]))
                    << what << " at x = " << at[i] << " (element " << i << ")";
            }
        }
    };
    for (const KernelTable* table : vector_tables()) {
        for (const UnaryCase& c : unary_cases()) {
            SCOPED_TRACE(std::string(table->name) + " " + c.name);
            std::vector<double> y_ref(n), y(n), d_ref(n), d(n);
            scalar.unary_forward(c.op, c.params, x.data(), y_ref.data(), n, false);
            table->unary_forward(c.op, c.params, x.data(), y.data(), n, false);
            expect_same_zeros(y, y_ref, x, "forward");
            scalar.unary_backward(c.op, c.params, g.data(), x.data(), y_ref.data(), d_ref.data(), n,
                                  false, false);
            table->unary_backward(c.op, c.params, g.data(), x.data(), y_ref.data(), d.data(), n,
                                  false, false);
            expect_same_zeros(d, d_ref, x, "backward");
        }
        for (int op = 0; op < static_cast<int>(BinaryOp::count); ++op) {
            SCOPED_TRACE(std::string(table->name) + " binary op " + std::to_string(op));
            const BinaryOp o = static_cast<BinaryOp>(op);
            std::vector<double> y_ref(n), y(n);
            scalar.binary_forward(o, x.data(), 1, b.data(), 1, y_ref.data(), n, false);
            table->binary_forward(o, x.data(), 1, b.data(), 1, y.data(), n, false);
            expect_same_zeros(y, y_ref, x, "forward");
            for (int side = 0; side < 2; ++side) {
                std::vector<double> d_ref(n), d(n);
                scalar.binary_backward(o, side, g.data(), x.data(), 1, b.data(), 1, y_ref.data(),
                                       d_ref.data(), n, false, false);
                table->binary_backward(o, side, g.data(), x.data(), 1, b.data(), 1, y_ref.data(),
                                       d.data(), n, false, false);
                expect_same_zeros(d, d_ref, x, side == 0 ? "backward a" : "backward b");
            }
        }
    }
}

TEST(ElementwiseKernels, AnElementGetsTheSameNumberWhereverItSits) {
    // the partial last vector runs the same instructions as the full ones
    const std::vector<double> x = sweep();
    for (const KernelTable* table : vector_tables()) {
        SCOPED_TRACE(table->name);
        for (const UnaryCase& c : unary_cases()) {
            std::vector<double> whole(x.size());
            table->unary_forward(c.op, c.params, x.data(), whole.data(), x.size(), false);
            for (std::size_t start = 0; start < 64; start += 3) {
                for (std::size_t count : {1, 3, 7, 9, 13}) {
                    std::vector<double> part(count);
                    table->unary_forward(c.op, c.params, x.data() + start, part.data(), count,
                                         false);
                    for (std::size_t i = 0; i < count; ++i) {
                        ASSERT_EQ(ulps(part[i], whole[start + i]), 0.0) << c.name << " at " << i;
                    }
                }
            }
        }
    }
}

TEST(ElementwiseKernels, StoresThatBypassTheCachesWriteTheSameNumbers) {
    // the streaming path (outputs of 4 MiB and more, aligned) against the ordinary one, on
    // aligned and unaligned outputs and a partial last vector
    const std::vector<double> s = sweep();
    const std::size_t n = s.size();
    for (const KernelTable* table : vector_tables()) {
        SCOPED_TRACE(table->name);
        xgrad::array plain(xgrad::shape_type{n + 8}), streamed(xgrad::shape_type{n + 8});
        for (std::size_t offset : {0, 1}) {
            for (const UnaryCase& c : unary_cases()) {
                table->unary_forward(c.op, c.params, s.data(), plain.data() + offset, n, false);
                table->unary_forward(c.op, c.params, s.data(), streamed.data() + offset, n, true);
                for (std::size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(ulps(plain.data()[offset + i], streamed.data()[offset + i]), 0.0);
                }
                table->unary_backward(c.op, c.params, s.data(), s.data(), s.data(),
                                      plain.data() + offset, n, false, false);
                table->unary_backward(c.op, c.params, s.data(), s.data(), s.data(),
                                      streamed.data() + offset, n, false, true);
                for (std::size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(ulps(plain.data()[offset + i], streamed.data()[offset + i]), 0.0);
                }
            }
            table->binary_forward(BinaryOp::mul, s.data(), 1, s.data(), 0, plain.data() + offset, n,
                                  false);
            table->binary_forward(BinaryOp::mul, s.data(), 1, s.data(), 0, streamed.data() + offset,
                                  n, true);
            for (std::size_t i = 0; i < n; ++i) {
                ASSERT_EQ(ulps(plain.data()[offset + i], streamed.data()[offset + i]), 0.0);
            }
        }
    }
}

TEST(ElementwiseKernels, SplitBetweenThreadsTheResultsAreBitForBitThoseOfOneThread) {
    const int threads_before = xgrad::blas_threads();
    if (!xgrad::set_blas_threads(2)) GTEST_SKIP() << "the BLAS has no thread setting here";
    const std::size_t n = 3 * parallel_elements + 5;  // large enough to split, uneven parts
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(-5.0, 5.0);
    xgrad::array x(xgrad::shape_type{n});
    for (double& v : x) v = u(rng);
    auto run = [&](int threads) {
        xgrad::set_blas_threads(threads);
        const xgrad::Var p = xgrad::parameter(x);
        const xgrad::Var y = xgrad::tanh(xgrad::sigmoid(p) * p + p);
        xgrad::sum(y).backward();
        return std::make_pair(xgrad::array(y.value()), xgrad::array(p.grad()));
    };
    const auto one = run(1);
    const auto two = run(2);
    xgrad::set_blas_threads(threads_before > 0 ? threads_before : 1);
    for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(ulps(one.first.data()[i], two.first.data()[i]), 0.0) << i;
        ASSERT_EQ(ulps(one.second.data()[i], two.second.data()[i]), 0.0) << i;
    }
}

TEST(ElementwiseKernels, SumsAreWithinTheirErrorBoundOfTheExactSumInEverySetAndThreadCount) {
    // |computed − exact| ≤ (n − 1)·ε·Σ|x| bounds any order of summation; blocked and vector
    // orders do far better, and the check also catches a lost or doubled element
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(-1.0, 3.0);
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{33},
                          sum_block - 1, sum_block + 5, 3 * parallel_elements + 11}) {
        std::vector<double> x(n);
        for (double& v : x) v = u(rng);
        long double exact = 0.0L, magnitude = 0.0L;
        for (double v : x) {
            exact += v;
            magnitude += std::abs(v);
        }
        for (const char* name : {"scalar", "avx2", "avx512"}) {
            const KernelTable* table = kernels_for(name);
            if (table == nullptr) continue;
            SCOPED_TRACE(std::string(name) + " n = " + std::to_string(n));
            const double got = table->sum(x.data(), n);
            EXPECT_LE(std::abs(static_cast<long double>(got) - exact), 1e-13L * (magnitude + 1.0L));
        }
        const int before = xgrad::blas_threads();
        xgrad::set_blas_threads(1);
        const double one = sum(x.data(), n);
        xgrad::set_blas_threads(2);
        const double two = sum(x.data(), n);
        xgrad::set_blas_threads(before > 0 ? before : 1);
        EXPECT_EQ(ulps(one, two), 0.0) << n;
        EXPECT_LE(std::abs(static_cast<long double>(one) - exact), 1e-13L * (magnitude + 1.0L));
    }
}

TEST(ElementwiseKernels, LaneReductionsAgreeWithAScalarLoopInEverySetAndThreadCount) {
    // max/min exactly (the first NaN if there is one, wherever it sits: first element, a full
    // vector, the tail), the sums within the bound of any summation order of the exact sum of
    // their terms (long double), and the same number on one and two threads
    std::mt19937_64 rng(17);
    std::uniform_real_distribution<double> u(-4.0, 3.0);
    const double inf = std::numeric_limits<double>::infinity();
    for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9},
                          std::size_t{33}, sum_block + 5, 3 * parallel_elements + 11}) {
        std::vector<std::vector<double>> lanes;
        std::vector<double> x(n);
        for (double& v : x) v = u(rng);
        lanes.push_back(x);
        for (std::size_t at : {std::size_t{0}, n / 2, n - 1}) {  // a NaN first, inside, last
            std::vector<double> with_nan = x;
            with_nan[at] = NAN;
            lanes.push_back(with_nan);
        }
        std::vector<double> with_inf = x;
        with_inf[n / 3] = -inf;
        with_inf[n - 1] = inf;
        lanes.push_back(with_inf);
        for (const std::vector<double>& lane : lanes) {
            double top = lane[0], bottom = lane[0];
            bool nan = false;
            for (double v : lane) {
                nan = nan || std::isnan(v);
                top = std::max(top, v);
                bottom = std::min(bottom, v);
            }
            const double c = 0.5;
            long double shifted = 0.0L, squares = 0.0L, exps = 0.0L, abs_sum = 0.0L, scale = 0.0L;
            for (double v : lane) {
                shifted += static_cast<long double>(v) - c;
                squares += (static_cast<long double>(v) - c) * (static_cast<long double>(v) - c);
                exps += std::exp(static_cast<long double>(v) - c);
                abs_sum += std::abs(static_cast<long double>(v));
                scale += std::abs(static_cast<long double>(v)) + 1.0L;
            }
            auto check_sum = [&](double got, long double exact, long double magnitude) {
                if (!std::isfinite(static_cast<double>(exact))) {
                    EXPECT_TRUE(std::isnan(got) ? std::isnan(static_cast<double>(exact))
                                                : got == static_cast<double>(exact));
                    return;
                }
                EXPECT_LE(std::abs(static_cast<long double>(got) - exact),
                          4e-15L * static_cast<long double>(n) * magnitude);
            };
            for (const char* name : {"scalar", "avx2", "avx512"}) {
                const KernelTable* table = kernels_for(name);
                if (table == nullptr) continue;
                SCOPED_TRACE(std::string(name) + " n = " + std::to_string(n));
                const double got_max = table->reduce(ReduceOp::max, lane.data(), n, 0.0);
                const double got_min = table->reduce(ReduceOp::min, lane.data(), n, 0.0);
                if (nan) {
                    EXPECT_TRUE(std::isnan(got_max) && std::isnan(got_min));
                } else {
                    EXPECT_EQ(got_max, top);
                    EXPECT_EQ(got_min, bottom);
                }
                check_sum(table->reduce(ReduceOp::sum_shifted, lane.data(), n, c), shifted, scale);
                check_sum(table->reduce(ReduceOp::sum_squares, lane.data(), n, c), squares,
                          squares + 1.0L);
                check_sum(table->reduce(ReduceOp::sum_exp, lane.data(), n, c), exps, exps + 1.0L);
                check_sum(table->reduce(ReduceOp::sum_abs, lane.data(), n, 0.0), abs_sum, scale);
            }
            const int before = xgrad::blas_threads();
            for (ReduceOp op : {ReduceOp::max, ReduceOp::min, ReduceOp::sum_shifted,
                                ReduceOp::sum_squares, ReduceOp::sum_exp, ReduceOp::sum_abs}) {
                xgrad::set_blas_threads(1);
                const double one = reduce(op, lane.data(), n, c);
                xgrad::set_blas_threads(2);
                const double two = reduce(op, lane.data(), n, c);
                EXPECT_EQ(ulps(one, two), 0.0) << n << " op " << static_cast<int>(op);
            }
            xgrad::set_blas_threads(before > 0 ? before : 1);
        }
    }
}

TEST(ElementwiseKernels, AnExtremumOfALaneWithSeveralNaNsIsTheFirstNaNBitForBit) {
    // two NaNs of different payloads, in every pair of positions a vector and the tail give
    auto nan_with = [](std::uint64_t payload) {
        const std::uint64_t bits = 0x7ff8000000000000ull | payload;
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    };
    auto bits_of = [](double v) {
        std::uint64_t b;
        std::memcpy(&b, &v, sizeof b);
        return b;
    };
    const double first = nan_with(0x1234), second = nan_with(0x5678);
    for (std::size_t n : {std::size_t{2}, std::size_t{9}, std::size_t{19}, sum_block + 3}) {
        for (std::size_t i : {std::size_t{0}, std::size_t{1}, n / 2}) {
            for (std::size_t j : {n / 2 + 1, n - 1}) {
                if (j <= i || j >= n) continue;
                std::vector<double> lane(n, 1.0);
                lane[i] = first;
                lane[j] = second;
                for (const char* name : {"scalar", "avx2", "avx512"}) {
                    const KernelTable* table = kernels_for(name);
                    if (table == nullptr) continue;
                    for (ReduceOp op : {ReduceOp::max, ReduceOp::min}) {
                        EXPECT_EQ(bits_of(table->reduce(op, lane.data(), n, 0.0)), bits_of(first))
                            << name << " n " << n << " NaNs at " << i << ", " << j;
                    }
                }
                EXPECT_EQ(bits_of(reduce(ReduceOp::max, lane.data(), n)), bits_of(first));
            }
        }
    }
}

TEST(ElementwiseKernels, ShortBroadcastRunsGatheredGiveTheNumbersOfFullOperands) {
    // (m, 1) against (1, 2) is m runs of two elements, gathered into chunks for the kernels;
    // the same product of the operands spelled out in full is one run: values and gradients must
    // agree bit for bit, for every binary op
    const std::size_t m = 3001;
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(0.5, 2.0);
    xgrad::array col(xgrad::shape_type{m, 1}), row(xgrad::shape_type{1, 2});
    for (double& v : col) v = u(rng);
    for (double& v : row) v = u(rng);
    const xgrad::array col_full = xt::broadcast(col, xgrad::shape_type{m, 2});
    const xgrad::array row_full = xt::broadcast(row, xgrad::shape_type{m, 2});
    using Op = xgrad::Var (*)(const xgrad::Var&, const xgrad::Var&);
    const std::vector<std::pair<const char*, Op>> ops = {
        {"add", [](const xgrad::Var& a, const xgrad::Var& b) { return a + b; }},
        {"sub", [](const xgrad::Var& a, const xgrad::Var& b) { return a - b; }},
        {"mul", [](const xgrad::Var& a, const xgrad::Var& b) { return a * b; }},
        {"div", [](const xgrad::Var& a, const xgrad::Var& b) { return a / b; }},
        {"pow", [](const xgrad::Var& a, const xgrad::Var& b) { return xgrad::pow(a, b); }},
        {"maximum", [](const xgrad::Var& a, const xgrad::Var& b) { return xgrad::maximum(a, b); }},
    };
    for (const auto& [name, op] : ops) {
        SCOPED_TRACE(name);
        const xgrad::Var a = xgrad::parameter(col), b = xgrad::parameter(row);
        const xgrad::Var a_full = xgrad::parameter(col_full), b_full = xgrad::parameter(row_full);
        const xgrad::Var y = op(a, b), y_full = op(a_full, b_full);
        ASSERT_EQ(y.shape(), y_full.shape());
        for (std::size_t i = 0; i < y.value().size(); ++i) {
            ASSERT_EQ(ulps(y.value().data()[i], y_full.value().data()[i]), 0.0) << i;
        }
        const xgrad::Var weights = xgrad::constant(y_full.value());  // differs per element
        xgrad::sum(y * weights).backward();
        xgrad::sum(y_full * weights).backward();
        // the broadcast operands' gradients are sums of the full ones' over the broadcast axis
        const xgrad::array da = xt::sum(a_full.grad(), {1}, xt::keep_dims);
        const xgrad::array db = xt::sum(b_full.grad(), {0}, xt::keep_dims);
        EXPECT_LE(xgrad::testing::max_relative_error(a.grad(), da, 1e-300), 1e-13);
        EXPECT_LE(xgrad::testing::max_relative_error(b.grad(), db, 1e-300), 1e-12);
    }
}

TEST(ElementwiseKernels, ChoosingAnInstructionSetIsCheckedAndReported) {
    const std::string before = xgrad::simd_instruction_set();
    EXPECT_FALSE(xgrad::set_simd_instruction_set("mmx"));
    EXPECT_EQ(xgrad::simd_instruction_set(), before);
    ASSERT_TRUE(xgrad::set_simd_instruction_set("scalar"));
    EXPECT_EQ(xgrad::simd_instruction_set(), "scalar");
    const xgrad::Var y = xgrad::exp(xgrad::constant(xgrad::array{1.0, 2.0}));
    EXPECT_EQ(y.value()(1), std::exp(2.0));  // the C library's, exactly
    ASSERT_TRUE(xgrad::set_simd_instruction_set("native"));
    EXPECT_EQ(xgrad::simd_instruction_set(), vector_tables().empty()
                                                 ? std::string("scalar")
                                                 : std::string(vector_tables().back()->name));
    ASSERT_TRUE(xgrad::set_simd_instruction_set(before));
}

}  // namespace
