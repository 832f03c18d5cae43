// Indexing and joining: slice, index_select, gather, permute (each an index map read by one
// node, whose gradient is the adjoint scatter and back again), squeeze, unsqueeze, flatten
// (copies into a new shape), concatenate and stack (one node of N inputs).
//
// slice, index_select, gather and permute are all y_k = x_{s(k)} for a source map s built from
// x's shape (and the op's arguments) on every forward pass. Their derivative is the scatter-add
// dL/dx_j = Σ_{k: s(k)=j} g_k; that scatter is a node too (ScatterNode), linear in g, whose own
// derivative is the gather y_k = G_{s(k)} again. The pair therefore differentiates to any order.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "core/op.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

namespace {

std::size_t element_count(const shape_type& shape) {
    std::size_t n = 1;
    for (std::size_t e : shape) n *= e;
    return n;
}

/// @brief `axis` against a rank: [−rank, rank−1] for an existing axis; with `new_axis`,
/// [−(rank+1), rank] (a position for an inserted axis). Throws shape_error naming `op`.
std::size_t resolve_axis(const char* op, int axis, const shape_type& shape, bool new_axis = false) {
    const auto rank = static_cast<long>(shape.size()) + (new_axis ? 1 : 0);
    const long resolved = axis < 0 ? axis + rank : axis;
    if (resolved < 0 || resolved >= rank) {
        std::string text = std::string(op) + ": axis " + std::to_string(axis) +
                           " is out of range for shape " + format_shape(shape);
        if (new_axis) {
            text += " (a new axis goes at " + std::to_string(-rank) + " to " +
                    std::to_string(rank - 1) + ")";
        }
        throw shape_error(text);
    }
    return static_cast<std::size_t>(resolved);
}

/// @brief `shape` with an axis of length `length` inserted at position `axis` (built element by
/// element: svector::insert draws a false -Warray-bounds from GCC 12).
shape_type with_axis(const shape_type& shape, std::size_t axis, std::size_t length) {
    shape_type out(shape.size() + 1);
    for (std::size_t d = 0, k = 0; d < out.size(); ++d) out[d] = d == axis ? length : shape[k++];
    return out;
}

/// @brief A shape seen as (outer, length, inner) around one axis.
struct AxisLayout {
    std::size_t outer = 1, length = 1, inner = 1;
};
AxisLayout layout_around(const shape_type& shape, std::size_t axis) {
    AxisLayout l;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (d < axis) l.outer *= shape[d];
        if (d == axis) l.length = shape[d];
        if (d > axis) l.inner *= shape[d];
    }
    return l;
}

/// @brief Row-major strides of a shape, in elements.
std::vector<std::size_t> strides_of(const shape_type& shape) {
    std::vector<std::size_t> s(shape.size(), 1);
    for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
    return s;
}

/// @brief Advances a row-major multi-index within `shape`.
void advance(std::vector<std::size_t>& index, const shape_type& shape) {
    for (std::size_t d = index.size(); d-- > 0;) {
        if (++index[d] < shape[d]) return;
        index[d] = 0;
    }
}

std::string format_index(const std::vector<std::size_t>& index) {
    std::string text = "[";
    for (std::size_t d = 0; d < index.size(); ++d)
        text += (d ? "," : "") + std::to_string(index[d]);
    return text + "]";
}

