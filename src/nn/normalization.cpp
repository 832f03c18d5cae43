// BatchNorm1d/2d and LayerNorm: one node each (forward, backward, graph form, tangent side by
// side). The batch norm sees x as (N, C, L) and reduces each channel over N·L elements; the layer
// norm sees x as (R, K) and reduces each of the R rows.
#include "xgrad/nn/normalization.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "backend/elementwise_kernels.hpp"
#include "core/op.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::nn {

namespace {

using detail::GradSink;
using detail::Node;

bool any_needs_grad(const std::vector<Var>& inputs) {
    if (!is_grad_enabled()) return false;
    for (const Var& v : inputs) {
        if (v.requires_grad()) return true;
    }
    return false;
}

std::string number(double v) {
    std::ostringstream text;
    text << v;
    return text.str();
}

/// @brief Refuses eps < 0, NaN and ±inf (an infinite eps makes x̂ = 0: every output β, and NaN
/// where x is infinite).
void check_eps(const char* layer, double eps) {
    if (!(eps >= 0.0 && std::isfinite(eps))) {
        throw std::invalid_argument(std::string(layer) + ": eps must be finite and >= 0, got " +
                                    number(eps));
    }
}

// ---- batch norm --------------------------------------------------------------------------

/// @brief y[l] = (x[l] − m)·a + b for one plane of L values.
void normalize_plane(const double* x, std::size_t L, double m, double a, double b, double* y) {
    for (std::size_t l = 0; l < L; ++l) y[l] = (x[l] - m) * a + b;
}

/// @brief y[c] = (x[c] − m[c])·a[c] + b[c] for one row of C channels (L = 1).
void normalize_row(const double* x, std::size_t C, const double* m, const double* a,
                   const double* b, double* y) {
    for (std::size_t c = 0; c < C; ++c) y[c] = (x[c] - m[c]) * a[c] + b[c];
}

/// @brief Per channel, for the input gradient: γ/√(σ² + ε), Σg/M and Σ(g·x̂)/M.
struct ChannelTerms {
    std::vector<double> scale, mean_g, mean_gx;
    void resize(std::size_t C) {
        scale.resize(C);
        mean_g.resize(C);
        mean_gx.resize(C);
    }
};

/// @brief input_gradient_plane for one row of C channels (L = 1), the channels' terms in k.
void input_gradient_row(const double* g, const double* x, std::size_t C, const double* m,
                        const double* inv, const ChannelTerms& k, bool first, double* out) {
    const double* scale = k.scale.data();
    const double* mg = k.mean_g.data();
    const double* mgx = k.mean_gx.data();
    if (first) {
        for (std::size_t c = 0; c < C; ++c) {
            out[c] = scale[c] * (g[c] - mg[c] - (x[c] - m[c]) * inv[c] * mgx[c]);
        }
    } else {
        for (std::size_t c = 0; c < C; ++c) {
            out[c] += scale[c] * (g[c] - mg[c] - (x[c] - m[c]) * inv[c] * mgx[c]);
        }
    }
}

/// @brief scaled_plane for one row of C channels (L = 1).
void scaled_row(const double* g, std::size_t C, const double* scale, bool first, double* out) {
    if (first) {
        for (std::size_t c = 0; c < C; ++c) out[c] = scale[c] * g[c];
    } else {
        for (std::size_t c = 0; c < C; ++c) out[c] += scale[c] * g[c];
    }
}

/// @brief Σ g and Σ g·(x − m) over one plane.
struct PlaneSums {
    double g, g_centred;
};
/// @brief PlaneSums of one plane of L values, in eight interleaved partial sums (independent
/// chains of additions, which the compiler also vectorises) added pairwise at the end.
PlaneSums gradient_sums(const double* g, const double* x, std::size_t L, double m) {
    constexpr std::size_t ways = 8;
    double sg[ways] = {}, sgx[ways] = {};
    std::size_t l = 0;
    for (; l + ways <= L; l += ways) {
        for (std::size_t k = 0; k < ways; ++k) {
            sg[k] += g[l + k];
            sgx[k] += g[l + k] * (x[l + k] - m);
        }
    }
    for (std::size_t k = 0; l < L; ++l, ++k) {
        sg[k] += g[l];
        sgx[k] += g[l] * (x[l] - m);
    }
    for (std::size_t width = ways / 2; width > 0; width /= 2) {
        for (std::size_t k = 0; k < width; ++k) {
            sg[k] += sg[k + width];
            sgx[k] += sgx[k + width];
        }
    }
    return {sg[0], sgx[0]};
}

/// @brief out (=, or += if not `first`) scale·(g − mg − x̂·mgx), x̂ = (x − m)·inv, over one plane:
/// batch norm's input gradient in training.
void input_gradient_plane(const double* g, const double* x, std::size_t L, double m, double inv,
                          double scale, double mg, double mgx, bool first, double* out) {
    if (first) {
        for (std::size_t l = 0; l < L; ++l) out[l] = scale * (g[l] - mg - (x[l] - m) * inv * mgx);
    } else {
        for (std::size_t l = 0; l < L; ++l) out[l] += scale * (g[l] - mg - (x[l] - m) * inv * mgx);
    }
}

/// @brief out (=, or += if not `first`) scale·g over one plane: the input gradient in eval.
void scaled_plane(const double* g, std::size_t L, double scale, bool first, double* out) {
    if (first) {
        for (std::size_t l = 0; l < L; ++l) out[l] = scale * g[l];
    } else {
        for (std::size_t l = 0; l < L; ++l) out[l] += scale * g[l];
    }
}

/// @brief What a batch-norm node needs besides its inputs.
struct BatchNormSpec {
    const char* layer;  // "BatchNorm2d", for messages
    std::size_t min_rank, max_rank;
    const char* expected;
    std::size_t channels;
    double eps, momentum;
    bool affine;    // inputs 1 and 2 are γ and β
    bool training;  // batch statistics (and the buffers below updated); else inputs hold the
                    // running statistics after the affine ones
    Var running_mean, running_var, num_batches_tracked;  // updated in training
};

/// @brief y = γ·(x − μ)/√(σ² + ε) + β per channel of x (N, C, L...), with the batch's μ, σ² in
/// training (and the running statistics updated), the running ones in eval.
class BatchNormNode final : public Node {
  public:
    BatchNormNode(const std::vector<Var>& inputs, BatchNormSpec spec)
        : Node("batch_norm", any_needs_grad(inputs)), spec_(std::move(spec)) {
        for (const Var& v : inputs) add_input(v.node_ptr());
    }

