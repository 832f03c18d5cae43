// train_test_split and k-fold splits.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "xgrad/core/random.hpp"
#include "xgrad/data/split.hpp"

namespace xgrad::data {

array take_rows(const array& a, const std::vector<std::size_t>& rows) {
    const std::size_t width = a.dimension() == 2 ? a.shape()[1] : 1;
    shape_type shape = a.shape();
    shape[0] = rows.size();
    array out = array::from_shape(shape);
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::copy(a.data() + rows[r] * width, a.data() + (rows[r] + 1) * width,
                  out.data() + r * width);
    }
    return out;
}

Dataset where_label(const Dataset& d, const std::function<bool(double)>& keep) {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < d.labels.size(); ++i) {
        if (keep(d.labels(i))) rows.push_back(i);
    }
    Dataset out = d;
    out.features = take_rows(d.features, rows);
    out.labels = take_rows(d.labels, rows);
    return out;
}

namespace {

/// @brief train_test_indices, with `caller` naming the function in messages.
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_indices(
    const array& y, double test_fraction, std::uint64_t seed, bool stratify,
    const std::string& caller) {
    if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
        throw std::invalid_argument(caller + ": test_fraction must be in (0, 1), got " +
                                    std::to_string(test_fraction));
    }
    // Groups of rows that must be split alike: one per label when stratifying, else one.
    std::map<double, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < y.size(); ++i) groups[stratify ? y(i) : 0.0].push_back(i);
    Random random(seed);
    std::vector<std::size_t> train;
    std::vector<std::size_t> test;
    for (auto& [label, rows] : groups) {
        random.shuffle(rows);
        const auto n_test = static_cast<std::size_t>(std::lround(test_fraction * rows.size()));
        test.insert(test.end(), rows.begin(), rows.begin() + n_test);
        train.insert(train.end(), rows.begin() + n_test, rows.end());
    }
    if (train.empty() || test.empty()) {
        throw std::invalid_argument(caller + ": a test fraction of " +
                                    std::to_string(test_fraction) + " of " +
                                    std::to_string(y.size()) + " rows leaves the " +
                                    (test.empty() ? "test" : "training") + " part empty");
    }
    random.shuffle(train);  // groups must not stay in label order
    random.shuffle(test);
    return {std::move(train), std::move(test)};
}

}  // namespace

std::pair<std::vector<std::size_t>, std::vector<std::size_t>> train_test_indices(
    const array& y, double test_fraction, std::uint64_t seed, bool stratify) {
    if (y.dimension() != 1) {
        throw shape_error("train_test_indices: expects y (rows,), got " + format_shape(y.shape()));
    }
    return split_indices(y, test_fraction, seed, stratify, "train_test_indices");
}

Split train_test_split(const array& X, const array& y, double test_fraction, std::uint64_t seed,
                       bool stratify) {
    if (X.dimension() != 2 || y.dimension() != 1 || X.shape()[0] != y.shape()[0]) {
        throw shape_error("train_test_split: expects X (rows, features) and y (rows,), got " +
                          format_shape(X.shape()) + " and " + format_shape(y.shape()));
    }
    const auto [train, test] = split_indices(y, test_fraction, seed, stratify, "train_test_split");
    return {take_rows(X, train), take_rows(y, train), take_rows(X, test), take_rows(y, test)};
}

std::vector<std::vector<std::size_t>> k_fold_indices(const array& y, std::size_t folds,
                                                     bool stratify, std::uint64_t seed) {
    if (folds < 2 || folds > y.size()) {
        throw std::invalid_argument("k_fold_indices: " + std::to_string(folds) + " folds of " +
                                    std::to_string(y.size()) +
                                    " rows (need at least 2 folds, and no more folds than rows)");
    }
    std::map<double, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < y.size(); ++i) groups[stratify ? y(i) : 0.0].push_back(i);
    Random random(seed);
    std::vector<std::vector<std::size_t>> out(folds);
    std::size_t next = 0;
    for (auto& group : groups) {
        random.shuffle(group.second);
        for (std::size_t row : group.second) out[next++ % folds].push_back(row);
    }
    for (auto& fold : out) std::sort(fold.begin(), fold.end());
    return out;
}

}  // namespace xgrad::data
