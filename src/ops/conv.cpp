// Convolution and pooling on NCHW images: conv2d lowered onto the matrix product (im2col), its
// two derivatives as nodes of their own, and max_pool2d / avg_pool2d with their adjoints.
//
// conv2d is bilinear in (x, W): y = W·col(x) per image. Its derivatives are bilinear again:
//   dL/dx = col2im(Wᵀ·G)        (conv2d_input_grad, bilinear in G and W)
//   dL/dW = Σ_n G·col(x)ᵀ       (conv2d_weight_grad, bilinear in x and G)
// and the derivatives of those two are conv2d and each other, so the three nodes are closed
// under differentiation: every order works. The three share three kernels (forward, input
// gradient, weight gradient), each one gemm per image.
//
// Pooling: average pooling is linear; its adjoint (avg_pool2d_transpose) is linear too and its
// adjoint is average pooling again. Max pooling records where each window's maximum is; its
// derivative scatters g to those positions (max_pool2d_scatter), whose derivative gathers
// (max_pool2d_gather), whose derivative scatters again.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "backend/blas_calls.hpp"
#include "backend/elementwise_kernels.hpp"
#include "core/op.hpp"
#include "xgrad/core/allocator.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/ops/conv.hpp"

namespace xgrad::detail {

namespace {

std::string extent_text(std::size_t rows, std::size_t cols) {
    return std::to_string(rows) + "x" + std::to_string(cols);
}

// ---- geometry --------------------------------------------------------------------------------

/// @brief The extents of one convolution: input (N, C, H, W), weight (K, C, kH, kW), output
/// (N, K, H_out, W_out). Every node of the conv2d family works out one on each forward pass.
struct ConvGeometry {
    std::size_t n = 0, c = 0, h = 0, w = 0;
    std::size_t k = 0, kh = 0, kw = 0;
    std::size_t stride = 1, pad = 0;
    std::size_t ho = 0, wo = 0;

    std::size_t rows() const { return c * kh * kw; }  // of the column matrix
    std::size_t out_plane() const { return ho * wo; }
    std::size_t in_image() const { return c * h * w; }
    std::size_t out_image() const { return k * ho * wo; }
    shape_type input_shape() const { return {n, c, h, w}; }
    shape_type weight_shape() const { return {k, c, kh, kw}; }
    shape_type output_shape() const { return {n, k, ho, wo}; }
    /// @brief A 1×1 kernel at stride 1 without padding: an image is its own column matrix.
    bool direct() const { return kh == 1 && kw == 1 && stride == 1 && pad == 0; }
    std::string settings() const {
        return "stride " + std::to_string(stride) + ", padding " + std::to_string(pad);
    }
};

/// @brief Fills in H_out and W_out; throws shape_error naming `op` if the kernel does not fit
/// the padded input or the stride is 0. `operands()` names the operands for the message (a
/// callable, so that a forward pass that fits builds no string: a replayed step allocates
/// nothing).
template <class Operands>
void finish_geometry(const char* op, ConvGeometry& g, Operands operands) {
    if (g.stride == 0)
        throw shape_error(std::string(op) + ": stride must be at least 1 (" + operands() + ")");
    if (g.kh == 0 || g.kw == 0) {
        throw shape_error(std::string(op) + ": the kernel " + extent_text(g.kh, g.kw) +
                          " is empty (" + operands() + ")");
    }
    // a padding near SIZE_MAX (an int −1 passed as size_t) would wrap h + 2·pad around
    constexpr std::size_t max_extent = std::size_t{1} << 40;
    if (g.pad > max_extent || g.h > max_extent || g.w > max_extent) {
        throw shape_error(std::string(op) + ": padding " + std::to_string(g.pad) +
                          " is too large (" + operands() + ")");
    }
    const std::size_t ph = g.h + 2 * g.pad, pw = g.w + 2 * g.pad;
    if (g.kh > ph || g.kw > pw) {
        throw shape_error(std::string(op) + ": kernel " + extent_text(g.kh, g.kw) +
                          " is larger than the padded input " + extent_text(ph, pw) + " (" +
                          operands() + ", padding " + std::to_string(g.pad) + ")");
    }
    g.ho = (ph - g.kh) / g.stride + 1;
    g.wo = (pw - g.kw) / g.stride + 1;
    // the output and the column matrix must have a size that fits (and that memory can hold)
    const double elements = static_cast<double>(g.n) * static_cast<double>(g.k) *
                            static_cast<double>(g.ho) * static_cast<double>(g.wo);
    const double columns = static_cast<double>(g.c) * static_cast<double>(g.kh) *
                           static_cast<double>(g.kw) * static_cast<double>(g.ho) *
                           static_cast<double>(g.wo);
    if (elements > 0x1p40 || columns > 0x1p40) {
        throw shape_error(std::string(op) + ": the output (" + std::to_string(g.n) + "," +
                          std::to_string(g.k) + "," + std::to_string(g.ho) + "," +
                          std::to_string(g.wo) + ") is too large (" + operands() + ", " +
                          g.settings() + ")");
    }
}

/// @brief conv2d's geometry from the input's and the weight's shapes (and the bias's, if any).
ConvGeometry conv_geometry(const shape_type& xs, const shape_type& ws, const shape_type* bs,
                           std::size_t stride, std::size_t pad) {
    if (xs.size() != 4) {
        throw shape_error("conv2d: expects a 4-D input (N,C_in,H,W), got " + format_shape(xs));
    }
    if (ws.size() != 4) {
        throw shape_error("conv2d: expects a 4-D weight (C_out,C_in,kH,kW), got " +
                          format_shape(ws));
    }
    if (ws[1] != xs[1]) {
        throw shape_error("conv2d: weight " + format_shape(ws) + " expects " +
                          std::to_string(ws[1]) + " input channels, input " + format_shape(xs) +
                          " has " + std::to_string(xs[1]));
    }
    if (bs != nullptr && (bs->size() != 1 || (*bs)[0] != ws[0])) {
        throw shape_error("conv2d: bias " + format_shape(*bs) + " does not match weight " +
                          format_shape(ws) + ": expected (" + std::to_string(ws[0]) + ",)");
    }
    ConvGeometry g{xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], stride, pad};
    finish_geometry("conv2d", g,
                    [&] { return "weight " + format_shape(ws) + ", input " + format_shape(xs); });
    return g;
}

/// @brief The geometry of a gradient node of conv2d (`op`): the input x (N, C, H, W), the
/// gradient G (N, K, H_out, W_out) and the weight (K, C, kH, kW), checked to fit each other;
/// `ranks` lists the three shapes in the op's operand order for the rank error.
template <class RankMessage>
ConvGeometry gradient_geometry(const char* op, const shape_type& xs, const shape_type& gs,
                               const shape_type& ws, std::size_t stride, std::size_t pad,
                               RankMessage ranks) {
    if (xs.size() != 4 || gs.size() != 4 || ws.size() != 4) {
        throw shape_error(std::string(op) + ": expects " + ranks());
    }
    ConvGeometry g{xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], stride, pad};
    auto what = [&] { return "weight " + format_shape(ws) + ", input " + format_shape(xs); };
    finish_geometry(op, g, what);
    if (ws[1] != xs[1] || gs != g.output_shape()) {
        throw shape_error(
            std::string(op) + ": gradient " + format_shape(gs) + " does not fit " + what() + " (" +
            g.settings() + ")" +
            (ws[1] != xs[1] ? std::string() : ": expected " + format_shape(g.output_shape())));
    }
    return g;
}