    void forward() override {
        const array& x = input(0).value();
        resolve(x.shape());
        const std::size_t C = spec_.channels;
        mean_.assign(C, 0.0);
        inv_.assign(C, 0.0);
        if (spec_.training) {
            batch_statistics(x.data());
        } else {
            const double* rm = input(stats_index()).value().data();
            const double* rv = input(stats_index() + 1).value().data();
            for (std::size_t c = 0; c < C; ++c) {
                mean_[c] = rm[c];
                inv_[c] = 1.0 / std::sqrt(rv[c] + spec_.eps);
            }
        }
        value_.resize(x.shape());
        const double* in = x.data();
        double* y = value_.data();
        scale_.resize(C);
        shift_.resize(C);
        for (std::size_t c = 0; c < C; ++c) {
            scale_[c] = inv_[c] * gamma(c);
            shift_[c] = beta(c);
        }
        if (L_ == 1) {  // (N, C): each row's channels side by side, a loop across them
            for (std::size_t n = 0; n < N_; ++n) {
                normalize_row(in + n * C, C, mean_.data(), scale_.data(), shift_.data(), y + n * C);
            }
            return;
        }
        for (std::size_t n = 0; n < N_; ++n) {
            for (std::size_t c = 0; c < C; ++c) {
                const std::size_t base = (n * C + c) * L_;
                normalize_plane(in + base, L_, mean_[c], scale_[c], shift_[c], y + base);
            }
        }
    }

