/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
// Matrix products on BLAS, and transpose. A transpose that feeds matmul is never copied: matmul
// reads the transpose's input and passes a transpose flag to BLAS instead.
#include <xtensor/xmanipulation.hpp>

#include "blas.hpp"
#include "fusion.hpp"
#include "node.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

namespace {

/// @brief y = xᵀ for a matrix, computed only when something reads it (matmul does not).
class TransposeNode final : public Node {
  public:
    explicit TransposeNode(const Var& x) : Node("transpose", any_requires_grad({&x})) {
        add_input(x.node_ptr());
        value_ready_ = false;
    }
    void forward() override { value_ready_ = false; }
    // d(xᵀ)/dx: the gradient transposed back
    void backward() override {
        Node& x = input(0);
        if (x.requires_grad()) accumulate_grad(x, xt::transpose(grad()));
    }
    GradVars backward_as_graph(const Var& g) override {
        if (!input(0).requires_grad()) return {};
        return {transpose(g)};
    }

  private:
    void materialize() override {
        xt::noalias(value_) = xt::transpose(input(0).value());
        value_ready_ = true;
    }
};

/// @brief One matmul operand: a node, read transposed when it came through transpose().
struct Operand {
    const Var* var;
    bool transposed;
};

Operand unwrap_transpose(const Var& v, Var& storage) {
    if (dynamic_cast<const TransposeNode*>(&v.node()) != nullptr) {
        storage = Var(v.node().input_ptr(0));
        return {&storage, true};
    }
    return {&v, false};
}

/// @brief y = op(a) · op(b), op being identity or transpose; 2-D and 1-D operands as in numpy.
class MatMulNode final : public Node {
  public:
    MatMulNode(Operand a, Operand b)
        : Node("matmul", any_requires_grad({a.var, b.var})),
          trans_a_(a.transposed),
          trans_b_(b.transposed) {
        add_input(a.var->node_ptr());
        add_input(b.var->node_ptr());
    }

    /// @brief Neither operand is read transposed.
    bool plain() const { return !trans_a_ && !trans_b_; }

    void forward() override {
        const Dims d = dims();
        const double* a = input(0).value().data();
        const double* b = input(1).value().data();
        if (d.rank_a == 2 && d.rank_b == 2) {  // (m,k)(k,n)
            value_.resize(shape_type{d.m, d.n});
            blas::gemm(trans_a_, trans_b_, d.m, d.n, d.k, 1.0, a, d.lda, b, d.ldb, 0.0,
                       value_.data(), d.n);
        } else if (d.rank_a == 2) {  // (m,k)(k,)
            value_.resize(shape_type{d.m});
            blas::gemv(trans_a_, d.rows_a, d.lda, 1.0, a, d.lda, b, 0.0, value_.data());
        } else if (d.rank_b == 2) {  // (k,)(k,n) = op(b)ᵀ a
            value_.resize(shape_type{d.n});
            blas::gemv(!trans_b_, d.rows_b, d.ldb, 1.0, b, d.ldb, a, 0.0, value_.data());
        } else {  // (k,)(k,)
            value_.resize(shape_type{});
            value_.data()[0] = blas::dot(d.k, a, b);
        }
    }

    // For Y = op(A)·op(B): d op(A) = G·op(B)ᵀ and d op(B) = op(A)ᵀ·G, transposed back to A and B
    // where they were transposed. BLAS adds into the gradient (beta = 1) or overwrites (beta = 0).
    void backward() override {
        const Dims d = dims();
        Node& a_node = input(0);
        Node& b_node = input(1);
        const double* a = a_node.value().data();
        const double* b = b_node.value().data();
        const double* g = grad().data();
        bool overwrite = false;
        if (a_node.requires_grad()) {
            array& ga_buffer = a_node.grad_for_accumulate(overwrite);
            double* ga = ga_buffer.data();
            const double beta = overwrite ? 0.0 : 1.0;
            if (d.rank_a == 2 && d.rank_b == 2) {
                if (!trans_a_) {
                    blas::gemm(false, !trans_b_, d.m, d.k, d.n, 1.0, g, d.n, b, d.ldb, beta, ga,
                               d.k);
                } else {
                    blas::gemm(trans_b_, true, d.k, d.m, d.n, 1.0, b, d.ldb, g, d.n, beta, ga, d.m);
                }
            } else if (d.rank_a == 2) {              // g vᵀ, or v gᵀ for a transposed A
                if (overwrite) ga_buffer.fill(0.0);  // ger only adds
                if (!trans_a_) {
                    blas::ger(d.m, d.k, 1.0, g, b, ga, d.k);
                } else {
                    blas::ger(d.k, d.m, 1.0, b, g, ga, d.m);
                }
            } else if (d.rank_b == 2) {  // op(B) g
                blas::gemv(trans_b_, d.rows_b, d.ldb, 1.0, b, d.ldb, g, beta, ga);
            } else {
                for (std::size_t i = 0; i < d.k; ++i) ga[i] = beta * ga[i] + g[0] * b[i];
            }
        }
        if (b_node.requires_grad()) {
            array& gb_buffer = b_node.grad_for_accumulate(overwrite);
            double* gb = gb_buffer.data();
            const double beta = overwrite ? 0.0 : 1.0;
            if (d.rank_a == 2 && d.rank_b == 2) {
                if (!trans_b_) {
                    blas::gemm(!trans_a_, false, d.k, d.n, d.m, 1.0, a, d.lda, g, d.n, beta, gb,
                               d.n);
                } else {
                    blas::gemm(true, trans_a_, d.n, d.k, d.m, 1.0, g, d.n, a, d.lda, beta, gb, d.k);
                }
            } else if (d.rank_a == 2) {  // op(A)ᵀ g
                blas::gemv(!trans_a_, d.rows_a, d.lda, 1.0, a, d.lda, g, beta, gb);
            } else if (d.rank_b == 2) {              // v gᵀ, or g vᵀ for a transposed B
                if (overwrite) gb_buffer.fill(0.0);  // ger only adds
                if (!trans_b_) {
                    blas::ger(d.k, d.n, 1.0, a, g, gb, d.n);
                } else {
                    blas::ger(d.n, d.k, 1.0, g, a, gb, d.k);
                }
            } else {
                for (std::size_t i = 0; i < d.k; ++i) gb[i] = beta * gb[i] + g[0] * a[i];
            }
        }
    }

