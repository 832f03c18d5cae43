// Indexing and joining: slice, index_select, gather, concatenate, stack, squeeze, unsqueeze,
// flatten, permute. Source: src/ops/indexing.cpp.
//
// Every op here is linear, so its tangent (forward mode) is the same op applied to the tangent,
// and its gradient is the adjoint map: a gather's gradient scatters (adds) the output gradient
// back into the positions it read, and that scatter's gradient is the gather again, so second
// and higher derivatives pass through. Axes are resolved against the input's rank on every
// forward pass (a Tape replay may bring new shapes); each op returns a node of its own even
// when nothing changes shape.
#pragma once

#include <cstddef>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief x[..., start:stop:step, ...] along `axis`, with Python's slice rules: a negative
/// start or stop counts from the end, both are then clamped to the axis (so out-of-range bounds
/// give a shorter or empty result, never an error), and a negative step walks backwards (to
/// reach the front, pass a stop ≤ −(length+1), e.g. std::numeric_limits<long>::min()).
/// Returns x's shape with that axis's length replaced by the number of positions taken (0
/// allowed). `axis` may be negative (from the end).
/// Throws std::invalid_argument ("slice: step cannot be zero") for step 0, shape_error for an
/// axis out of range ("slice: axis 2 is out of range for shape (2,3)").
/// Derivative: g scattered back into the sliced positions, zeros elsewhere.
Var slice(const Var& x, int axis, long start, long stop, long step = 1);

/// @brief The entries of x at `indices` along `axis`, in that order (as torch.index_select):
/// x's shape with that axis's length replaced by indices.size(). Indices may repeat (that is
/// how embeddings and mini-batches are taken). `axis` may be negative.
/// Throws std::out_of_range naming the index, its position and the extent ("index_select:
/// index 5 at position 1 is out of range for axis 0 of length 3 (shape (3,2))"), shape_error for
/// an axis out of range.
/// Derivative: g added back into the selected positions; a repeated index receives the sum of
/// its copies' gradients.
Var index_select(const Var& x, int axis, const std::vector<std::size_t>& indices);

/// @brief torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (and likewise for
/// the other axes). `indices` has x's rank and index.shape[d] ≤ x.shape[d] for every d ≠ axis;
/// the result has index's shape. Its values must be whole numbers in [0, x.shape[axis]).
/// Throws shape_error for a rank or extent that does not fit ("gather: index of shape (3,)
/// does not have the rank of the input (2,3)"), std::invalid_argument for a value that is not a
/// whole number and std::out_of_range for one out of range, each naming the element
/// ("gather: index[1,0] = 4 is out of range for axis 0 of length 2 (input shape (2,3))").
/// Derivative: g added back into the gathered positions (torch.scatter_add); repeated indices
/// accumulate.
Var gather(const Var& x, int axis, const array& indices);

/// @brief numpy.concatenate: the inputs joined along an existing `axis` (negative counts from
/// the end); every other extent must match. One node with one input per entry; the same Var may
/// appear more than once (its gradients add).
/// Throws shape_error for an empty list ("concatenate: no inputs"), for 0-d inputs, for ranks or
/// extents that differ (naming every shape: "concatenate: shapes (2,3), (3,3) differ outside
/// axis 1"), or for an axis out of range.
/// Derivative: each input receives its own block of g (g sliced along `axis`).
Var concatenate(const std::vector<Var>& xs, int axis);

/// @brief numpy.stack: the inputs, all of one shape s, joined along a new axis at position
/// `axis` ∈ [−(r+1), r] (r = rank of s): shape s with xs.size() inserted there. The same Var may
/// appear more than once (its gradients add).
/// Throws shape_error for an empty list, for shapes that differ (naming every shape), or for
/// an axis out of range.
/// Derivative: each input receives its own slice of g along the new axis.
Var stack(const std::vector<Var>& xs, int axis);

/// @brief x without `axis`, which must have length 1 (negative counts from the end).
/// Throws shape_error otherwise ("squeeze: axis 1 has length 3, not 1 (shape (2,3))").
/// Derivative: g reshaped back to x's shape.
Var squeeze(const Var& x, int axis);

/// @brief x with a new axis of length 1 at position `axis` ∈ [−(r+1), r] (r = x's rank; a
/// negative one counts from the end of the result, as numpy.expand_dims).
/// Throws shape_error for an axis out of range. Derivative: g reshaped back to x's shape.
Var unsqueeze(const Var& x, int axis);

/// @brief torch.flatten: axes start_axis..end_axis (inclusive, negative from the end) merged
/// into one; a 0-d input gives shape (1,). Throws shape_error for an axis out of range or
/// start_axis after end_axis. Derivative: g reshaped back to x's shape.
Var flatten(const Var& x, int start_axis = 0, int end_axis = -1);

/// @brief The axes of x reordered (as torch.permute / numpy.transpose with axes): the result's
/// axis k is x's axis axes[k]. Throws shape_error unless `axes` is a permutation of 0..r−1
/// ("permute: axes (0,0) are not a permutation of the axes of shape (2,3)").
/// Derivative: g permuted back by the inverse permutation.
Var permute(const Var& x, const std::vector<std::size_t>& axes);

}  // namespace xgrad