/// @brief conv2d_input_grad's geometry: the gradient G (N, K, H_out, W_out), the weight
/// (K, C, kH, kW) and the input x (N, C, H, W) whose gradient it is (G's extents alone do not
/// give H and W at stride > 1).
ConvGeometry input_grad_geometry(const shape_type& gs, const shape_type& ws, const shape_type& xs,
                                 std::size_t stride, std::size_t pad) {
    return gradient_geometry("conv2d_input_grad", xs, gs, ws, stride, pad, [&] {
        return "a 4-D gradient, weight and input, got " + format_shape(gs) + ", " +
               format_shape(ws) + " and " + format_shape(xs);
    });
}

/// @brief conv2d_weight_grad's geometry: the input x (N, C, H, W), the gradient G
/// (N, K, H_out, W_out) and the weight (K, C, kH, kW) whose gradient it is.
ConvGeometry weight_grad_geometry(const shape_type& xs, const shape_type& gs, const shape_type& ws,
                                  std::size_t stride, std::size_t pad) {
    return gradient_geometry("conv2d_weight_grad", xs, gs, ws, stride, pad, [&] {
        return "a 4-D input, gradient and weight, got " + format_shape(xs) + ", " +
               format_shape(gs) + " and " + format_shape(ws);
    });
}

// ---- im2col and col2im -----------------------------------------------------------------------

/// @brief The output positions o in [lo, hi) whose input position o·stride + offset − pad along
/// one axis lies inside the image (0 ≤ it < extent); the others read the zero padding.
struct Span {
    std::size_t lo, hi;
};
Span inside(std::size_t offset, std::size_t extent, std::size_t out, std::size_t stride,
            std::size_t pad) {
    std::size_t lo = offset >= pad ? 0 : (pad - offset + stride - 1) / stride;
    std::size_t hi = extent + pad > offset ? (extent + pad - offset - 1) / stride + 1 : 0;
    lo = std::min(lo, out);
    hi = std::max(std::min(hi, out), lo);
    return {lo, hi};
}

/// @brief Whether rows of the column matrix can be built and scattered back as whole blocks:
/// stride 1 and an output as wide as the input (kernel width 2·padding + 1, "same" padding),
/// so that the inside rows of an output plane and the input rows they read are both one
/// contiguous run, shifted by j − p (the other positions of a row are padding).
bool same_width(const ConvGeometry& g) {
    return g.stride == 1 && g.wo == g.w;
}

/// @brief Sets to `value` the padding columns (ow < cols.lo, ow ≥ cols.hi) of `rows` rows of W
/// entries in `block`: the entries a shifted block copy takes from the neighbouring input row.
void mark_outside_columns(double* block, std::size_t rows, std::size_t w, const Span& cols,
                          double value) {
    for (std::size_t r = 0; r < rows; ++r) {
        double* row = block + r * w;
        for (std::size_t ow = 0; ow < cols.lo; ++ow) row[ow] = value;
        for (std::size_t ow = cols.hi; ow < w; ++ow) row[ow] = value;
    }
}

/// @brief One image x (C, H, W) as its column matrix: row (c, i, j) holds, for every output
/// position (oh, ow), x[c, oh·s + i − p, ow·s + j − p] (0 in the padding). Rows are `ld` apart.
void im2col(const ConvGeometry& g, const double* x, double* col, std::size_t ld) {
    const std::size_t s = g.stride;
    const bool blocks = same_width(g);
    for (std::size_t c = 0; c < g.c; ++c) {
        const double* plane = x + c * g.h * g.w;
        for (std::size_t i = 0; i < g.kh; ++i) {
            const Span rows = inside(i, g.h, g.ho, s, g.pad);
            for (std::size_t j = 0; j < g.kw; ++j) {
                const Span cols = inside(j, g.w, g.wo, s, g.pad);
                double* dst = col + ((c * g.kh + i) * g.kw + j) * ld;
                if (blocks && cols.lo < cols.hi) {
                    // rows above and below the image, then the inside rows as one shifted copy
                    // of the input rows they read, then each row's padding columns
                    std::fill(dst, dst + rows.lo * g.wo, 0.0);
                    std::fill(dst + rows.hi * g.wo, dst + g.ho * g.wo, 0.0);
                    if (rows.lo == rows.hi) continue;
                    const std::ptrdiff_t d =
                        static_cast<std::ptrdiff_t>(j) - static_cast<std::ptrdiff_t>(g.pad);
                    const double* src = plane + (rows.lo + i - g.pad) * g.w;
                    double* block = dst + rows.lo * g.wo;
                    // block entry k reads input position k + d
                    const std::size_t shift = static_cast<std::size_t>(d < 0 ? -d : d);
                    const std::size_t count = (rows.hi - rows.lo) * g.w - shift;
                    std::copy(src + (d > 0 ? shift : 0), src + (d > 0 ? shift : 0) + count,
                              block + (d < 0 ? shift : 0));
                    mark_outside_columns(block, rows.hi - rows.lo, g.w, cols, 0.0);
                    continue;
                }
                for (std::size_t oh = 0; oh < g.ho; ++oh, dst += g.wo) {
                    if (oh < rows.lo || oh >= rows.hi || cols.lo == cols.hi) {
                        std::fill(dst, dst + g.wo, 0.0);
                        continue;
                    }
                    // the first inside column reads ow·s + j − p ≥ 0
                    const double* src =
                        plane + (oh * s + i - g.pad) * g.w + (cols.lo * s + j - g.pad);
                    std::fill(dst, dst + cols.lo, 0.0);
                    for (std::size_t ow = cols.lo; ow < cols.hi; ++ow) {
                        dst[ow] = src[(ow - cols.lo) * s];
                    }
                    std::fill(dst + cols.hi, dst + g.wo, 0.0);
                }
            }
        }
    }
}