std::string format_number(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

// ---- Index maps: y_k = x_{s(k)} ----------------------------------------------------------

/// @brief The source map of one op for one input shape: y's shape and, for each element k of
/// y (row-major), the flat position in x it reads.
struct IndexMap {
    bool valid = false;
    shape_type in_shape;
    shape_type out_shape;
    std::vector<std::size_t> source;
};

/// @brief What one gather-like op reads: builds the map for an input shape (throwing errors
/// that name the op), and says how its adjoint is written.
class IndexSpec {
  public:
    virtual ~IndexSpec() = default;
    /// @brief The forward op's name, and its adjoint scatter's (as PyTorch names them).
    virtual const char* name() const = 0;
    virtual const char* adjoint_name() const = 0;
    /// @brief Whether every input element is read exactly once (a permutation).
    virtual bool bijective() const { return false; }
    /// @brief map.out_shape and map.source for an input of shape `in`.
    virtual void build(const shape_type& in, IndexMap& map) const = 0;
    /// @brief The adjoint as other ops, where one is simpler than the scatter (undefined: use
    /// the scatter).
    virtual Var adjoint_as_ops(const Var&) const { return Var(); }

    /// @brief map made current for `in` (rebuilt only when the shape changed).
    void refresh(const shape_type& in, IndexMap& map) const {
        if (map.valid && map.in_shape == in) return;
        map.valid = false;
        build(in, map);
        map.in_shape = in;
        map.valid = true;
    }
};

/// @brief x[..., start:stop:step, ...] along one axis, Python's rules.
class SliceSpec final : public IndexSpec {
  public:
    SliceSpec(int axis, long start, long stop, long step)
        : axis_(axis), start_(start), stop_(stop), step_(step) {}
    const char* name() const override { return "slice"; }
    const char* adjoint_name() const override { return "slice_scatter"; }
    void build(const shape_type& in, IndexMap& map) const override {
        const std::size_t axis = resolve_axis("slice", axis_, in);
        const AxisLayout l = layout_around(in, axis);
        const auto [first, count] = positions(static_cast<long>(l.length));
        map.out_shape = in;
        map.out_shape[axis] = count;
        map.source.resize(l.outer * count * l.inner);
        std::size_t k = 0;
        for (std::size_t o = 0; o < l.outer; ++o) {
            for (std::size_t c = 0; c < count; ++c) {
                const auto at = static_cast<std::size_t>(first + static_cast<long>(c) * step_);
                const std::size_t row = (o * l.length + at) * l.inner;
                for (std::size_t i = 0; i < l.inner; ++i) map.source[k++] = row + i;
            }
        }
    }

  private:
    /// @brief The first position and the count of positions, as Python's slice.indices: a
    /// negative bound counts from the end, then both are clamped to [0, length] (step > 0) or
    /// [−1, length−1] (step < 0).
    std::pair<long, std::size_t> positions(long length) const {
        const long lower = step_ > 0 ? 0 : -1;
        const long upper = step_ > 0 ? length : length - 1;
        auto clamp = [&](long bound) {
            if (bound < 0) bound += length;
            return std::min(std::max(bound, lower), upper);
        };
        const long start = clamp(start_);
        const long stop = clamp(stop_);
        // |step| as unsigned: −LONG_MIN does not fit a long
        const unsigned long magnitude =
            step_ > 0 ? static_cast<unsigned long>(step_) : 0UL - static_cast<unsigned long>(step_);
        const long span = step_ > 0 ? stop - start : start - stop;
        const std::size_t count =
            span > 0 ? (static_cast<unsigned long>(span) - 1) / magnitude + 1 : 0;
        return {start, count};
    }

    int axis_;
    long start_, stop_, step_;
};

/// @brief x's entries at a list of positions along one axis (torch.index_select).
class IndexSelectSpec final : public IndexSpec {
  public:
    IndexSelectSpec(int axis, std::vector<std::size_t> indices)
        : axis_(axis), indices_(std::move(indices)) {}
    const char* name() const override { return "index_select"; }
    const char* adjoint_name() const override { return "index_add"; }
    void build(const shape_type& in, IndexMap& map) const override {
        const std::size_t axis = resolve_axis("index_select", axis_, in);
        const AxisLayout l = layout_around(in, axis);
        for (std::size_t p = 0; p < indices_.size(); ++p) {
            if (indices_[p] >= l.length) {
                throw std::out_of_range(
                    "index_select: index " + std::to_string(indices_[p]) + " at position " +
                    std::to_string(p) + " is out of range for axis " + std::to_string(axis) +
                    " of length " + std::to_string(l.length) + " (shape " + format_shape(in) + ")");
            }
        }
        map.out_shape = in;
        map.out_shape[axis] = indices_.size();
        map.source.resize(l.outer * indices_.size() * l.inner);
        std::size_t k = 0;
        for (std::size_t o = 0; o < l.outer; ++o) {
            for (std::size_t at : indices_) {
                const std::size_t row = (o * l.length + at) * l.inner;
                for (std::size_t i = 0; i < l.inner; ++i) map.source[k++] = row + i;
            }
        }
    }

  private:
    int axis_;
    std::vector<std::size_t> indices_;
};

/// @brief torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] (axis 0), and so on.
class GatherSpec final : public IndexSpec {
  public:
    GatherSpec(int axis, array indices) : axis_(axis), indices_(std::move(indices)) {}
    const char* name() const override { return "gather"; }
    const char* adjoint_name() const override { return "scatter_add"; }
    void build(const shape_type& in, IndexMap& map) const override {
        const shape_type& ishape = indices_.shape();
        if (ishape.size() != in.size()) {
            throw shape_error("gather: index of shape " + format_shape(ishape) +
                              " does not have the rank of the input " + format_shape(in));
        }
        const std::size_t axis = resolve_axis("gather", axis_, in);
        for (std::size_t d = 0; d < in.size(); ++d) {
            if (d != axis && ishape[d] > in[d]) {
                throw shape_error("gather: index of shape " + format_shape(ishape) +
                                  " is longer than the input " + format_shape(in) + " on axis " +
                                  std::to_string(d) + " (only axis " + std::to_string(axis) +
                                  " may be longer)");
            }
        }
        const std::vector<std::size_t> strides = strides_of(in);
        map.out_shape = ishape;
        map.source.resize(indices_.size());
        std::vector<std::size_t> at(ishape.size(), 0);
        for (std::size_t k = 0; k < indices_.size(); ++k, advance(at, ishape)) {
            const double v = indices_.data()[k];
            if (!std::isfinite(v) || std::floor(v) != v) {
                throw std::invalid_argument("gather: index" + format_index(at) + " = " +
                                            format_number(v) + " is not a whole number");
            }
            if (v < 0 || v >= static_cast<double>(in[axis])) {
                throw std::out_of_range(
                    "gather: index" + format_index(at) + " = " + format_number(v) +
                    " is out of range for axis " + std::to_string(axis) + " of length " +
                    std::to_string(in[axis]) + " (input shape " + format_shape(in) + ")");
            }
            std::size_t source = 0;
            for (std::size_t d = 0; d < at.size(); ++d) {
                source += (d == axis ? static_cast<std::size_t>(v) : at[d]) * strides[d];
            }
            map.source[k] = source;
        }
    }

  private:
    int axis_;
    array indices_;
};

/// @brief The axes reordered: the result's axis k is x's axis axes[k].
class PermuteSpec final : public IndexSpec {
  public:
    explicit PermuteSpec(std::vector<std::size_t> axes) : axes_(std::move(axes)) {}
    const char* name() const override { return "permute"; }
    const char* adjoint_name() const override { return "permute_scatter"; }
    bool bijective() const override { return true; }
    void build(const shape_type& in, IndexMap& map) const override {
        check(in);
        const std::vector<std::size_t> strides = strides_of(in);
        map.out_shape.resize(in.size());
        for (std::size_t k = 0; k < in.size(); ++k) map.out_shape[k] = in[axes_[k]];
        map.source.resize(element_count(in));
        std::vector<std::size_t> at(in.size(), 0);
        for (std::size_t k = 0; k < map.source.size(); ++k, advance(at, map.out_shape)) {
            std::size_t source = 0;
            for (std::size_t d = 0; d < at.size(); ++d) source += at[d] * strides[axes_[d]];
            map.source[k] = source;
        }
    }
    // the adjoint of a permutation is its inverse: x's axis axes[k] is g's axis k
    Var adjoint_as_ops(const Var& g) const override {
        std::vector<std::size_t> inverse(axes_.size());
        for (std::size_t k = 0; k < axes_.size(); ++k) inverse[axes_[k]] = k;
        return permute(g, inverse);
    }

  private:
    void check(const shape_type& in) const {
        std::vector<bool> seen(in.size(), false);
        bool ok = axes_.size() == in.size();
        for (std::size_t a : axes_) {
            if (!ok) break;
            ok = a < in.size() && !seen[a];
            if (ok) seen[a] = true;
        }
        if (!ok) {
            std::string list = "(";
            for (std::size_t k = 0; k < axes_.size(); ++k) {
                list += (k ? "," : "") + std::to_string(axes_[k]);
            }
            if (axes_.size() == 1) list += ",";
            throw shape_error("permute: axes " + list +
                              ") are not a permutation of the axes of shape " + format_shape(in));
        }
    }

    std::vector<std::size_t> axes_;
};

/// @brief y_k = x_{s(k)} for one IndexSpec's map s.
class IndexNode final : public SingleInputNode {
  public:
    IndexNode(const Var& x, std::shared_ptr<const IndexSpec> spec)
        : SingleInputNode(spec->name(), x), spec_(std::move(spec)) {}

    void forward() override {
        const array& x = input(0).value();
        spec_->refresh(x.shape(), map_);
        value_.resize(map_.out_shape);
        gather_into(value_.data(), x.data());
    }

    // ∂y_k/∂x_j = [s(k) = j], so dL/dx_j = Σ_{k: s(k)=j} g_k: a scatter-add of g (a position
    // read twice gets both gradients; one never read gets 0)
    void backward_into(Node& x) override {
        GradSink gx(x);
        const double* g = grad().data();
        const std::vector<std::size_t>& s = map_.source;
        if (spec_->bijective()) {  // every position written exactly once
            for (std::size_t k = 0; k < s.size(); ++k) gx.put(s[k], g[k]);
            return;
        }
        gx.zero_if_first();
        double* out = gx.data();
        for (std::size_t k = 0; k < s.size(); ++k) out[s[k]] += g[k];
    }

    Var gradient_as_graph(const Var& g) override;

    // linear: the tangent is read through the same map
    array tangent_of(const array& t) override {
        array out = array::from_shape(map_.out_shape);
        gather_into(out.data(), t.data());
        return out;
    }

  private:
    void gather_into(double* out, const double* in) const {
        const std::vector<std::size_t>& s = map_.source;
        for (std::size_t k = 0; k < s.size(); ++k) out[k] = in[s[k]];
    }

    std::shared_ptr<const IndexSpec> spec_;
    IndexMap map_;
};

/// @brief The adjoint of an IndexNode: z = zeros(x's shape), z_{s(k)} += g_k.
class ScatterNode final : public SingleInputNode {
  public:
    ScatterNode(const Var& g, std::shared_ptr<const IndexSpec> spec, shape_type target)
        : SingleInputNode(spec->adjoint_name(), g),
          spec_(std::move(spec)),
          target_(std::move(target)) {}

    void forward() override {
        spec_->refresh(target_, map_);
        const array& g = input(0).value();
        if (g.shape() != map_.out_shape) {
            throw shape_error(std::string(op_name()) + ": a gradient of shape " +
                              format_shape(g.shape()) + " does not fit the result " +
                              format_shape(map_.out_shape) + " of " + spec_->name() + " on " +
                              format_shape(target_));
        }
        value_.resize(target_);
        scatter_into(value_.data(), g.data());
    }

    // ∂z_j/∂g_k = [s(k) = j], so dL/dg_k = G_{s(k)}: the gather again (each k written once)
    void backward_into(Node& g) override {
        const GradSink gg(g);
        const double* G = grad().data();
        const std::vector<std::size_t>& s = map_.source;
        for (std::size_t k = 0; k < s.size(); ++k) gg.put(k, G[s[k]]);
    }

    Var gradient_as_graph(const Var& G) override {
        return finish_op(std::make_shared<IndexNode>(G, spec_));
    }

    // linear: the tangent is scattered like the value
    array tangent_of(const array& t) override {
        array out = array::from_shape(target_);
        scatter_into(out.data(), t.data());
        return out;
    }

  private:
    void scatter_into(double* out, const double* in) const {
        std::fill(out, out + element_count(target_), 0.0);
        const std::vector<std::size_t>& s = map_.source;
        for (std::size_t k = 0; k < s.size(); ++k) out[s[k]] += in[k];
    }

    std::shared_ptr<const IndexSpec> spec_;
    shape_type target_;
    IndexMap map_;
};

Var IndexNode::gradient_as_graph(const Var& g) {
    const Var simpler = spec_->adjoint_as_ops(g);
    if (simpler.defined()) return simpler;
    return finish_op(std::make_shared<ScatterNode>(g, spec_, input(0).value().shape()));
}

Var index_op(const Var& x, std::shared_ptr<const IndexSpec> spec) {
    return finish_op(std::make_shared<IndexNode>(x, std::move(spec)));
}

// ---- squeeze, unsqueeze, flatten: the same elements in a new shape ------------------------

/// @brief y = x in another shape of the same size, the shape worked out from x's on every pass.
class ReshapeLikeNode final : public SameElementsNode {
  public:
    enum class Kind { squeeze, unsqueeze, flatten };
    ReshapeLikeNode(const Var& x, Kind kind, int a, int b = 0)
        : SameElementsNode(kind_name(kind), x), kind_(kind), a_(a), b_(b) {}

  private:
    shape_type shape_for(const shape_type& in) const override { return target_shape(in); }

    static const char* kind_name(Kind kind) {
        switch (kind) {
            case Kind::squeeze:
                return "squeeze";
            case Kind::unsqueeze:
                return "unsqueeze";
            case Kind::flatten:
                break;
        }
        return "flatten";
    }

    shape_type target_shape(const shape_type& in) const {
        shape_type out = in;
        switch (kind_) {
            case Kind::squeeze: {
                const std::size_t axis = resolve_axis("squeeze", a_, in);
                if (in[axis] != 1) {
                    throw shape_error("squeeze: axis " + std::to_string(a_) + " has length " +
                                      std::to_string(in[axis]) + ", not 1 (shape " +
                                      format_shape(in) + ")");
                }
                out.erase(out.begin() + static_cast<std::ptrdiff_t>(axis));
                return out;
            }
            case Kind::unsqueeze: {
                return with_axis(in, resolve_axis("unsqueeze", a_, in, true), 1);
            }
            case Kind::flatten:
                break;
        }
        // torch.flatten: a 0-d input is treated as (1,)
        const shape_type seen = in.empty() ? shape_type{1} : in;
        const std::size_t start = resolve_axis("flatten", a_, seen);
        const std::size_t end = resolve_axis("flatten", b_, seen);
        if (start > end) {
            throw shape_error("flatten: start_axis " + std::to_string(a_) +
                              " comes after end_axis " + std::to_string(b_) + " for shape " +
                              format_shape(in));
        }
        out.assign(seen.begin(), seen.begin() + static_cast<std::ptrdiff_t>(start));
        std::size_t merged = 1;
        for (std::size_t d = start; d <= end; ++d) merged *= seen[d];
        out.push_back(merged);
        out.insert(out.end(), seen.begin() + static_cast<std::ptrdiff_t>(end) + 1, seen.end());
        return out;
    }

    Kind kind_;
    int a_, b_;
};

// ---- concatenate and stack: one node of N inputs ----------------------------------------

/// @brief The inputs joined along an existing axis (concatenate) or a new one (stack). Each
/// input i is seen as (outer, n_i, inner) and fills columns offset_i .. offset_i + n_i of the
/// output seen as (outer, Σ n_i, inner).
class JoinNode final : public Node {
  public:
    JoinNode(const std::vector<Var>& xs, int axis, bool new_axis)
        : Node(new_axis ? "stack" : "concatenate", needs_grad(xs)),
          requested_axis_(axis),
          new_axis_(new_axis) {
        for (const Var& x : xs) add_input(x.node_ptr());
    }

    void forward() override {
        resolve();
        value_.resize(out_shape_);
        for (std::size_t i = 0; i < input_count(); ++i) copy_in(i, input(i).value().data());
    }

    // ∂y/∂x_i is the identity onto input i's block: dL/dx_i = g's block i (the same input
    // listed twice receives both blocks, added)
    void backward() override {
        const double* g = grad().data();
        for (std::size_t i = 0; i < input_count(); ++i) {
            if (!input(i).requires_grad()) continue;
            const GradSink gx(input(i));
            const std::size_t block = lengths_[i] * inner_;
            for (std::size_t o = 0; o < outer_; ++o) {
                const double* from = g + (o * total_ + offsets_[i]) * inner_;
                for (std::size_t e = 0; e < block; ++e) gx.put(o * block + e, from[e]);
            }
        }
    }

    GradVars backward_as_graph(const Var& g) override {
        GradVars out(input_count());
        for (std::size_t i = 0; i < input_count(); ++i) {
            if (!input(i).requires_grad()) continue;
            const auto from = static_cast<long>(offsets_[i]);
            const Var block =
                slice(g, static_cast<int>(axis_), from, from + static_cast<long>(lengths_[i]));
            out[i] = new_axis_ ? reshape(block, input(i).value().shape()) : block;
        }
        return out;
    }

    // linear: the tangents joined like the values (zeros for an input without one)
    array tangent(const Tangents& t) override {
        array out = array::from_shape(out_shape_);
        for (std::size_t i = 0; i < input_count(); ++i)
            copy_in(i, t[i] ? t[i]->data() : nullptr, &out);
        return out;
    }

  private:
    static bool needs_grad(const std::vector<Var>& xs) {
        if (!is_grad_enabled()) return false;
        return std::any_of(xs.begin(), xs.end(), [](const Var& x) { return x.requires_grad(); });
    }

    std::string all_shapes() const {
        std::string text;
        for (std::size_t i = 0; i < input_count(); ++i) {
            text += (i ? ", " : "") + format_shape(input(i).value().shape());
        }
        return text;
    }

    /// @brief Checks the shapes and resolves the axis against the current rank.
    void resolve() {
        const char* op = op_name();
        const shape_type& first = input(0).value().shape();
        for (std::size_t i = 1; i < input_count(); ++i) {
            const shape_type& s = input(i).value().shape();
            if (s.size() != first.size()) {
                throw shape_error(std::string(op) + ": shapes " + all_shapes() +
                                  " have different ranks");
            }
        }
        if (new_axis_) {
            for (std::size_t i = 1; i < input_count(); ++i) {
                if (input(i).value().shape() != first) {
                    throw shape_error("stack: shapes " + all_shapes() +
                                      " differ; stack needs inputs of one shape");
                }
            }
            axis_ = resolve_axis(op, requested_axis_, first, true);
            out_shape_ = with_axis(first, axis_, input_count());
        } else {
            if (first.empty()) {
                throw shape_error("concatenate: cannot join 0-d inputs (shapes " + all_shapes() +
                                  "); use stack");
            }
            axis_ = resolve_axis(op, requested_axis_, first);
            out_shape_ = first;
            out_shape_[axis_] = 0;
            for (std::size_t i = 0; i < input_count(); ++i) {
                const shape_type& s = input(i).value().shape();
                for (std::size_t d = 0; d < s.size(); ++d) {
                    if (d != axis_ && s[d] != first[d]) {
                        throw shape_error("concatenate: shapes " + all_shapes() +
                                          " differ outside axis " + std::to_string(axis_));
                    }
                }
                out_shape_[axis_] += s[axis_];
            }
        }
        const AxisLayout l = layout_around(out_shape_, axis_);
        outer_ = l.outer;
        inner_ = l.inner;
        total_ = l.length;
        lengths_.resize(input_count());
        offsets_.resize(input_count());
        std::size_t offset = 0;
        for (std::size_t i = 0; i < input_count(); ++i) {
            lengths_[i] = new_axis_ ? 1 : input(i).value().shape()[axis_];
            offsets_[i] = offset;
            offset += lengths_[i];
        }
    }

    /// @brief Input i's elements (zeros for null) into its block of `out` (default: value_).
    void copy_in(std::size_t i, const double* from, array* out = nullptr) {
        double* to = (out ? *out : value_).data();
        const std::size_t block = lengths_[i] * inner_;
        for (std::size_t o = 0; o < outer_; ++o) {
            double* row = to + (o * total_ + offsets_[i]) * inner_;
            if (from) {
                std::copy(from + o * block, from + (o + 1) * block, row);
            } else {
                std::fill(row, row + block, 0.0);
            }
        }
    }

    int requested_axis_;
    bool new_axis_;
    std::size_t axis_ = 0;  // resolved by forward()
    shape_type out_shape_;
    std::size_t outer_ = 1, inner_ = 1, total_ = 0;
    std::vector<std::size_t> lengths_, offsets_;
};

Var join(const std::vector<Var>& xs, int axis, bool new_axis) {
    if (xs.empty()) {
        throw shape_error(std::string(new_axis ? "stack" : "concatenate") + ": no inputs");
    }
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (!xs[i].defined()) {
            throw graph_error(std::string(new_axis ? "stack" : "concatenate") + ": input " +
                              std::to_string(i) + " is an empty Var");
        }
    }
    return finish_op(std::make_shared<JoinNode>(xs, axis, new_axis));
}

