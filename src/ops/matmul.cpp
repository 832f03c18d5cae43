// Matrix products on BLAS, and transpose. A transpose that feeds matmul is never copied: matmul
// reads the transpose's input and passes a transpose flag to BLAS instead.
#include <xtensor/xmanipulation.hpp>

#include "backend/blas_calls.hpp"
#include "core/op.hpp"
#include "fusion/rewrites.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

namespace {

/// @brief The permutation that swaps the last two of `rank` axes.
shape_type last_axes_swapped(std::size_t rank) {
    shape_type order(rank);
    for (std::size_t i = 0; i < rank; ++i) order[i] = i;
    std::swap(order[rank - 2], order[rank - 1]);
    return order;
}

/// @brief y = xᵀ for a matrix, and each matrix transposed for higher ranks (the last two axes
/// swapped); computed only when something reads it (matmul does not).
class TransposeNode final : public SingleInputNode {
  public:
    explicit TransposeNode(const Var& x) : SingleInputNode("transpose", x, OpKind::transpose) {
        value_ready_ = false;
    }
    void forward() override { value_ready_.store(false, std::memory_order_release); }
    // d(xᵀ)/dx: the gradient transposed back
    void backward_into(Node& x) override {
        const std::size_t rank = grad().dimension();
        if (rank == 2) {
            accumulate_grad(x, xt::transpose(grad()));
        } else {
            accumulate_grad(x, xt::transpose(grad(), last_axes_swapped(rank)));
        }
    }
    Var gradient_as_graph(const Var& g) override { return transpose(g); }
    array tangent_of(const array& t) override {  // linear: transposed like the value
        if (t.dimension() == 2) return xt::transpose(t);
        return xt::transpose(t, last_axes_swapped(t.dimension()));
    }

  private:
    void materialize() override {
        const array& x = input(0).value();
        if (x.dimension() == 2) {
            xt::noalias(value_) = xt::transpose(x);
        } else {
            xt::noalias(value_) = xt::transpose(x, last_axes_swapped(x.dimension()));
        }
    }
};

using Operand = fusion::MatmulOperand;

/// @brief The shape of op(x) for a stored shape: the last two axes swapped when transposed.
shape_type seen_shape(const shape_type& s, bool transposed) {
    shape_type out = s;
    if (transposed && s.size() >= 2) std::swap(out[s.size() - 2], out[s.size() - 1]);
    return out;
}

/// @brief For Y = op(A)·op(B), one m×k by k×n matrix each: ga (= or +=, by beta) dL/dA, from
/// d op(A) = G·op(B)ᵀ, transposed back when A is read transposed.
void add_grad_of_a(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                   const double* g, const double* b, std::size_t ldb, double beta, double* ga) {
    if (!trans_a) {
        blas::gemm(false, !trans_b, m, k, n, 1.0, g, n, b, ldb, beta, ga, k);
    } else {
        blas::gemm(trans_b, true, k, m, n, 1.0, b, ldb, g, n, beta, ga, m);
    }
}

/// @brief The same for B: d op(B) = op(A)ᵀ·G, transposed back when B is read transposed.
void add_grad_of_b(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                   const double* g, const double* a, std::size_t lda, double beta, double* gb) {
    if (!trans_b) {
        blas::gemm(!trans_a, false, k, n, m, 1.0, a, lda, g, n, beta, gb, n);
    } else {
        blas::gemm(true, trans_a, n, k, m, 1.0, g, n, a, lda, beta, gb, k);
    }
}

/// @brief What both kinds of product hold: the operands as inputs, and whether each is read
/// transposed. A transposed operand's transpose node is kept as an extra input (never read in
/// forward): when someone outside the graph holds it, backward gives it its gradient and lets it
/// pass that on, so the shortcut never hides a gradient a user can read.
class ProductNode : public Node {
  protected:
    ProductNode(const Operand& a, const Operand& b, OpKind kind)
        : Node("matmul", any_requires_grad({&a.stored, &b.stored}), kind),
          trans_a_(a.transposed),
          trans_b_(b.transposed) {
        add_input(a.stored.node_ptr());
        add_input(b.stored.node_ptr());
        if (a.written.defined()) {
            written_a_ = input_count();
            add_input(a.written.node_ptr());
        }
        if (b.written.defined()) {
            written_b_ = input_count();
            add_input(b.written.node_ptr());
        }
    }