/// @brief The adjoint of im2col: adds each entry of a column matrix (rows `ld` apart) into the
/// image position it was read from (overlapping patches add up; padding entries are dropped).
/// With same_width(g), each row's inside rows are added as one shifted block, its padding
/// entries first overwritten in `col` with −0 (which adds nothing to any number, ±0 included):
/// the same additions in the same order as element by element.
void col2im(const ConvGeometry& g, double* col, std::size_t ld, double* x) {
    const std::size_t s = g.stride;
    const bool blocks = same_width(g);
    for (std::size_t c = 0; c < g.c; ++c) {
        double* plane = x + c * g.h * g.w;
        for (std::size_t i = 0; i < g.kh; ++i) {
            const Span rows = inside(i, g.h, g.ho, s, g.pad);
            for (std::size_t j = 0; j < g.kw; ++j) {
                const Span cols = inside(j, g.w, g.wo, s, g.pad);
                if (cols.lo == cols.hi || rows.lo == rows.hi) continue;
                double* src = col + ((c * g.kh + i) * g.kw + j) * ld;
                if (blocks) {
                    const std::ptrdiff_t d =
                        static_cast<std::ptrdiff_t>(j) - static_cast<std::ptrdiff_t>(g.pad);
                    double* block = src + rows.lo * g.wo;
                    mark_outside_columns(block, rows.hi - rows.lo, g.w, cols, -0.0);
                    // column-matrix entry k of the block goes to input position k + d
                    const std::size_t shift = static_cast<std::size_t>(d < 0 ? -d : d);
                    const double* from = block + (d < 0 ? shift : 0);
                    double* to = plane + (rows.lo + i - g.pad) * g.w + (d > 0 ? shift : 0);
                    const std::size_t count = (rows.hi - rows.lo) * g.w - shift;
                    for (std::size_t k = 0; k < count; ++k) to[k] += from[k];
                    continue;
                }
                for (std::size_t oh = rows.lo; oh < rows.hi; ++oh) {
                    const double* from = src + oh * g.wo + cols.lo;
                    // the first inside column reads ow·s + j − p ≥ 0
                    double* dst = plane + (oh * s + i - g.pad) * g.w + (cols.lo * s + j - g.pad);
                    for (std::size_t o = 0; o < cols.hi - cols.lo; ++o) dst[o * s] += from[o];
                }
            }
        }
    }
}

// ---- the three kernels of the conv2d family ---------------------------------------------------

/// @brief A node's reusable column matrix, (C·kH·kW) × (H_out·W_out): one image's at a time,
/// kept across the node's forward and backward passes (and replays) so that it is allocated
/// once. One gemm per image was measured faster than one gemm over the whole batch's columns
/// (forward and backward of Fashion-MNIST's two layers, 1→16 on 28×28 and 16→32 on 14×14,
/// 3×3, padding 1, one thread: 17–21 ms against 28 ms at batch 64, 81 ms against 118 ms at
/// batch 256; gemms of 4 images tied with one), and the matrix (at most 225 KB there) stays in
/// cache between im2col and the product.
struct ConvScratch {
    std::vector<double, caching_allocator<double>> col;       // last step's buffer, not fresh pages
    std::vector<double, caching_allocator<double>> weight_t;  // conv_weight_grad's dwᵀ

    double* columns(const ConvGeometry& g) {
        const std::size_t size = g.rows() * g.out_plane();
        if (col.size() < size) col.resize(size);
        return col.data();
    }
};

/// @brief Image n's column matrix: the image itself for a direct (1×1) convolution, else built
/// in scratch.
const double* columns_of(const ConvGeometry& g, const double* x, std::size_t n,
                         ConvScratch& scratch) {
    if (g.direct()) return x + n * g.in_image();
    double* col = scratch.columns(g);
    im2col(g, x + n * g.in_image(), col, g.out_plane());
    return col;
}

/// @brief y_n = W·col(x_n) + beta·y_n for every image n, W seen as K × (C·kH·kW): the
/// convolution without bias.
void conv_forward(const ConvGeometry& g, const double* x, const double* w, double beta, double* y,
                  ConvScratch& scratch) {
    const std::size_t plane = g.out_plane(), rows = g.rows();
    for (std::size_t n = 0; n < g.n; ++n) {
        const double* cols = columns_of(g, x, n, scratch);
        blas::gemm(false, false, g.k, plane, rows, 1.0, w, rows, cols, plane, beta,
                   y + n * g.out_image(), plane);
    }
}

/// @brief dx_n += col2im(Wᵀ·G_n) for every image n: the gradient of the convolution with
/// respect to its input, added into dx (N, C, H, W).
void conv_input_grad(const ConvGeometry& g, const double* gy, const double* w, double* dx,
                     ConvScratch& scratch) {
    const std::size_t plane = g.out_plane(), rows = g.rows();
    for (std::size_t n = 0; n < g.n; ++n) {
        const double* g_n = gy + n * g.out_image();
        double* dx_n = dx + n * g.in_image();
        if (g.direct()) {  // col2im is the identity: add Wᵀ·G_n straight into dx_n
            blas::gemm(true, false, rows, plane, g.k, 1.0, w, rows, g_n, plane, 1.0, dx_n, plane);
            continue;
        }
        double* dcol = scratch.columns(g);
        blas::gemm(true, false, rows, plane, g.k, 1.0, w, rows, g_n, plane, 0.0, dcol, plane);
        col2im(g, dcol, plane, dx_n);
    }
}

