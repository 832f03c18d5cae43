// Data preparation for data-parallel training: each rank holds a contiguous block of the rows of
// one CSV file (its shard), and learns from the shards together exactly what the single-process
// pipeline learns from the whole file (the classes, the categories, the train/test split, the
// imputer's and the standardiser's statistics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/var.hpp"
#include "xgrad/data/columns.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/distributed/communicator.hpp"

namespace xgrad::distributed {

/// @brief data::encode_training_data over the file whose rows are the ranks' shards in rank
/// order (every shard has the file's header; its rows keep their real lines). Collective.
///
/// Every rank gets the FittedColumns that data::encode_training_data gives on the whole file:
/// the label classes (sorted; numeric classes spelled as first seen in the file, i.e. on the
/// lowest rank), the one-hot categories of every categorical column, `columns` and
/// `feature_names`, the imputer's strategy (not fitted: see fit_imputer). `data` holds this
/// rank's rows only, encoded with them: features (rows, features after one-hot; NaN for missing
/// values when spec.impute is not none), labels as global class indices (classification) or
/// numbers (regression), feature_columns, label_column, and source, row_lines and spanning_rows
/// as the shard gives them. A class or category present on some ranks only gets the same index
/// everywhere; a rank may hold no rows.
///
/// Errors are those of data::encode_training_data, in the same order, so the file's first
/// problem is the one reported:
///  - a problem in one rank's rows (`file:line:column: empty cell in label column 'y'`, a cell
///    that is not a number, ...): distributed_error on every rank, with that rank's message
///    prefixed `rank R: ` (none for a group of one) and failed_rank() R, R the lowest rank with
///    the first kind of problem the single-process checks meet;
///  - a problem of the whole data, the same on every rank (select_columns's errors, `file:line:
///    no data rows after the header` when every shard is empty, `label column 'y' is empty in
///    every row`, a one-hot name that repeats a column's): the column_error of
///    data::encode_training_data, thrown on every rank (should the shards' headers differ so
///    that only some ranks fail to select the columns, the lowest one's, as a
///    distributed_error).
///
/// Communication: one allgather of a summary of each rank's rows (the distinct label and
/// category cells, and the first problem of each kind, if any); nothing else moves, error or
/// not. Memory beyond the shard's encoding: the distinct labels and categories of all ranks.
data::PreparedData encode_training_data(const data::Table& shard, const data::ColumnSpec& spec,
                                        Communicator& comm);

/// @brief One rank's part of a train/test split of rows spread over ranks.
struct RowSplit {
    /// @brief This rank's training (test) rows, as indices into its y_local (and X_local), in
    /// the order the single-process split gives them: take_rows(X_local, train_local) on every
    /// rank, concatenated in the order of train_ids over all ranks, is the single-process
    /// X_train.
    std::vector<std::size_t> train_local, test_local;
    /// @brief The position (from 0) of each of train_local's (test_local's) rows in the whole
    /// training (test) part: its row of the single-process X_train (X_test). Increasing.
    std::vector<std::size_t> train_ids, test_ids;
    /// @brief The rows of the whole training (test) part, over all ranks.
    std::size_t train_total = 0, test_total = 0;
};

/// @brief data::train_test_indices on the labels of all ranks in rank order (the file's order,
/// for shards), each rank keeping its own rows; see RowSplit. Collective: one allgather of the
/// labels (memory and traffic O(total rows): no features move).
/// @throw distributed_error on every rank for a y_local that is not 1-D on some rank; the
/// std::invalid_argument of train_test_indices (a test_fraction outside (0, 1), or one that
/// leaves a part empty) on every rank.
RowSplit split_rows(const array& y_local, double test_fraction, std::uint64_t seed, bool stratify,
                    Communicator& comm);

/// @brief The same for rows whose order is not the rank order: `ids_local[i]` is the position
/// of row i of y_local among all ranks' rows (e.g. RowSplit::train_ids, to split the training
/// part again for validation as the single-process `train_test_split(X_train, y_train, ...)`
/// does); the positions over all ranks must be 0 .. total − 1, each once. Collective, as above.
/// @throw distributed_error on every rank when y_local is not 1-D or ids_local and y_local
/// differ in length on some rank (`rank 2: split_rows: 49 positions for 50 rows`), or a position
/// is repeated or beyond the rows of all ranks (`rank 2: split_rows: position 7 is given twice
/// (ranks 0 and 2)`, naming the rank that gave it second); as split_rows otherwise.
RowSplit split_rows(const array& y_local, const std::vector<std::size_t>& ids_local,
                    double test_fraction, std::uint64_t seed, bool stratify, Communicator& comm);

/// @brief The imputer data::Imputer(strategy).fit(X, names) gives for X the rows of every rank's
/// X_local (rows, features), NaN marking missing values. Collective.
///
/// mean: each column's global sum of non-missing values over their global count (one
/// allreduce_sum; the ranks' partial sums are added in rank order, so the statistic matches
/// Imputer::fit's sequential sum to rounding, ~1e-15 relative; when the sum overflows, the sum
/// of value / count, as fit does). median: exact (the bits fit gives), from one allgather of each
/// column's non-missing values in turn (memory O(total rows) for one column).
/// @throw column_error on every rank, as Imputer::fit: `cannot impute column 'x': all N values
/// are missing in the rows it is fitted on` (N the rows of all ranks; the first such column),
/// `cannot fit an imputer on 0 rows` when every rank has none; `Imputer: statistic j is not
/// finite` for infinite inputs; std::invalid_argument for strategy none; distributed_error on
/// every rank when X_local is not 2-D on some rank (the shape_error of that rank) or the ranks'
/// feature counts differ (`fit_imputer: rank 1 has 3 features, rank 0 has 4`).
data::Imputer fit_imputer(const array& X_local, const std::vector<std::string>& names,
                          data::Impute strategy, Communicator& comm);

/// @brief The mean and scale data::Standardizer().fit(X) gives for X the rows of every rank's
/// X_local (rows, features): mean = Σx / n, then scale = sqrt(Σ(x − mean)² / n), 1 for a column
/// whose sum of squares is 0; a constant column (its global minimum equals its maximum) gets
/// that value as mean and scale 1, as fit. Three collectives (the sums, the extremes, the
/// squares; partial sums added in rank order: equal to fit's to rounding, ~1e-15 relative); no
/// rows move. Either may hold inf or NaN where fit's would (a spread that overflows).
/// @throw distributed_error on every rank when X_local is not 2-D on some rank or the ranks'
/// feature counts differ; on every rank, shape_error `Standardizer.fit: expects X of shape
/// (rows, features) with rows > 0, got 0 rows on every rank`.
std::pair<array, array> standardizer_statistics(const array& X_local, Communicator& comm);

/// @brief standardizer_statistics as a Standardizer.
/// @throw as standardizer_statistics; on every rank std::range_error `fit_standardizer: column j
/// (from 0) cannot be standardised: its spread overflows a double` where fit would give an
/// infinite scale (a Standardizer cannot hold one).
data::Standardizer fit_standardizer(const array& X_local, Communicator& comm);

}  // namespace xgrad::distributed