Var reshape_like(const Var& x, ReshapeLikeNode::Kind kind, int a, int b = 0) {
    return finish_op(std::make_shared<ReshapeLikeNode>(x, kind, a, b));
}

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

Var slice(const Var& x, int axis, long start, long stop, long step) {
    if (step == 0) throw std::invalid_argument("slice: step cannot be zero");
    return detail::index_op(x, std::make_shared<detail::SliceSpec>(axis, start, stop, step));
}

Var index_select(const Var& x, int axis, const std::vector<std::size_t>& indices) {
    return detail::index_op(x, std::make_shared<detail::IndexSelectSpec>(axis, indices));
}

Var gather(const Var& x, int axis, const array& indices) {
    return detail::index_op(x, std::make_shared<detail::GatherSpec>(axis, indices));
}

Var permute(const Var& x, const std::vector<std::size_t>& axes) {
    return detail::index_op(x, std::make_shared<detail::PermuteSpec>(axes));
}

Var concatenate(const std::vector<Var>& xs, int axis) {
    return detail::join(xs, axis, false);
}

Var stack(const std::vector<Var>& xs, int axis) {
    return detail::join(xs, axis, true);
}

Var squeeze(const Var& x, int axis) {
    return detail::reshape_like(x, detail::ReshapeLikeNode::Kind::squeeze, axis);
}

Var unsqueeze(const Var& x, int axis) {
    return detail::reshape_like(x, detail::ReshapeLikeNode::Kind::unsqueeze, axis);
}

Var flatten(const Var& x, int start_axis, int end_axis) {
    return detail::reshape_like(x, detail::ReshapeLikeNode::Kind::flatten, start_axis, end_axis);
}

}  // namespace xgrad