/// @brief dw = Σ_n G_n·col(x_n)ᵀ + beta·dw: the gradient of the convolution with respect to its
/// weight (K, C, kH, kW). With no image, dw = beta·dw (0 for beta = 0). Summed as its transpose,
/// dwᵀ = Σ_n col(x_n)·G_nᵀ ((C·kH·kW) × K, in scratch), then transposed into dw: for the CNN's
/// 16 → 32 layer that product (144×32×196, B transposed) tiles exactly in the packed gemm, 35 µs
/// an image against 45 µs for G_n·col(x_n)ᵀ (32×144×196), which no small-matrix kernel takes.
void conv_weight_grad(const ConvGeometry& g, const double* x, const double* gy, double beta,
                      double* dw, ConvScratch& scratch) {
    const std::size_t plane = g.out_plane(), rows = g.rows();
    if (g.n == 0) {
        for (std::size_t e = 0; e < g.k * rows; ++e) dw[e] = beta == 0.0 ? 0.0 : beta * dw[e];
        return;
    }
    std::vector<double, caching_allocator<double>>& sum_t = scratch.weight_t;
    sum_t.resize(rows * g.k);
    for (std::size_t n = 0; n < g.n; ++n) {
        const double* cols = columns_of(g, x, n, scratch);
        blas::gemm(false, true, rows, g.k, plane, 1.0, cols, plane, gy + n * g.out_image(), plane,
                   n == 0 ? 0.0 : 1.0, sum_t.data(), g.k);
    }
    for (std::size_t k = 0; k < g.k; ++k) {
        for (std::size_t r = 0; r < rows; ++r) {
            double& out = dw[k * rows + r];
            out = beta == 0.0 ? sum_t[r * g.k + k] : beta * out + sum_t[r * g.k + k];
        }
    }
}

/// @brief y[n,k,:,:] += b[k].
void add_bias(const ConvGeometry& g, const double* b, double* y) {
    const std::size_t plane = g.out_plane();
    for (std::size_t n = 0; n < g.n; ++n) {
        for (std::size_t k = 0; k < g.k; ++k) {
            double* row = y + (n * g.k + k) * plane;
            for (std::size_t o = 0; o < plane; ++o) row[o] += b[k];
        }
    }
}

Var input_grad_op(const Var& gy, const Var& w, const Var& x_like, std::size_t stride,
                  std::size_t pad);
Var weight_grad_op(const Var& x, const Var& gy, const Var& w_like, std::size_t stride,
                   std::size_t pad);

// ---- conv2d ----------------------------------------------------------------------------------

/// @brief Whether any of the (defined) operands needs a gradient and recording is on; an empty
/// operand is left for add_input to refuse with the op's name.
bool any_needs_grad(std::initializer_list<const Var*> operands) {
    if (!is_grad_enabled()) return false;
    return std::any_of(operands.begin(), operands.end(),
                       [](const Var* v) { return v->defined() && v->requires_grad(); });
}

/// @brief y = conv2d(x, W) + b: inputs x, W and (if given) b.
class Conv2dNode final : public Node {
  public:
    Conv2dNode(const Var& x, const Var& w, const Var& b, std::size_t stride, std::size_t pad)
        : Node("conv2d", any_needs_grad({&x, &w, &b})),
          stride_(stride),
          pad_(pad),
          has_bias_(b.defined()) {
        add_input(x.node_ptr());
        add_input(w.node_ptr());
        if (has_bias_) add_input(b.node_ptr());
    }

    void forward() override {
        const array& x = input(0).value();
        const array& w = input(1).value();
        const array* b = has_bias_ ? &input(2).value() : nullptr;
        geom_ = conv_geometry(x.shape(), w.shape(), b ? &b->shape() : nullptr, stride_, pad_);
        value_.resize(geom_.output_shape());
        conv_forward(geom_, x.data(), w.data(), 0.0, value_.data(), scratch_);
        if (b) add_bias(geom_, b->data(), value_.data());
    }

    // dL/dW = Σ_n G·col(x)ᵀ (gemm, beta 0 on the first contribution); dL/dx = col2im(Wᵀ·G)
    // (col2im only adds: zero_if_first); dL/db[k] = Σ_{n,oh,ow} G[n,k,oh,ow].
    void backward() override {
        const double* gy = grad().data();
        const double* x = input(0).value().data();
        const double* w = input(1).value().data();
        if (input(1).requires_grad()) {
            const GradSink gw(input(1));
            conv_weight_grad(geom_, x, gy, gw.beta(), gw.data(), scratch_);
        }
        if (input(0).requires_grad()) {
            GradSink gx(input(0));
            gx.zero_if_first();
            conv_input_grad(geom_, gy, w, gx.data(), scratch_);
        }
        if (has_bias_ && input(2).requires_grad()) {
            const GradSink gb(input(2));
            const std::size_t plane = geom_.out_plane();
            for (std::size_t k = 0; k < geom_.k; ++k) {
                double total = 0.0;
                for (std::size_t n = 0; n < geom_.n; ++n) {
                    total += detail::sum(gy + (n * geom_.k + k) * plane, plane);
                }
                gb.put(k, total);
            }
        }
    }

    // The same derivatives as nodes: dx = conv2d_input_grad(G, W), dW = conv2d_weight_grad(x, G),
    // db = G summed to (1, K, 1, 1) and read as (K,).
    GradVars backward_as_graph(const Var& g) override {
        GradVars out(input_count());
        if (input(0).requires_grad()) {
            out[0] = input_grad_op(g, input_var(1), input_var(0), stride_, pad_);
        }
        if (input(1).requires_grad()) {
            out[1] = weight_grad_op(input_var(0), g, input_var(1), stride_, pad_);
        }
        if (has_bias_ && input(2).requires_grad()) {
            out[2] = reshape(sum_to(g, shape_type{1, geom_.k, 1, 1}), shape_type{geom_.k});
        }
        return out;
    }

    // Bilinear in (x, W), affine in b: J·t = conv2d(t_x, W) + conv2d(x, t_W) + t_b
    array tangent(const Tangents& t) override {
        array out = xt::zeros<double>(geom_.output_shape());
        ConvScratch scratch;
        const double* x = input(0).value().data();
        const double* w = input(1).value().data();
        if (t[0]) conv_forward(geom_, t[0]->data(), w, 1.0, out.data(), scratch);
        if (t[1]) conv_forward(geom_, x, t[1]->data(), 1.0, out.data(), scratch);
        if (has_bias_ && t[2]) add_bias(geom_, t[2]->data(), out.data());
        return out;
    }

  private:
    std::size_t stride_, pad_;
    bool has_bias_;
    ConvGeometry geom_;
    ConvScratch scratch_;
};

/// @brief Z = col2im(Wᵀ·G) for G (N, K, H_out, W_out) and W (K, C, kH, kW): Z (N, C, H, W),
/// conv2d's gradient with respect to its input x (a transposed convolution). Bilinear in (G, W).
/// x itself is a third input, read for its shape alone (H and W, which G's extents do not give
/// at stride > 1), so that a replay with another image size works it out again; it passes no
/// gradient.
class ConvInputGradNode final : public Node {
  public:
    ConvInputGradNode(const Var& gy, const Var& w, const Var& x_like, std::size_t stride,
                      std::size_t pad)
        : Node("conv2d_input_grad", any_needs_grad({&gy, &w})), stride_(stride), pad_(pad) {
        add_input(gy.node_ptr());
        add_input(w.node_ptr());
        add_input(x_like.node_ptr());
    }