    // The same rules on graph nodes. Outer products g vᵀ are (m,1)·(1,k) matmuls.
    GradVars backward_as_graph(const Var& g) override {
        const Dims d = dims();
        const Var a = input_var(0);
        const Var b = input_var(1);
        const Var op_a = trans_a_ ? transpose(a) : a;
        const Var op_b = trans_b_ ? transpose(b) : b;
        auto column = [](const Var& v) { return reshape(v, shape_type{v.size(), 1}); };
        auto row = [](const Var& v) { return reshape(v, shape_type{1, v.size()}); };
        Var d_op_a;
        Var d_op_b;
        if (d.rank_a == 2 && d.rank_b == 2) {
            d_op_a = matmul(g, transpose(op_b));
            d_op_b = matmul(transpose(op_a), g);
        } else if (d.rank_a == 2) {
            d_op_a = matmul(column(g), row(b));
            d_op_b = matmul(transpose(op_a), g);
        } else if (d.rank_b == 2) {
            d_op_a = matmul(op_b, g);
            d_op_b = matmul(column(a), row(g));
        } else {
            d_op_a = g * b;
            d_op_b = g * a;
        }
        GradVars out;
        if (input(0).requires_grad()) out[0] = trans_a_ ? transpose(d_op_a) : d_op_a;
        if (input(1).requires_grad()) out[1] = trans_b_ ? transpose(d_op_b) : d_op_b;
        return out;
    }

  private:
    /// @brief Extents of the product: op(a) is m×k, op(b) is k×n (1-D operands drop m or n);
    /// rows_x and ld_x describe the stored, untransposed matrices.
    struct Dims {
        std::size_t rank_a, rank_b, m = 1, n = 1, k = 1;
        std::size_t rows_a = 1, lda = 1, rows_b = 1, ldb = 1;
    };

    Dims dims() {
        const shape_type& sa = input(0).value().shape();
        const shape_type& sb = input(1).value().shape();
        Dims d{sa.size(), sb.size()};
        auto fail = [&]() {
            throw shape_error("matmul: cannot multiply " + format_shape(seen(sa, trans_a_)) +
                              " by " + format_shape(seen(sb, trans_b_)));
        };
        if (d.rank_a == 0 || d.rank_b == 0 || d.rank_a > 2 || d.rank_b > 2) fail();
        std::size_t k_a = 0;
        std::size_t k_b = 0;
        if (d.rank_a == 2) {
            d.rows_a = sa[0];
            d.lda = sa[1];
            d.m = trans_a_ ? sa[1] : sa[0];
            k_a = trans_a_ ? sa[0] : sa[1];
        } else {
            k_a = sa[0];
        }
        if (d.rank_b == 2) {
            d.rows_b = sb[0];
            d.ldb = sb[1];
            d.n = trans_b_ ? sb[0] : sb[1];
            k_b = trans_b_ ? sb[1] : sb[0];
        } else {
            k_b = sb[0];
        }
        if (k_a != k_b) fail();
        d.k = k_a;
        return d;
    }

    static shape_type seen(const shape_type& s, bool transposed) {
        return transposed && s.size() == 2 ? shape_type{s[1], s[0]} : s;
    }

    bool trans_a_;
    bool trans_b_;
};

}  // namespace

bool is_matrix_vector_product(const Node& node) {
    const auto* product = dynamic_cast<const MatMulNode*>(&node);
    return product != nullptr && product->plain() && node.input(0).value().dimension() == 2 &&
           node.input(1).value().dimension() == 1;
}

}  // namespace xgrad::detail

namespace xgrad {

using namespace detail;

Var matmul(const Var& a, const Var& b) {
    Var a_storage;
    Var b_storage;
    const Operand oa = unwrap_transpose(a, a_storage);
    const Operand ob = unwrap_transpose(b, b_storage);
    return finish_op(std::make_shared<MatMulNode>(oa, ob));
}

Var transpose(const Var& x) {
    if (x.dimension() < 2) return x;  // as in numpy, a vector's transpose is itself
    if (x.dimension() > 2) {
        throw shape_error("transpose: expects a matrix, got shape " + format_shape(x.shape()));
    }
    if (dynamic_cast<const TransposeNode*>(&x.node()) != nullptr) return Var(x.node().input_ptr(0));
    return finish_op(std::make_shared<TransposeNode>(x));
}

}  // namespace xgrad
