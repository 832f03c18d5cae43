// Tests for xgrad/blas.hpp: the BLAS thread setting and xgrad's packed matrix product, checked
// against OpenBLAS (the packed product switched off) and a long-double reference, for every
// transpose, shapes with partial register tiles and several blocks, gradients, threads.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <tuple>

#include <xgrad/xgrad.hpp>

#include "support.hpp"

using namespace xgrad;
using xgrad::testing::random_array;

namespace {

/// @brief Restores the packed product and the BLAS thread count when a test ends.
class PackedGemm : public ::testing::Test {
  protected:
    void SetUp() override {
        threads_before_ = blas_threads();
        if (!set_packed_gemm(true)) GTEST_SKIP() << "this build has no packed product";
    }
    void TearDown() override {
        set_packed_gemm(true);
        if (threads_before_ > 0) set_blas_threads(threads_before_);
    }

  private:
    int threads_before_ = 0;
};

struct Shape {
    std::size_t m, n, k;
};

/// @brief Shapes the packed product takes: whole and partial tiles, a short depth, several depth
/// blocks, several column panels, several row blocks.
const Shape shapes[] = {
    {256, 256, 784},  // the MLP's first layer
    {37, 65, 401},    // partial tiles in both directions, three depth blocks
    {256, 256, 10},   // a depth shorter than a vector
    {40, 1100, 40},   // three column panels
    {2000, 33, 64},   // several row blocks, one partial column tile
};

/// @brief op(A) · op(B) with op(A) m×k and op(B) k×n stored transposed when asked.
struct Product {
    array a, b;
    bool trans_a, trans_b;

    Var operator()() const {
        Var va = constant(a), vb = constant(b);
        return matmul(trans_a ? transpose(va) : va, trans_b ? transpose(vb) : vb);
    }
    long double reference(std::size_t i, std::size_t j, std::size_t k) const {
        long double sum = 0.0L;
        for (std::size_t p = 0; p < k; ++p) {
            const double x = trans_a ? a(p, i) : a(i, p);
            const double y = trans_b ? b(j, p) : b(p, j);
            sum += static_cast<long double>(x) * y;
        }
        return sum;
    }
};

Product make_product(std::mt19937_64& rng, const Shape& s, bool trans_a, bool trans_b) {
    return {random_array(rng, trans_a ? shape_type{s.k, s.m} : shape_type{s.m, s.k}),
            random_array(rng, trans_b ? shape_type{s.n, s.k} : shape_type{s.k, s.n}), trans_a,
            trans_b};
}

/// @brief max |a − b| / max |b|: rounding differences measured on the scale of the entries.
double normwise_difference(const array& a, const array& b) {
    EXPECT_EQ(a.shape(), b.shape());
    return xt::amax(xt::abs(a - b))() / xt::amax(xt::abs(b))();
}

array product_with(bool packed, const Product& p) {
    set_packed_gemm(packed);
    return p().value();
}

}  // namespace

TEST_F(PackedGemm, MatchesOpenBlasAndALongDoubleReferenceForEveryTranspose) {
    std::mt19937_64 rng(61);
    for (const Shape& s : shapes) {
        for (const bool trans_a : {false, true}) {
            for (const bool trans_b : {false, true}) {
                SCOPED_TRACE(::testing::Message() << s.m << "x" << s.n << "x" << s.k << " trans_a "
                                                  << trans_a << " trans_b " << trans_b);
                const Product p = make_product(rng, s, trans_a, trans_b);
                const array packed = product_with(true, p);
                const array blas = product_with(false, p);
                ASSERT_EQ(packed.shape(), (shape_type{s.m, s.n}));
                // Entries are sums of k products of numbers in [-1, 1]: compare on that scale.
                const double scale = std::sqrt(static_cast<double>(s.k));
                double worst_blas = 0.0, worst_reference = 0.0;
                for (std::size_t i = 0; i < s.m; ++i) {
                    for (std::size_t j = 0; j < s.n; ++j) {
                        worst_blas = std::max(worst_blas, std::abs(packed(i, j) - blas(i, j)));
                        if (i % 7 == 0 || j % 5 == 0) {  // a sample keeps the test quick
                            const long double exact = p.reference(i, j, s.k);
                            worst_reference =
                                std::max(worst_reference,
                                         static_cast<double>(std::abs(packed(i, j) - exact)));
                        }
                    }
                }
                EXPECT_LE(worst_blas / scale, 1e-14);
                EXPECT_LE(worst_reference / scale, 1e-14);
            }
        }
    }
}

TEST_F(PackedGemm, GradientsMatchOpenBlasWhenTheyAccumulate) {
    // a is used by two products, so its gradient is a sum: the second product adds to the first
    // (beta = 1 in the packed product); b's gradient is made transposed.
    std::mt19937_64 rng(62);
    const array a0 = random_array(rng, {300, 200});
    const array b0 = random_array(rng, {200, 150});
    const array c0 = random_array(rng, {150, 200});
    auto gradients = [&](bool packed) {
        set_packed_gemm(packed);
        Var a = parameter(a0), b = parameter(b0), c = parameter(c0);
        Var out = sum(matmul(a, b) * matmul(a, transpose(c)));
        out.backward();
        return std::tuple{array(a.grad()), array(b.grad()), array(c.grad()), out.item()};
    };
    const auto [ga, gb, gc, packed_value] = gradients(true);
    const auto [ga_blas, gb_blas, gc_blas, blas_value] = gradients(false);
    EXPECT_LE(xgrad::testing::relative_error(packed_value, blas_value), 1e-13);
    EXPECT_LE(normwise_difference(ga, ga_blas), 1e-14);
    EXPECT_LE(normwise_difference(gb, gb_blas), 1e-14);
    EXPECT_LE(normwise_difference(gc, gc_blas), 1e-14);
}

TEST_F(PackedGemm, DoesNotReadTheOldOutputWhenItOverwritesIt) {
    // A replay writes the product over the last one: NaN there must not leak into the new one.
    std::mt19937_64 rng(63);
    Var a = constant(random_array(rng, {128, 96}));
    Var b = constant(random_array(rng, {96, 64}));
    Tape tape(matmul(a, b));
    a.mutable_value()(5, 7) = std::numeric_limits<double>::quiet_NaN();
    tape.forward();
    ASSERT_TRUE(std::isnan(tape.output().value()(5, 0)));
    a.mutable_value()(5, 7) = 0.5;
    tape.forward();
    for (const double v : tape.output().value()) ASSERT_TRUE(std::isfinite(v));
}

TEST_F(PackedGemm, SplitsBetweenThreadsWithTheSameSums) {
    // Each element is summed in the same order whatever the split: results equal bit for bit.
    if (!set_blas_threads(2)) GTEST_SKIP() << "the BLAS does not take a thread count";
    std::mt19937_64 rng(64);
    for (const Shape& s : {Shape{256, 256, 784}, Shape{784, 256, 256}, Shape{100, 700, 300}}) {
        for (const bool trans_a : {false, true}) {
            const Product p = make_product(rng, s, trans_a, false);
            set_blas_threads(2);
            const array two = product_with(true, p);
            set_blas_threads(1);
            const array one = product_with(true, p);
            EXPECT_EQ(two, one) << s.m << "x" << s.n << "x" << s.k << " trans_a " << trans_a;
        }
    }
}

TEST(Blas, SwitchingThePackedProductOffReportsWhetherTheBuildHasIt) {
    const bool available = set_packed_gemm(false);
    EXPECT_EQ(set_packed_gemm(true), available);
}