    void forward() override {
        const array& gy = input(0).value();
        const array& w = input(1).value();
        geom_ = input_grad_geometry(gy.shape(), w.shape(), input(2).value().shape(), stride_, pad_);
        value_.resize(geom_.input_shape());
        std::fill(value_.begin(), value_.end(), 0.0);
        conv_input_grad(geom_, gy.data(), w.data(), value_.data(), scratch_);
    }

    // Z is conv2d's adjoint in x, so for Γ = dL/dZ: dL/dG = conv2d(Γ, W) and
    // dL/dW[k,c,i,j] = Σ_{n,o} Γ[n,c,o·s+i−p] G[n,k,o] = conv2d_weight_grad(Γ, G).
    void backward() override {
        const double* gamma = grad().data();
        const double* gy = input(0).value().data();
        const double* w = input(1).value().data();
        if (input(0).requires_grad()) {
            const GradSink gg(input(0));
            conv_forward(geom_, gamma, w, gg.beta(), gg.data(), scratch_);
        }
        if (input(1).requires_grad()) {
            const GradSink gw(input(1));
            conv_weight_grad(geom_, gamma, gy, gw.beta(), gw.data(), scratch_);
        }
    }

    GradVars backward_as_graph(const Var& gamma) override {
        GradVars out(2);
        if (input(0).requires_grad()) out[0] = conv2d(gamma, input_var(1), Var(), stride_, pad_);
        if (input(1).requires_grad()) {
            out[1] = weight_grad_op(gamma, input_var(0), input_var(1), stride_, pad_);
        }
        return out;
    }

    // Bilinear: J·t = col2im(Wᵀ·t_G) + col2im(t_Wᵀ·G) (the shape input has no tangent part)
    array tangent(const Tangents& t) override {
        array out = xt::zeros<double>(geom_.input_shape());
        ConvScratch scratch;
        if (t[0])
            conv_input_grad(geom_, t[0]->data(), input(1).value().data(), out.data(), scratch);
        if (t[1])
            conv_input_grad(geom_, input(0).value().data(), t[1]->data(), out.data(), scratch);
        return out;
    }

  private:
    std::size_t stride_, pad_;
    ConvGeometry geom_;
    ConvScratch scratch_;
};

/// @brief V = Σ_n G·col(x)ᵀ for x (N, C, H, W) and G (N, K, H_out, W_out): V (K, C, kH, kW),
/// conv2d's gradient with respect to its weight W. Bilinear in (x, G). W itself is a third
/// input, read for its shape alone (the kernel's extents); it passes no gradient.
class ConvWeightGradNode final : public Node {
  public:
    ConvWeightGradNode(const Var& x, const Var& gy, const Var& w_like, std::size_t stride,
                       std::size_t pad)
        : Node("conv2d_weight_grad", any_needs_grad({&x, &gy})), stride_(stride), pad_(pad) {
        add_input(x.node_ptr());
        add_input(gy.node_ptr());
        add_input(w_like.node_ptr());
    }

    void forward() override {
        const array& x = input(0).value();
        const array& gy = input(1).value();
        geom_ =
            weight_grad_geometry(x.shape(), gy.shape(), input(2).value().shape(), stride_, pad_);
        value_.resize(geom_.weight_shape());
        conv_weight_grad(geom_, x.data(), gy.data(), 0.0, value_.data(), scratch_);
    }

    // For Γ = dL/dV (K, C, kH, kW): V is linear in x with "weight" G and linear in G with "input"
    // x, so dL/dx = col2im(Γᵀ·G) = conv2d_input_grad(G, Γ) and dL/dG = conv2d(x, Γ).
    void backward() override {
        const double* gamma = grad().data();
        const double* x = input(0).value().data();
        const double* gy = input(1).value().data();
        if (input(0).requires_grad()) {
            GradSink gx(input(0));
            gx.zero_if_first();
            conv_input_grad(geom_, gy, gamma, gx.data(), scratch_);
        }
        if (input(1).requires_grad()) {
            const GradSink gg(input(1));
            conv_forward(geom_, x, gamma, gg.beta(), gg.data(), scratch_);
        }
    }

    GradVars backward_as_graph(const Var& gamma) override {
        GradVars out(2);
        if (input(0).requires_grad()) {
            out[0] = input_grad_op(input_var(1), gamma, input_var(0), stride_, pad_);
        }
        if (input(1).requires_grad()) out[1] = conv2d(input_var(0), gamma, Var(), stride_, pad_);
        return out;
    }

    // Bilinear: J·t = Σ_n G·col(t_x)ᵀ + Σ_n t_G·col(x)ᵀ (the shape input has no tangent part)
    array tangent(const Tangents& t) override {
        array out = xt::zeros<double>(geom_.weight_shape());
        ConvScratch scratch;
        if (t[0]) {
            conv_weight_grad(geom_, t[0]->data(), input(1).value().data(), 1.0, out.data(),
                             scratch);
        }
        if (t[1]) {
            conv_weight_grad(geom_, input(0).value().data(), t[1]->data(), 1.0, out.data(),
                             scratch);
        }
        return out;
    }

  private:
    std::size_t stride_, pad_;
    ConvGeometry geom_;
    ConvScratch scratch_;
};

Var input_grad_op(const Var& gy, const Var& w, const Var& x_like, std::size_t stride,
                  std::size_t pad) {
    return finish_op(std::make_shared<ConvInputGradNode>(gy, w, x_like, stride, pad));
}

Var weight_grad_op(const Var& x, const Var& gy, const Var& w_like, std::size_t stride,
                   std::size_t pad) {
    return finish_op(std::make_shared<ConvWeightGradNode>(x, gy, w_like, stride, pad));
}

// ---- pooling ---------------------------------------------------------------------------------

/// @brief The extents of one pooling: N·C planes of H × W in, H_out × W_out out.
struct PoolGeometry {
    std::size_t n = 0, c = 0, h = 0, w = 0, kernel = 1, stride = 1, ho = 0, wo = 0;

    std::size_t planes() const { return n * c; }
    shape_type input_shape() const { return {n, c, h, w}; }
    shape_type output_shape() const { return {n, c, ho, wo}; }
    /// @brief Where the window of output (oh, ow) starts in its input plane.
    std::size_t window_start(std::size_t oh, std::size_t ow) const {
        return oh * stride * w + ow * stride;
    }
};