    /// @brief Where operand `side`'s gradient goes in this pass: the operand itself, read
    /// through the transpose flag, or the transpose node the user holds (untransposed).
    struct Target {
        std::size_t slot;
        bool transposed;
    };
    Target target(std::size_t side) const {
        const bool transposed = side == 0 ? trans_a_ : trans_b_;
        const std::size_t written = side == 0 ? written_a_ : written_b_;
        if (written != 0 && !may_bypass(input_ptr(written))) return {written, false};
        return {side, transposed};
    }

    /// @brief The graph-form gradients d op(A), d op(B) sent where target() says.
    GradVars route(const Var& d_op_a, const Var& d_op_b) const {
        GradVars out(input_count());
        const Var* d[2] = {&d_op_a, &d_op_b};
        for (std::size_t side = 0; side < 2; ++side) {
            if (!input(side).requires_grad()) continue;
            const Target t = target(side);
            out[t.slot] = t.transposed ? transpose(*d[side]) : *d[side];
        }
        return out;
    }

    /// @brief The shape error of a product whose operands do not fit, naming both as seen.
    [[noreturn]] void shapes_do_not_fit() const {
        throw shape_error("matmul: cannot multiply " +
                          format_shape(seen_shape(input(0).value().shape(), trans_a_)) + " by " +
                          format_shape(seen_shape(input(1).value().shape(), trans_b_)));
    }

    bool trans_a_;
    bool trans_b_;
    std::size_t written_a_ = 0;  // input slot (≥ 2) of the transpose node written for A, or 0
    std::size_t written_b_ = 0;
};

/// @brief y = op(a) · op(b), op being identity or transpose; 2-D and 1-D operands as in numpy.
class MatMulNode final : public ProductNode {
  public:
    MatMulNode(const Operand& a, const Operand& b) : ProductNode(a, b, OpKind::matmul) {}

    void forward() override {
        const Dims d = dims();
        value_.resize(out_shape(d));
        multiply(d, input(0).value().data(), input(1).value().data(), 0.0, value_.data());
    }