    // x̂ = (x − μ)/√(σ² + ε). dL/dγ = Σ g·x̂, dL/dβ = Σ g (per channel); dL/dx =
    // γ/√(σ² + ε)·(g − Σg/M − x̂·Σ(g·x̂)/M) in training (μ and σ² depend on x), γ/√(σ² + ε)·g in eval
    void backward() override {
        const std::size_t C = spec_.channels;
        const double* g = grad().data();
        const double* in = input(0).value().data();
        std::vector<double>& sum_g = sum_g_;
        std::vector<double>& sum_gx = sum_gx_;
        sum_g.assign(C, 0.0);
        sum_gx.assign(C, 0.0);
        const bool need_sums = spec_.affine || spec_.training;
        if (need_sums) {  // Σ g and Σ g·x̂ = Σ g·(x − μ) / √(σ² + ε)
            for (std::size_t n = 0; n < N_; ++n) {
                if (L_ == 1) {  // a row of channels at a time
                    const double* gn = g + n * C;
                    const double* xn = in + n * C;
                    for (std::size_t c = 0; c < C; ++c) {
                        sum_g[c] += gn[c];
                        sum_gx[c] += gn[c] * (xn[c] - mean_[c]);
                    }
                    continue;
                }
                for (std::size_t c = 0; c < C; ++c) {  // a plane at a time
                    const std::size_t base = (n * C + c) * L_;
                    const PlaneSums sums = gradient_sums(g + base, in + base, L_, mean_[c]);
                    sum_g[c] += sums.g;
                    sum_gx[c] += sums.g_centred;
                }
            }
            for (std::size_t c = 0; c < C; ++c) sum_gx[c] *= inv_[c];
        }
        if (spec_.affine) {
            if (input(1).requires_grad()) {
                const GradSink gw(input(1));
                for (std::size_t c = 0; c < C; ++c) gw.put(c, sum_gx[c]);
            }
            if (input(2).requires_grad()) {
                const GradSink gb(input(2));
                for (std::size_t c = 0; c < C; ++c) gb.put(c, sum_g[c]);
            }
        }
        if (!input(0).requires_grad()) return;
        const GradSink gx(input(0));
        const double M = static_cast<double>(N_ * L_);
        double* out = gx.data();
        // per channel: γ/√(σ² + ε) and the means of g and g·x̂ (used in training only)
        ChannelTerms& k = terms_;
        k.resize(C);
        for (std::size_t c = 0; c < C; ++c) {
            k.scale[c] = gamma(c) * inv_[c];
            k.mean_g[c] = sum_g[c] / M;
            k.mean_gx[c] = sum_gx[c] / M;
        }
        for (std::size_t n = 0; n < N_; ++n) {
            if (L_ == 1) {
                const std::size_t base = n * C;
                if (spec_.training) {
                    input_gradient_row(g + base, in + base, C, mean_.data(), inv_.data(), k,
                                       gx.first(), out + base);
                } else {
                    scaled_row(g + base, C, k.scale.data(), gx.first(), out + base);
                }
                continue;
            }
            for (std::size_t c = 0; c < C; ++c) {
                const std::size_t base = (n * C + c) * L_;
                if (spec_.training) {
                    input_gradient_plane(g + base, in + base, L_, mean_[c], inv_[c], k.scale[c],
                                         k.mean_g[c], k.mean_gx[c], gx.first(), out + base);
                } else {
                    scaled_plane(g + base, L_, k.scale[c], gx.first(), out + base);
                }
            }
        }
    }

    // The same formulas as graph nodes on (N, C, L) views, with μ, σ² rebuilt from x in training
    // (so that their dependence on x is differentiated again) and read from the running
    // statistics (constants) in eval.
    GradVars backward_as_graph(const Var& g) override {
        const std::size_t C = spec_.channels;
        const shape_type view = {N_, C, L_};
        const shape_type channel = {1, C, 1};
        auto channel_mean = [](const Var& v) { return mean(mean(v, 2, true), 0, true); };
        auto channel_sum = [](const Var& v) { return sum(sum(v, 2), 0); };
        const Var x = reshape(input_var(0), view);
        const Var g3 = reshape(g, view);
        Var xhat, inv;
        if (spec_.training) {
            const Var centred = x - channel_mean(x);
            inv = pow(channel_mean(centred * centred) + spec_.eps, -0.5);
            xhat = centred * inv;
        } else {
            const Var mu = reshape(input_var(stats_index()), channel);
            inv = pow(reshape(input_var(stats_index() + 1), channel) + spec_.eps, -0.5);
            xhat = (x - mu) * inv;
        }
        GradVars out(input_count());
        if (spec_.affine) {
            if (input(1).requires_grad()) out[1] = channel_sum(g3 * xhat);
            if (input(2).requires_grad()) out[2] = channel_sum(g3);
        }
        if (input(0).requires_grad()) {
            const Var scale = spec_.affine ? reshape(input_var(1), channel) * inv : inv;
            const Var gx = spec_.training
                               ? scale * (g3 - channel_mean(g3) - xhat * channel_mean(g3 * xhat))
                               : g3 * scale;
            out[0] = reshape(gx, input(0).value().shape());
        }
        return out;
    }