/// @brief Pooling geometry for an input of shape xs; shape_error naming `op` for a rank other
/// than 4, a kernel of 0 or a kernel larger than the image. Stride 0 means stride = kernel.
PoolGeometry pool_geometry(const char* op, const shape_type& xs, std::size_t kernel,
                           std::size_t stride) {
    const std::string name(op);
    if (xs.size() != 4) {
        throw shape_error(name + ": expects a 4-D input (N,C,H,W), got " + format_shape(xs));
    }
    if (kernel == 0) {
        throw shape_error(name + ": kernel must be at least 1 (input " + format_shape(xs) + ")");
    }
    if (kernel > xs[2] || kernel > xs[3]) {
        throw shape_error(name + ": kernel " + extent_text(kernel, kernel) +
                          " is larger than the input " + format_shape(xs));
    }
    PoolGeometry g{xs[0], xs[1], xs[2], xs[3], kernel, stride == 0 ? kernel : stride};
    g.ho = (g.h - kernel) / g.stride + 1;
    g.wo = (g.w - kernel) / g.stride + 1;
    return g;
}

/// @brief Throws shape_error naming `op` unless a gradient of shape gs fits pooling's output.
void require_pool_output(const char* op, const shape_type& gs, const PoolGeometry& g) {
    if (gs != g.output_shape()) {
        throw shape_error(std::string(op) + ": gradient " + format_shape(gs) +
                          " does not fit the pooled output " + format_shape(g.output_shape()) +
                          " of input " + format_shape(g.input_shape()) + " (kernel " +
                          std::to_string(g.kernel) + ", stride " + std::to_string(g.stride) + ")");
    }
}

/// @brief y = the mean of each window of x (N, C, H, W) → (N, C, H_out, W_out); with `add`,
/// y += instead of y =.
void avg_pool_into(const PoolGeometry& g, const double* x, double* y, bool add) {
    const auto divisor = static_cast<double>(g.kernel * g.kernel);  // divided, as PyTorch
    for (std::size_t p = 0; p < g.planes(); ++p) {
        const double* plane = x + p * g.h * g.w;
        double* out = y + p * g.ho * g.wo;
        for (std::size_t oh = 0; oh < g.ho; ++oh) {
            for (std::size_t ow = 0; ow < g.wo; ++ow) {
                const double* window = plane + g.window_start(oh, ow);
                double total = 0.0;
                for (std::size_t i = 0; i < g.kernel; ++i) {
                    for (std::size_t j = 0; j < g.kernel; ++j) total += window[i * g.w + j];
                }
                double& slot = out[oh * g.wo + ow];
                slot = add ? slot + total / divisor : total / divisor;
            }
        }
    }
}

/// @brief The adjoint of avg_pool_into: adds g/kernel² of each output to every position of its
/// window in dx (N, C, H, W).
void avg_unpool_add(const PoolGeometry& g, const double* gy, double* dx) {
    const auto divisor = static_cast<double>(g.kernel * g.kernel);  // divided, as PyTorch
    for (std::size_t p = 0; p < g.planes(); ++p) {
        double* plane = dx + p * g.h * g.w;
        const double* from = gy + p * g.ho * g.wo;
        for (std::size_t oh = 0; oh < g.ho; ++oh) {
            for (std::size_t ow = 0; ow < g.wo; ++ow) {
                const double share = from[oh * g.wo + ow] / divisor;
                double* window = plane + g.window_start(oh, ow);
                for (std::size_t i = 0; i < g.kernel; ++i) {
                    for (std::size_t j = 0; j < g.kernel; ++j) window[i * g.w + j] += share;
                }
            }
        }
    }
}

/// @brief y = avg_pool2d(x): linear.
class AvgPoolNode final : public SingleInputNode {
  public:
    AvgPoolNode(const Var& x, std::size_t kernel, std::size_t stride)
        : SingleInputNode("avg_pool2d", x), kernel_(kernel), stride_(stride) {}

    void forward() override {
        const array& x = input(0).value();
        geom_ = pool_geometry("avg_pool2d", x.shape(), kernel_, stride_);
        value_.resize(geom_.output_shape());
        avg_pool_into(geom_, x.data(), value_.data(), false);
    }

    // dy[o]/dx[q] = 1/kernel² for q in window o: each window's g/kernel² spread over it, summed
    // where windows overlap (an add-only loop: zero_if_first)
    void backward_into(Node& x) override {
        GradSink gx(x);
        gx.zero_if_first();
        avg_unpool_add(geom_, grad().data(), gx.data());
    }

    Var gradient_as_graph(const Var& g) override;

    // linear: the tangent pooled like the value
    array tangent_of(const array& t) override {
        array out = array::from_shape(geom_.output_shape());
        avg_pool_into(geom_, t.data(), out.data(), false);
        return out;
    }

  private:
    std::size_t kernel_, stride_;
    PoolGeometry geom_;
};

/// @brief Z = the transpose of avg_pool2d applied to G (N, C, H_out, W_out): Z (N, C, H, W) with
/// each G/kernel² spread over its window. Linear in G; its adjoint is avg_pool2d. The pooled
/// input x is a second input, read for its shape alone (H and W, which G's extents do not give
/// at stride > 1); it passes no gradient.
class AvgUnpoolNode final : public Node {
  public:
    AvgUnpoolNode(const Var& gy, const Var& x_like, std::size_t kernel, std::size_t stride)
        : Node("avg_pool2d_transpose", any_needs_grad({&gy})), kernel_(kernel), stride_(stride) {
        add_input(gy.node_ptr());
        add_input(x_like.node_ptr());
    }

    void forward() override {
        const array& gy = input(0).value();
        geom_ = pool_geometry("avg_pool2d_transpose", input(1).value().shape(), kernel_, stride_);
        require_pool_output("avg_pool2d_transpose", gy.shape(), geom_);
        value_.resize(geom_.input_shape());
        std::fill(value_.begin(), value_.end(), 0.0);
        avg_unpool_add(geom_, gy.data(), value_.data());
    }

    // Z = Aᵀ G for average pooling A, so dL/dG = A Γ: average pooling of Γ (each element of the
    // gradient written once)
    void backward() override {
        if (!input(0).requires_grad()) return;
        const GradSink gg(input(0));
        avg_pool_into(geom_, grad().data(), gg.data(), !gg.first());
    }

    GradVars backward_as_graph(const Var& gamma) override {
        if (!input(0).requires_grad()) return {};
        return {avg_pool2d(gamma, kernel_, stride_)};
    }