    // Bilinear: d(op(A)·op(B)) = op(dA)·op(B) + op(A)·op(dB)
    array tangent(const Tangents& t) override {
        const Dims d = dims();
        array out = xt::zeros<double>(out_shape(d));
        if (t[0]) multiply(d, t[0]->data(), input(1).value().data(), 1.0, out.data());
        if (t[1]) multiply(d, input(0).value().data(), t[1]->data(), 1.0, out.data());
        return out;
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
        if (a_node.requires_grad()) {
            const Target t = target(0);
            GradSink ga(input(t.slot));
            if (d.rank_a == 2 && d.rank_b == 2) {
                add_grad_of_a(t.transposed, trans_b_, d.m, d.n, d.k, g, b, d.ldb, ga.beta(),
                              ga.data());
            } else if (d.rank_a == 2) {  // g vᵀ, or v gᵀ for a transposed A
                ga.zero_if_first();      // ger only adds
                if (!t.transposed) {
                    blas::ger(d.m, d.k, 1.0, g, b, ga.data(), d.k);
                } else {
                    blas::ger(d.k, d.m, 1.0, b, g, ga.data(), d.m);
                }
            } else if (d.rank_b == 2) {  // op(B) g
                blas::gemv(trans_b_, d.rows_b, d.ldb, 1.0, b, d.ldb, g, ga.beta(), ga.data());
            } else {
                for (std::size_t i = 0; i < d.k; ++i) ga.put(i, g[0] * b[i]);
            }
        }
        if (b_node.requires_grad()) {
            const Target t = target(1);
            GradSink gb(input(t.slot));
            if (d.rank_a == 2 && d.rank_b == 2) {
                add_grad_of_b(trans_a_, t.transposed, d.m, d.n, d.k, g, a, d.lda, gb.beta(),
                              gb.data());
            } else if (d.rank_a == 2) {  // op(A)ᵀ g
                blas::gemv(!trans_a_, d.rows_a, d.lda, 1.0, a, d.lda, g, gb.beta(), gb.data());
            } else if (d.rank_b == 2) {  // v gᵀ, or g vᵀ for a transposed B
                gb.zero_if_first();      // ger only adds
                if (!t.transposed) {
                    blas::ger(d.k, d.n, 1.0, a, g, gb.data(), d.n);
                } else {
                    blas::ger(d.n, d.k, 1.0, g, a, gb.data(), d.k);
                }
            } else {
                for (std::size_t i = 0; i < d.k; ++i) gb.put(i, g[0] * a[i]);
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
        // Only the sides that need a gradient are built (an outer product is as large as the
        // matrix it belongs to).
        Var d_op_a;
        Var d_op_b;
        if (input(0).requires_grad()) {
            if (d.rank_a == 2 && d.rank_b == 2) {
                d_op_a = matmul(g, transpose(op_b));
            } else if (d.rank_a == 2) {
                d_op_a = matmul(column(g), row(b));
            } else if (d.rank_b == 2) {
                d_op_a = matmul(op_b, g);
            } else {
                d_op_a = g * b;
            }
        }
        if (input(1).requires_grad()) {
            if (d.rank_a == 2) {
                d_op_b = matmul(transpose(op_a), g);
            } else if (d.rank_b == 2) {
                d_op_b = matmul(column(a), row(g));
            } else {
                d_op_b = g * a;
            }
        }
        return route(d_op_a, d_op_b);
    }

  private:
    struct Dims;
    static shape_type out_shape(const Dims& d) {
        if (d.rank_a == 2 && d.rank_b == 2) return {d.m, d.n};
        if (d.rank_a == 2) return {d.m};
        if (d.rank_b == 2) return {d.n};
        return {};
    }
    /// @brief out = op(a)·op(b) + beta·out, for operands laid out as the inputs.
    void multiply(const Dims& d, const double* a, const double* b, double beta, double* out) {
        if (d.rank_a == 2 && d.rank_b == 2) {  // (m,k)(k,n)
            blas::gemm(trans_a_, trans_b_, d.m, d.n, d.k, 1.0, a, d.lda, b, d.ldb, beta, out, d.n);
        } else if (d.rank_a == 2) {  // (m,k)(k,)
            blas::gemv(trans_a_, d.rows_a, d.lda, 1.0, a, d.lda, b, beta, out);
        } else if (d.rank_b == 2) {  // (k,)(k,n) = op(b)ᵀ a
            blas::gemv(!trans_b_, d.rows_b, d.ldb, 1.0, b, d.ldb, a, beta, out);
        } else {  // (k,)(k,)
            out[0] = blas::dot(d.k, a, b) + beta * out[0];
        }
    }

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
        auto fail = [this]() { shapes_do_not_fit(); };
        if (d.rank_a == 0 || d.rank_b == 0 || d.rank_a > 2 || d.rank_b > 2) fail();
        // One operand: its stored rows and leading dimension, its outer extent (m or n) and its
        // inner one (k), as seen through the transpose flag.
        auto extents = [](const shape_type& s, bool transposed, bool is_left, std::size_t& rows,
                          std::size_t& ld, std::size_t& outer) {
            if (s.size() == 1) return s[0];
            rows = s[0];
            ld = s[1];
            outer = transposed == is_left ? s[1] : s[0];
            return transposed == is_left ? s[0] : s[1];
        };
        const std::size_t k_a = extents(sa, trans_a_, true, d.rows_a, d.lda, d.m);
        const std::size_t k_b = extents(sb, trans_b_, false, d.rows_b, d.ldb, d.n);
        if (k_a != k_b) fail();
        d.k = k_a;
        return d;
    }
};

/// @brief Y = op(A)·op(B) for stacks of matrices, numpy's matmul for ranks ≥ 3: the last two axes
/// are matrices, the leading ones broadcast against each other. One gemm per matrix of Y.
class BatchedMatMulNode final : public ProductNode {
  public:
    BatchedMatMulNode(const Operand& a, const Operand& b)
        : ProductNode(a, b, OpKind::matmul_stack) {}

    void forward() override {
        const Layout l = layout();
        value_.resize(l.out_shape);
        multiply(l, input(0).value().data(), input(1).value().data(), 0.0, value_.data());
    }

    // Bilinear: d(op(A)·op(B)) = op(dA)·op(B) + op(A)·op(dB), matrix by matrix
    array tangent(const Tangents& t) override {
        const Layout l = layout();
        array out = xt::zeros<double>(l.out_shape);
        if (t[0]) multiply(l, t[0]->data(), input(1).value().data(), 1.0, out.data());
        if (t[1]) multiply(l, input(0).value().data(), t[1]->data(), 1.0, out.data());
        return out;
    }