    // dy = γ/√(σ² + ε)·(t − mean(t) − x̂·mean(x̂·t)) (training; γ/√(σ² + ε)·t in eval)
    //      + t_γ·x̂ + t_β
    array tangent(const Tangents& t) override {
        const std::size_t C = spec_.channels;
        const double* in = input(0).value().data();
        const double* tx = t[0] ? t[0]->data() : nullptr;
        const double* tw = spec_.affine && t[1] ? t[1]->data() : nullptr;
        const double* tb = spec_.affine && t[2] ? t[2]->data() : nullptr;
        std::vector<double> mean_t(C, 0.0), mean_xt(C, 0.0);
        const double M = static_cast<double>(N_ * L_);
        if (tx && spec_.training) {
            for (std::size_t n = 0; n < N_; ++n) {
                for (std::size_t c = 0; c < C; ++c) {
                    const std::size_t base = (n * C + c) * L_;
                    for (std::size_t l = 0; l < L_; ++l) {
                        mean_t[c] += tx[base + l];
                        mean_xt[c] += (in[base + l] - mean_[c]) * inv_[c] * tx[base + l];
                    }
                }
            }
            for (std::size_t c = 0; c < C; ++c) {
                mean_t[c] /= M;
                mean_xt[c] /= M;
            }
        }
        array out = xt::zeros<double>(value_.shape());
        double* dy = out.data();
        for (std::size_t n = 0; n < N_; ++n) {
            for (std::size_t c = 0; c < C; ++c) {
                const std::size_t base = (n * C + c) * L_;
                const double scale = gamma(c) * inv_[c];
                for (std::size_t l = 0; l < L_; ++l) {
                    const double xhat = (in[base + l] - mean_[c]) * inv_[c];
                    double d = 0.0;
                    if (tx) d = scale * (tx[base + l] - mean_t[c] - xhat * mean_xt[c]);
                    if (tw) d += tw[c] * xhat;
                    if (tb) d += tb[c];
                    dy[base + l] = d;
                }
            }
        }
        return out;
    }

  private:
    std::size_t stats_index() const { return spec_.affine ? 3 : 1; }
    double gamma(std::size_t c) const { return spec_.affine ? input(1).value().data()[c] : 1.0; }
    double beta(std::size_t c) const { return spec_.affine ? input(2).value().data()[c] : 0.0; }

    /// @brief Checks x's rank and channel count (and, in training, more than one value per
    /// channel) and sets N_, L_.
    void resolve(const shape_type& shape) {
        const std::string layer = spec_.layer;
        if (shape.size() < spec_.min_rank || shape.size() > spec_.max_rank) {
            throw shape_error(layer + ": expected " + spec_.expected + ", got shape " +
                              format_shape(shape));
        }
        if (shape[1] != spec_.channels) {
            throw shape_error(layer + ": expected " + std::to_string(spec_.channels) +
                              " channels (axis 1), got shape " + format_shape(shape));
        }
        N_ = shape[0];
        L_ = 1;
        for (std::size_t k = 2; k < shape.size(); ++k) L_ *= shape[k];
        if (spec_.training && N_ * L_ <= 1) {
            throw shape_error(layer +
                              ": expected more than 1 value per channel when training, got input "
                              "of shape " +
                              format_shape(shape));
        }
    }

