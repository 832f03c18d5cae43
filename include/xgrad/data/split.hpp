// train_test_split (seeded, stratified) and k-fold index splits.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "xgrad/data/csv.hpp"

#include "xgrad/core/var.hpp"

namespace xgrad::data {

/// @brief Rows of a data set divided into a training and a test part.
struct Split {
    array X_train;
    array y_train;
    array X_test;
    array y_test;
};

/// @brief A seeded random split with about `test_fraction` of the rows in the test part. With
/// `stratify` every label value keeps its share in both parts (labels are class values).
Split train_test_split(const array& X, const array& y, double test_fraction, std::uint64_t seed,
                       bool stratify = true);

/// @brief The rows train_test_split puts in each part: (training rows, test rows), indices into
/// y, each list in the order train_test_split gives its rows (so take_rows(X, first) is its
/// X_train). Same seed, fraction and stratification: same lists. Throws shape_error for a y that
/// is not 1-D, std::invalid_argument for a test_fraction outside (0, 1) or one that leaves a
/// part empty (`train_test_indices: a test fraction of 0.010000 of 10 rows leaves the test part
/// empty`).
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> train_test_indices(
    const array& y, double test_fraction, std::uint64_t seed, bool stratify = true);

/// @brief The row indices of each of `folds` folds for k-fold cross-validation, each sorted.
/// With `stratify` (labels are class values) the rows of each class are shuffled and dealt to the
/// folds in turn, classes in increasing order, continuing where the last class stopped, so every
/// fold gets its share of every class (scikit-learn's StratifiedKFold in spirit, not its exact
/// assignment); without, all rows are shuffled and dealt. Seeded by `seed`; every row is in
/// exactly one fold. Throws std::invalid_argument for folds < 2 or more folds than rows; the
/// caller checks that each class has at least `folds` rows if it needs that.
std::vector<std::vector<std::size_t>> k_fold_indices(const array& y, std::size_t folds,
                                                     bool stratify, std::uint64_t seed);

/// @brief The rows of X (2-D) or entries of y (1-D) at the given indices, in that order.
array take_rows(const array& a, const std::vector<std::size_t>& rows);

/// @brief The rows of a data set whose label passes `keep` (e.g. two of iris's three species).
Dataset where_label(const Dataset& d, const std::function<bool(double)>& keep);

}  // namespace xgrad::data