    // Per matrix, the rules of the 2-D product; a matrix of A or B that was broadcast to several
    // matrices of Y receives the sum of their gradients.
    void backward() override {
        const Layout l = layout();
        const double* a = input(0).value().data();
        const double* b = input(1).value().data();
        const double* g = grad().data();
        const std::size_t m = l.m, n = l.n, k = l.k;
        if (input(0).requires_grad()) {
            const Target t = target(0);
            const GradientTarget ga = gradient_target(input(t.slot), l.a_broadcast);
            for (std::size_t i = 0; i < l.count; ++i) {
                add_grad_of_a(t.transposed, trans_b_, m, n, k, g + i * m * n,
                              b + l.b_matrix(i) * l.b_size, l.ldb, ga.beta,
                              ga.data + l.a_matrix(i) * l.a_size);
            }
        }
        if (input(1).requires_grad()) {
            const Target t = target(1);
            const GradientTarget gb = gradient_target(input(t.slot), l.b_broadcast);
            for (std::size_t i = 0; i < l.count; ++i) {
                add_grad_of_b(trans_a_, t.transposed, m, n, k, g + i * m * n,
                              a + l.a_matrix(i) * l.a_size, l.lda, gb.beta,
                              gb.data + l.b_matrix(i) * l.b_size);
            }
        }
    }

    // The same rules on graph nodes; sum_to adds the gradients of broadcast matrices.
    GradVars backward_as_graph(const Var& g) override {
        const Var a = input_var(0);
        const Var b = input_var(1);
        const Var op_a = trans_a_ ? transpose(a) : a;
        const Var op_b = trans_b_ ? transpose(b) : b;
        Var d_op_a;
        Var d_op_b;
        if (input(0).requires_grad()) {
            d_op_a = reduce_to_shape(matmul(g, transpose(op_b)),
                                     seen_shape(input(0).value().shape(), trans_a_));
        }
        if (input(1).requires_grad()) {
            d_op_b = reduce_to_shape(matmul(transpose(op_a), g),
                                     seen_shape(input(1).value().shape(), trans_b_));
        }
        return route(d_op_a, d_op_b);
    }

  private:
    /// @brief Extents: op(A) matrices m×k, op(B) matrices k×n, stored with leading dimensions
    /// lda and ldb; Y holds `count` matrices of shape batch × (m, n).
    struct Layout {
        std::size_t m = 0, n = 0, k = 0, lda = 0, ldb = 0, a_size = 0, b_size = 0, count = 1;
        shape_type out_shape, a_batch, b_batch;
        bool a_broadcast = false, b_broadcast = false;

        std::size_t a_matrix(std::size_t i) const { return matrix_of(i, a_batch); }
        std::size_t b_matrix(std::size_t i) const { return matrix_of(i, b_batch); }

        /// @brief Which matrix of an operand with leading axes `batch` feeds matrix i of Y.
        std::size_t matrix_of(std::size_t i, const shape_type& batch) const {
            const std::size_t out_rank = out_shape.size() - 2;
            std::size_t index = 0, stride = 1;
            for (std::size_t d = out_rank; d-- > 0;) {
                const std::size_t extent = out_shape[d];
                const std::size_t position = i % extent;
                i /= extent;
                const std::size_t from_end = out_rank - d;  // numpy aligns from the right
                if (from_end > batch.size()) continue;
                const std::size_t own = batch[batch.size() - from_end];
                if (own != 1) index += position * stride;
                stride *= own;
            }
            return index;
        }
    };

    /// @brief out = op(a)·op(b) + beta·out per matrix, for operands laid out as the inputs.
    void multiply(const Layout& l, const double* a, const double* b, double beta,
                  double* out) const {
        for (std::size_t i = 0; i < l.count; ++i) {
            blas::gemm(trans_a_, trans_b_, l.m, l.n, l.k, 1.0, a + l.a_matrix(i) * l.a_size, l.lda,
                       b + l.b_matrix(i) * l.b_size, l.ldb, beta, out + i * l.m * l.n, l.n);
        }
    }