    // linear in G (the shape input has no tangent part): the tangent spread like the value
    array tangent(const Tangents& t) override {
        array out = xt::zeros<double>(geom_.input_shape());
        if (t[0]) avg_unpool_add(geom_, t[0]->data(), out.data());
        return out;
    }

  private:
    std::size_t kernel_, stride_;
    PoolGeometry geom_;
};

Var AvgPoolNode::gradient_as_graph(const Var& g) {
    return finish_op(std::make_shared<AvgUnpoolNode>(g, input_var(0), kernel_, stride_));
}

/// @brief Where the maxima of one max_pool2d pass are: for each output element, the flat index
/// of its window's maximum in x. Rewritten by every forward pass of the pool, and read by the
/// scatter and gather nodes built from its derivative.
struct ArgmaxRecord {
    /// @brief Flat indices into x, one per output element (in the caching allocator's storage:
    /// a graph rebuilt every step gets last step's buffer back instead of fresh pages).
    using Positions = std::vector<std::size_t, caching_allocator<std::size_t>>;
    shape_type in_shape, out_shape;
    Positions source;
};

/// @brief y = max_pool2d(x) for any kernel and stride, and where each maximum is (`source`: flat
/// indices into x). PyTorch's CPU kernel: the running maximum starts at −inf on the window's
/// first position and moves to an element that is larger (a tie keeps the first) or NaN (so the
/// last NaN of a window wins).
void max_pool_any(const PoolGeometry& g, const double* x, double* y, std::size_t* source) {
    constexpr double lowest = -std::numeric_limits<double>::infinity();
    for (std::size_t p = 0, e = 0; p < g.planes(); ++p) {
        const std::size_t offset = p * g.h * g.w;
        const double* plane = x + offset;
        for (std::size_t oh = 0; oh < g.ho; ++oh) {
            for (std::size_t ow = 0; ow < g.wo; ++ow, ++e) {
                const std::size_t start = g.window_start(oh, ow);
                std::size_t best_at = start;
                double best = lowest;
                for (std::size_t i = 0; i < g.kernel; ++i) {
                    for (std::size_t j = 0; j < g.kernel; ++j) {
                        const std::size_t at = start + i * g.w + j;
                        const double v = plane[at];
                        if (v > best || std::isnan(v)) {
                            best = v;
                            best_at = at;
                        }
                    }
                }
                y[e] = best;
                source[e] = offset + best_at;
            }
        }
    }
}

/// @brief One step of the running maximum without a branch (the comparisons are unpredictable
/// on real data): move to v, found at `code`, if v > best or v is NaN.
inline void take_if(double v, std::size_t code, double& best, std::size_t& at) {
    const bool take = (v > best) | std::isnan(v);
    best = take ? v : best;
    at = take ? code : at;
}

#if defined(__SSE2__)
/// @brief take_if for two windows at once (lanes of doubles and of 64-bit positions).
inline void take_if(__m128d v, __m128i code, __m128d& best, __m128i& at) {
    const __m128d take = _mm_or_pd(_mm_cmpgt_pd(v, best), _mm_cmpunord_pd(v, v));
    best = _mm_or_pd(_mm_and_pd(take, v), _mm_andnot_pd(take, best));
    const __m128i mask = _mm_castpd_si128(take);
    at = _mm_or_si128(_mm_and_si128(mask, code), _mm_andnot_si128(mask, at));
}
#endif

/// @brief max_pool_any for kernel 2, stride 2, the same numbers and positions: a window's first
/// element is where the running maximum starts (−inf stays at the first position in
/// max_pool_any too), then the other three in order. Two windows at a time with SSE2. Measured on
/// (128,16,28,28): 7.5 → 1.1 ms, (128,32,14,14): 3.8 → 0.7 ms.
void max_pool_2x2(const PoolGeometry& g, const double* x, double* y, std::size_t* source) {
    const std::size_t w = g.w;
#if defined(__SSE2__)
    const auto wide = static_cast<long long>(w);
    const __m128i right = _mm_set1_epi64x(1), below = _mm_set1_epi64x(wide),
                  diagonal = _mm_set1_epi64x(wide + 1), lanes = _mm_set_epi64x(2, 0);
#endif
    for (std::size_t p = 0; p < g.planes(); ++p) {
        for (std::size_t oh = 0; oh < g.ho; ++oh) {
            const std::size_t base = p * g.h * w + 2 * oh * w;  // the row pair's first element
            const double* r0 = x + base;
            const double* r1 = r0 + w;
            double* out = y + (p * g.ho + oh) * g.wo;
            std::size_t* at_out = source + (p * g.ho + oh) * g.wo;
            std::size_t ow = 0;
#if defined(__SSE2__)
            for (; ow + 2 <= g.wo; ow += 2) {
                const __m128d a0 = _mm_loadu_pd(r0 + 2 * ow), a1 = _mm_loadu_pd(r0 + 2 * ow + 2);
                const __m128d b0 = _mm_loadu_pd(r1 + 2 * ow), b1 = _mm_loadu_pd(r1 + 2 * ow + 2);
                __m128d best = _mm_unpacklo_pd(a0, a1);
                __m128i at = _mm_setzero_si128();
                take_if(_mm_unpackhi_pd(a0, a1), right, best, at);
                take_if(_mm_unpacklo_pd(b0, b1), below, best, at);
                take_if(_mm_unpackhi_pd(b0, b1), diagonal, best, at);
                _mm_storeu_pd(out + ow, best);
                const __m128i first = _mm_set1_epi64x(static_cast<long long>(base + 2 * ow));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(at_out + ow),
                                 _mm_add_epi64(first, _mm_add_epi64(lanes, at)));
            }
#endif
            for (; ow < g.wo; ++ow) {
                double best = r0[2 * ow];
                std::size_t at = 0;
                take_if(r0[2 * ow + 1], 1, best, at);
                take_if(r1[2 * ow], w, best, at);
                take_if(r1[2 * ow + 1], w + 1, best, at);
                out[ow] = best;
                at_out[ow] = base + 2 * ow + at;
            }
        }
    }
}

/// @brief dx = the gradient g routed to the recorded maxima (summed where windows share one),
/// overwriting dx: each plane zeroed and then routed into while it is in cache (a window's
/// maximum lies in its own plane).
void route_by_plane(const PoolGeometry& g, const double* gy, double* dx,
                    const std::size_t* source) {
    const std::size_t in_plane = g.h * g.w, out_plane = g.ho * g.wo;
    for (std::size_t p = 0; p < g.planes(); ++p) {
        std::fill(dx + p * in_plane, dx + (p + 1) * in_plane, 0.0);
        for (std::size_t e = p * out_plane; e < (p + 1) * out_plane; ++e) dx[source[e]] += gy[e];
    }
}