    /// @brief μ, 1/√(σ² + ε) of the batch, and the running statistics updated. Planes of L > 1:
    /// each plane's sum and squares about its own mean (two passes over the plane while it is in
    /// cache), then the planes combined as Chan et al.: Σ(x − μ)² = Σ_p [Σ(x − μ_p)² +
    /// L·(μ_p − μ)²]. L = 1: two passes over the rows of channels.
    void batch_statistics(const double* in) {
        const std::size_t C = spec_.channels;
        const double M = static_cast<double>(N_ * L_);
        const double L = static_cast<double>(L_);
        std::vector<double>& squares = squares_;  // kept: a replayed step allocates nothing
        squares.assign(C, 0.0);
        if (L_ == 1) {  // (N, C): two passes a row of channels at a time
            for (std::size_t n = 0; n < N_; ++n) {
                for (std::size_t c = 0; c < C; ++c) mean_[c] += in[n * C + c];
            }
            for (double& m : mean_) m /= M;
            for (std::size_t n = 0; n < N_; ++n) {
                for (std::size_t c = 0; c < C; ++c) {
                    const double d = in[n * C + c] - mean_[c];
                    squares[c] += d * d;
                }
            }
            update_statistics(squares, M);
            return;
        }
        std::vector<double>& plane_mean = plane_mean_;
        plane_mean.resize(N_ * C);
        for (std::size_t n = 0; n < N_; ++n) {
            for (std::size_t c = 0; c < C; ++c) {
                const double* row = in + (n * C + c) * L_;
                const double s = detail::sum(row, L_);
                const double m = s / L;
                plane_mean[n * C + c] = m;
                mean_[c] += s;
                squares[c] += detail::reduce(detail::ReduceOp::sum_squares, row, L_, m);
            }
        }
        for (double& m : mean_) m /= M;
        for (std::size_t n = 0; n < N_; ++n) {
            for (std::size_t c = 0; c < C; ++c) {
                const double d = plane_mean[n * C + c] - mean_[c];
                squares[c] += L * d * d;
            }
        }
        update_statistics(squares, M);
    }

    /// @brief 1/√(σ² + ε) from the channels' sums of squares about μ (of M values each), and the
    /// running statistics moved towards μ and the unbiased σ².
    void update_statistics(const std::vector<double>& squares, double M) {
        array& rm = spec_.running_mean.mutable_value();
        array& rv = spec_.running_var.mutable_value();
        const double keep = 1.0 - spec_.momentum;
        for (std::size_t c = 0; c < spec_.channels; ++c) {
            const double var = squares[c] / M;
            inv_[c] = 1.0 / std::sqrt(var + spec_.eps);
            rm.data()[c] = keep * rm.data()[c] + spec_.momentum * mean_[c];
            rv.data()[c] = keep * rv.data()[c] + spec_.momentum * (squares[c] / (M - 1.0));
        }
        spec_.num_batches_tracked.mutable_value()() += 1.0;
    }

    BatchNormSpec spec_;
    std::size_t N_ = 0, L_ = 1;
    std::vector<double> mean_, inv_;  // per channel, of the last forward pass
    // scratch kept between passes: per-channel factors and sums, per-plane means
    std::vector<double> scale_, shift_, sum_g_, sum_gx_, plane_mean_, squares_;
    ChannelTerms terms_;
};

// ---- layer norm --------------------------------------------------------------------------

/// @brief y = γ ⊙ (x − μ)/√(σ² + ε) + β per row of x seen as (R, K), K = Π normalized_shape.
class LayerNormNode final : public Node {
  public:
    LayerNormNode(const std::vector<Var>& inputs, const shape_type& normalized, double eps)
        : Node("layer_norm", any_needs_grad(inputs)),
          normalized_(normalized),
          eps_(eps),
          affine_(inputs.size() == 3) {
        for (const Var& v : inputs) add_input(v.node_ptr());
        for (std::size_t e : normalized_) K_ *= e;
    }

    void forward() override {
        const array& x = input(0).value();
        resolve(x.shape());
        mean_.assign(R_, 0.0);
        inv_.assign(R_, 0.0);
        value_.resize(x.shape());
        const double* in = x.data();
        double* y = value_.data();
        const double* w = affine_ ? input(1).value().data() : nullptr;
        const double* b = affine_ ? input(2).value().data() : nullptr;
        const double k = static_cast<double>(K_);
        for (std::size_t r = 0; r < R_; ++r) {
            const double* row = in + r * K_;
            double s = 0.0;
            for (std::size_t j = 0; j < K_; ++j) s += row[j];
            const double m = s / k;
            double squares = 0.0;
            for (std::size_t j = 0; j < K_; ++j) squares += (row[j] - m) * (row[j] - m);
            const double inv = 1.0 / std::sqrt(squares / k + eps_);
            mean_[r] = m;
            inv_[r] = inv;
            double* out = y + r * K_;
            if (affine_) {
                for (std::size_t j = 0; j < K_; ++j) out[j] = (row[j] - m) * inv * w[j] + b[j];
            } else {
                for (std::size_t j = 0; j < K_; ++j) out[j] = (row[j] - m) * inv;
            }
        }
    }