    Layout layout() const {
        const shape_type& sa = input(0).value().shape();
        const shape_type& sb = input(1).value().shape();
        auto fail = [this]() { shapes_do_not_fit(); };
        if (sa.size() < 2 || sb.size() < 2) fail();
        Layout l;
        const std::size_t ra = sa[sa.size() - 2], ca = sa[sa.size() - 1];
        const std::size_t rb = sb[sb.size() - 2], cb = sb[sb.size() - 1];
        l.m = trans_a_ ? ca : ra;
        l.k = trans_a_ ? ra : ca;
        l.n = trans_b_ ? rb : cb;
        if ((trans_b_ ? cb : rb) != l.k) fail();
        l.lda = ca;
        l.ldb = cb;
        l.a_size = ra * ca;
        l.b_size = rb * cb;
        l.a_batch.assign(sa.begin(), sa.end() - 2);
        l.b_batch.assign(sb.begin(), sb.end() - 2);
        shape_type batch;
        try {
            batch = broadcast_shapes("matmul", l.a_batch, l.b_batch);
        } catch (const shape_error&) {
            fail();
        }
        for (std::size_t extent : batch) l.count *= extent;
        l.out_shape = batch;
        l.out_shape.push_back(l.m);
        l.out_shape.push_back(l.n);
        auto matrices = [](const shape_type& s) {
            std::size_t c = 1;
            for (std::size_t extent : s) c *= extent;
            return c;
        };
        l.a_broadcast = matrices(l.a_batch) != l.count;
        l.b_broadcast = matrices(l.b_batch) != l.count;
        if (l.b_batch.empty() && !trans_a_ && l.count > 0) {
            // A stack times one matrix (inputs times weights): the stack's rows, one after the
            // other, are one tall matrix, so one gemm does it all. (An empty stack keeps count 0:
            // there is no matrix to multiply.)
            l.m *= l.count;
            l.a_size *= l.count;
            l.count = 1;
        }
        return l;
    }

    /// @brief Where gemm puts an operand's gradient, and with which beta: 1 to add, 0 to
    /// overwrite on the first contribution (unless several matrices of Y add into one).
    struct GradientTarget {
        double* data;
        double beta;
    };
    static GradientTarget gradient_target(Node& operand, bool broadcast) {
        GradSink sink(operand);
        if (broadcast) sink.zero_if_first();  // several products add into one matrix
        return {sink.data(), sink.beta()};
    }
};

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

using namespace detail;

namespace detail {
namespace {
/// @brief x's rank, without computing a lazy transpose's value (a transpose keeps its input's
/// rank), so that a transpose feeding matmul is never copied.
std::size_t rank_of(const Var& x) {
    const Node* node = &x.node();
    while (node->kind() == OpKind::transpose) node = &node->input(0);
    return const_cast<Node*>(node)->value().dimension();
}
}  // namespace
}  // namespace detail

Var matmul(const Var& a, const Var& b) {
    const std::size_t rank_a = detail::rank_of(a), rank_b = detail::rank_of(b);
    if ((rank_a >= 3 || rank_b >= 3) && rank_a >= 1 && rank_b >= 1) {
        // numpy: a vector operand of a stack is a one-row (or one-column) matrix, and that axis
        // is dropped from the result again.
        if (rank_a == 1) {
            const Var y = matmul(reshape(a, shape_type{1, a.size()}), b);
            shape_type shape = y.shape();
            shape.erase(shape.end() - 2);
            return reshape(y, shape);
        }
        if (rank_b == 1) {
            const Var y = matmul(a, reshape(b, shape_type{b.size(), 1}));
            shape_type shape = y.shape();
            shape.pop_back();
            return reshape(y, shape);
        }
    }
    const Operand oa = fusion::matmul_operand(a);
    const Operand ob = fusion::matmul_operand(b);
    if (rank_a >= 3 || rank_b >= 3) return finish_op(std::make_shared<BatchedMatMulNode>(oa, ob));
    return finish_op(std::make_shared<MatMulNode>(oa, ob));
}

Var transpose(const Var& x) {
    // As in numpy, a vector's transpose has the same values; it is still a node of its own, so
    // that its gradient is its own.
    if (detail::rank_of(x) < 2) return reshape(x, x.shape());
    return finish_op(std::make_shared<TransposeNode>(x));
}

}  // namespace xgrad