/// @brief y = max_pool2d(x), recording each window's argmax.
class MaxPoolNode final : public SingleInputNode {
  public:
    MaxPoolNode(const Var& x, std::size_t kernel, std::size_t stride)
        : SingleInputNode("max_pool2d", x),
          kernel_(kernel),
          stride_(stride),
          record_(std::make_shared<ArgmaxRecord>()) {}

    void forward() override {
        const array& x = input(0).value();
        const PoolGeometry g = pool_geometry("max_pool2d", x.shape(), kernel_, stride_);
        record_->in_shape = g.input_shape();
        record_->out_shape = g.output_shape();
        value_.resize(record_->out_shape);
        record_->source.resize(value_.size());
        if (g.kernel == 2 && g.stride == 2) {
            max_pool_2x2(g, x.data(), value_.data(), record_->source.data());
        } else {
            max_pool_any(g, x.data(), value_.data(), record_->source.data());
        }
    }

    // dy[e]/dx[q] = [q = argmax of window e]: g routed to the maxima, summed where one position
    // is the maximum of several windows (an add-only loop: zero_if_first)
    void backward_into(Node& x) override {
        GradSink gx(x);
        const PoolGeometry g = pool_geometry("max_pool2d", record_->in_shape, kernel_, stride_);
        if (gx.first()) {  // a plane at a time, zeroed while it is in cache, then routed into
            route_by_plane(g, grad().data(), gx.data(), record_->source.data());
            return;
        }
        double* dx = gx.data();
        const double* gy = grad().data();
        const ArgmaxRecord::Positions& source = record_->source;
        for (std::size_t e = 0; e < source.size(); ++e) dx[source[e]] += gy[e];
    }

    Var gradient_as_graph(const Var& g) override;

    // piecewise linear: t read at the maxima
    array tangent_of(const array& t) override {
        array out = array::from_shape(record_->out_shape);
        const ArgmaxRecord::Positions& source = record_->source;
        for (std::size_t e = 0; e < source.size(); ++e) out.data()[e] = t.data()[source[e]];
        return out;
    }

  private:
    std::size_t kernel_, stride_;
    std::shared_ptr<ArgmaxRecord> record_;
};

/// @brief The two routing nodes of max pooling's derivatives, both linear in their first input:
/// scatter (Z of x's shape, Z[source[e]] += G[e]) and gather (Z of y's shape, Z[e] =
/// G[source[e]]), each the other's adjoint. The pool node is a second input that passes no
/// gradient (the positions are piecewise constant in x): it orders a replay (the pool records
/// the positions first) and makes a backward pass refuse positions newer than the values.
class ArgmaxRouteNode final : public Node {
  public:
    ArgmaxRouteNode(const Var& g, const Var& pool, std::shared_ptr<const ArgmaxRecord> record,
                    bool scatter)
        : Node(scatter ? "max_pool2d_scatter" : "max_pool2d_gather", any_requires_grad({&g})),
          record_(std::move(record)),
          scatter_(scatter) {
        add_input(g.node_ptr());
        add_input(pool.node_ptr());
    }

    void forward() override {
        const array& g = input(0).value();
        const shape_type& from = scatter_ ? record_->out_shape : record_->in_shape;
        if (g.shape() != from) {
            throw shape_error(
                std::string(op_name()) + ": an operand of shape " + format_shape(g.shape()) +
                " does not fit max_pool2d of " + format_shape(record_->in_shape) + " into " +
                format_shape(record_->out_shape) + ": expected " + format_shape(from));
        }
        value_.resize(scatter_ ? record_->in_shape : record_->out_shape);
        route(g.data(), value_.data(), scatter_);
    }

    // Z = R G for a 0/1 routing matrix R: dL/dG = Rᵀ Γ, the other routing. A gather writes each
    // element once; a scatter only adds (zero_if_first).
    void backward() override {
        if (!input(0).requires_grad()) return;
        GradSink gg(input(0));
        const double* gamma = grad().data();
        const ArgmaxRecord::Positions& source = record_->source;
        if (scatter_) {  // adjoint: gather
            for (std::size_t e = 0; e < source.size(); ++e) gg.put(e, gamma[source[e]]);
            return;
        }
        gg.zero_if_first();
        double* dg = gg.data();
        for (std::size_t e = 0; e < source.size(); ++e) dg[source[e]] += gamma[e];
    }

    GradVars backward_as_graph(const Var& gamma) override {
        if (!input(0).requires_grad()) return {};
        return {
            finish_op(std::make_shared<ArgmaxRouteNode>(gamma, input_var(1), record_, !scatter_))};
    }

    // linear in G (the positions have no tangent): the tangent routed like the value
    array tangent(const Tangents& t) override {
        array out = array::from_shape(value_.shape());
        if (!t[0]) {
            std::fill(out.begin(), out.end(), 0.0);
            return out;
        }
        route(t[0]->data(), out.data(), scatter_);
        return out;
    }

  private:
    void route(const double* in, double* out, bool scatter) const {
        const ArgmaxRecord::Positions& source = record_->source;
        if (!scatter) {
            for (std::size_t e = 0; e < source.size(); ++e) out[e] = in[source[e]];
            return;
        }
        std::size_t count = 1;
        for (std::size_t extent : record_->in_shape) count *= extent;
        std::fill(out, out + count, 0.0);
        for (std::size_t e = 0; e < source.size(); ++e) out[source[e]] += in[e];
    }

    std::shared_ptr<const ArgmaxRecord> record_;
    bool scatter_;
};

Var MaxPoolNode::gradient_as_graph(const Var& g) {
    return finish_op(std::make_shared<ArgmaxRouteNode>(g, self(), record_, true));
}

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

Var conv2d(const Var& input, const Var& weight, const Var& bias, std::size_t stride,
           std::size_t padding) {
    return detail::finish_op(
        std::make_shared<detail::Conv2dNode>(input, weight, bias, stride, padding));
}

Var max_pool2d(const Var& x, std::size_t kernel, std::size_t stride) {
    return detail::finish_op(std::make_shared<detail::MaxPoolNode>(x, kernel, stride));
}

Var avg_pool2d(const Var& x, std::size_t kernel, std::size_t stride) {
    return detail::finish_op(std::make_shared<detail::AvgPoolNode>(x, kernel, stride));
}

}  // namespace xgrad