    // h = γ ⊙ g; dL/dx = (h − Σh/K − x̂·Σ(h·x̂)/K)/√(σ² + ε) per row; dL/dγ = Σ_rows g ⊙ x̂,
    // dL/dβ = Σ_rows g
    void backward() override {
        const double* g = grad().data();
        const double* in = input(0).value().data();
        const double* w = affine_ ? input(1).value().data() : nullptr;
        const double k = static_cast<double>(K_);
        if (affine_ && (input(1).requires_grad() || input(2).requires_grad())) {
            std::vector<double> gw(K_, 0.0), gb(K_, 0.0);
            for (std::size_t r = 0; r < R_; ++r) {
                const std::size_t base = r * K_;
                for (std::size_t j = 0; j < K_; ++j) {
                    gw[j] += g[base + j] * ((in[base + j] - mean_[r]) * inv_[r]);
                    gb[j] += g[base + j];
                }
            }
            if (input(1).requires_grad()) {
                const GradSink sink(input(1));
                for (std::size_t j = 0; j < K_; ++j) sink.put(j, gw[j]);
            }
            if (input(2).requires_grad()) {
                const GradSink sink(input(2));
                for (std::size_t j = 0; j < K_; ++j) sink.put(j, gb[j]);
            }
        }
        if (!input(0).requires_grad()) return;
        const GradSink gx(input(0));
        for (std::size_t r = 0; r < R_; ++r) {
            const std::size_t base = r * K_;
            const double m = mean_[r], inv = inv_[r];
            double sh = 0.0, shx = 0.0;
            for (std::size_t j = 0; j < K_; ++j) {
                const double h = w ? w[j] * g[base + j] : g[base + j];
                sh += h;
                shx += h * ((in[base + j] - m) * inv);
            }
            const double mh = sh / k, mhx = shx / k;
            for (std::size_t j = 0; j < K_; ++j) {
                const double h = w ? w[j] * g[base + j] : g[base + j];
                const double xhat = (in[base + j] - m) * inv;
                gx.put(base + j, inv * (h - mh - xhat * mhx));
            }
        }
    }

    // the same formulas as graph nodes on the (R, K) view, μ and σ² rebuilt from x
    GradVars backward_as_graph(const Var& g) override {
        const shape_type view = {R_, K_};
        const Var x = reshape(input_var(0), view);
        const Var g2 = reshape(g, view);
        const Var centred = x - mean(x, 1, true);
        const Var inv = pow(mean(centred * centred, 1, true) + eps_, -0.5);
        const Var xhat = centred * inv;
        GradVars out(input_count());
        if (affine_) {
            if (input(1).requires_grad()) out[1] = reshape(sum(g2 * xhat, 0), normalized_);
            if (input(2).requires_grad()) out[2] = reshape(sum(g2, 0), normalized_);
        }
        if (input(0).requires_grad()) {
            const Var h = affine_ ? g2 * reshape(input_var(1), {1, K_}) : g2;
            const Var gx = inv * (h - mean(h, 1, true) - xhat * mean(h * xhat, 1, true));
            out[0] = reshape(gx, input(0).value().shape());
        }
        return out;
    }

    // dy = γ ⊙ (t − mean(t) − x̂·mean(x̂·t))/√(σ² + ε) + t_γ ⊙ x̂ + t_β per row
    array tangent(const Tangents& t) override {
        const double* in = input(0).value().data();
        const double* tx = t[0] ? t[0]->data() : nullptr;
        const double* w = affine_ ? input(1).value().data() : nullptr;
        const double* tw = affine_ && t[1] ? t[1]->data() : nullptr;
        const double* tb = affine_ && t[2] ? t[2]->data() : nullptr;
        const double k = static_cast<double>(K_);
        array out = xt::zeros<double>(value_.shape());
        double* dy = out.data();
        for (std::size_t r = 0; r < R_; ++r) {
            const std::size_t base = r * K_;
            const double m = mean_[r], inv = inv_[r];
            double mt = 0.0, mxt = 0.0;
            if (tx) {
                for (std::size_t j = 0; j < K_; ++j) {
                    mt += tx[base + j];
                    mxt += (in[base + j] - m) * inv * tx[base + j];
                }
                mt /= k;
                mxt /= k;
            }
            for (std::size_t j = 0; j < K_; ++j) {
                const double xhat = (in[base + j] - m) * inv;
                double d = 0.0;
                if (tx) {
                    d = inv * (tx[base + j] - mt - xhat * mxt);
                    if (w) d *= w[j];
                }
                if (tw) d += tw[j] * xhat;
                if (tb) d += tb[j];
                dy[base + j] = d;
            }
        }
        return out;
    }

  private:
    /// @brief Checks that x ends in normalized_shape and sets R_.
    void resolve(const shape_type& shape) {
        const std::size_t k = normalized_.size();
        bool fits = shape.size() >= k;
        for (std::size_t i = 0; fits && i < k; ++i) {
            fits = shape[shape.size() - k + i] == normalized_[i];
        }
        if (!fits) {
            throw shape_error("LayerNorm: expected an input whose last axes are " +
                              format_shape(normalized_) + ", got shape " + format_shape(shape));
        }
        R_ = 1;
        for (std::size_t i = 0; i + k < shape.size(); ++i) R_ *= shape[i];
    }

    shape_type normalized_;
    double eps_;
    bool affine_;
    std::size_t K_ = 1, R_ = 0;
    std::vector<double> mean_, inv_;  // per row, of the last forward pass
};

}  // namespace

// ---- the modules -------------------------------------------------------------------------

BatchNorm::BatchNorm(const char* name, std::size_t min_rank, std::size_t max_rank,
                     const char* expected, std::size_t num_features, double eps, double momentum,
                     bool affine)
    : name_(name),
      min_rank_(min_rank),
      max_rank_(max_rank),
      expected_(expected),
      channels_(num_features),
      eps_(eps),
      momentum_(momentum) {
    if (num_features == 0) {
        throw std::invalid_argument(std::string(name) + ": num_features must be > 0");
    }
    check_eps(name, eps);
    if (!(momentum >= 0.0 && momentum <= 1.0)) {
        throw std::invalid_argument(std::string(name) + ": momentum must be in [0, 1], got " +
                                    number(momentum));
    }
    if (affine) {
        weight_ = register_parameter("weight", parameter(xt::ones<double>({num_features})));
        bias_ = register_parameter("bias", parameter(xt::zeros<double>({num_features})));
    }
    running_mean_ = register_buffer("running_mean", constant(xt::zeros<double>({num_features})));
    running_var_ = register_buffer("running_var", constant(xt::ones<double>({num_features})));
    num_batches_tracked_ = register_buffer("num_batches_tracked", constant(0.0));
}

Var BatchNorm::forward(const Var& x) {
    std::vector<Var> inputs = {x};
    if (affine()) {
        inputs.push_back(weight_);
        inputs.push_back(bias_);
    }
    if (!is_training()) {
        inputs.push_back(running_mean_);
        inputs.push_back(running_var_);
    }
    BatchNormSpec spec{name_,         min_rank_,     max_rank_,    expected_,
                       channels_,     eps_,          momentum_,    affine(),
                       is_training(), running_mean_, running_var_, num_batches_tracked_};
    return detail::finish_op(std::make_shared<BatchNormNode>(inputs, std::move(spec)));
}

LayerNorm::LayerNorm(shape_type normalized_shape, double eps, bool elementwise_affine)
    : normalized_shape_(std::move(normalized_shape)), eps_(eps) {
    bool empty = normalized_shape_.empty();
    for (std::size_t e : normalized_shape_) empty = empty || e == 0;
    if (empty) {
        throw std::invalid_argument(
            "LayerNorm: normalized_shape must have at least one axis and "
            "no extent 0, got " +
            format_shape(normalized_shape_));
    }
    check_eps("LayerNorm", eps);
    if (elementwise_affine) {
        weight_ = register_parameter("weight", parameter(xt::ones<double>(normalized_shape_)));
        bias_ = register_parameter("bias", parameter(xt::zeros<double>(normalized_shape_)));
    }
}

Var LayerNorm::forward(const Var& x) {
    std::vector<Var> inputs = {x};
    if (weight_.defined()) {
        inputs.push_back(weight_);
        inputs.push_back(bias_);
    }
    return detail::finish_op(std::make_shared<LayerNormNode>(inputs, normalized_shape_, eps_));
}

}  // namespace xgrad::nn
