// Data preparation over a Communicator: the classes, categories, split, imputer and standardiser
// the single-process pipeline learns from a whole file, learnt from the ranks' shards.
#include "xgrad/distributed/data.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "xgrad/core/errors.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/data/split.hpp"

namespace xgrad::distributed {

namespace {

using data::Table;
constexpr std::size_t npos = Table::npos;

/// @brief Throws, on the calling rank, the error that rank `failed` reported, as agree() does:
/// distributed_error `rank R: what` (the bare message for a group of one).
[[noreturn]] void fail_as(Communicator& comm, std::size_t failed, const std::string& what) {
    throw distributed_error(
        comm.size() == 1 ? what : "rank " + std::to_string(failed) + ": " + what,
        static_cast<int>(failed));
}

// ---------------------------------------------------------------------------------------------
// Bytes for allgather

/// @brief Appends numbers and strings to a byte string.
class Writer {
  public:
    void number(std::uint64_t v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void text(const std::string& s) {
        number(s.size());
        bytes_ += s;
    }
    void texts(const std::vector<std::string>& list) {
        number(list.size());
        for (const auto& s : list) text(s);
    }
    const std::string& bytes() const { return bytes_; }

  private:
    std::string bytes_;
};

/// @brief Reads what a Writer wrote, in the same order.
class Reader {
  public:
    explicit Reader(const std::string& bytes) : bytes_(bytes) {}
    std::uint64_t number() {
        std::uint64_t v = 0;
        if (at_ + sizeof v > bytes_.size()) throw std::logic_error("distributed: short message");
        std::memcpy(&v, bytes_.data() + at_, sizeof v);
        at_ += sizeof v;
        return v;
    }
    std::string text() {
        const std::uint64_t n = number();
        if (at_ + n > bytes_.size()) throw std::logic_error("distributed: short message");
        std::string out = bytes_.substr(at_, n);
        at_ += n;
        return out;
    }
    std::vector<std::string> texts() {
        std::vector<std::string> out(number());
        for (auto& s : out) s = text();
        return out;
    }

  private:
    const std::string& bytes_;
    std::size_t at_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Cells, as data::encode_training_data reads them

/// @brief "column 'name'".
std::string column_word(const std::string& name) {
    return "column " + quote_text(name);
}

/// @brief What one rank found in the cells the whole file decides on: the first problem of each
/// kind (empty if none) and the distinct values, in the order first seen.
struct ColumnSummary {
    std::string empty_error;  ///< the first empty cell
    std::string nan_error;    ///< the first "nan" cell
    std::vector<std::string> values;
};

/// @brief One rank's report, for encode_training_data. Problems are messages (empty: none).
struct Summary {
    std::string selection_error;
    std::uint64_t rows = 0;
    std::uint64_t empty_labels = 0;
    ColumnSummary label;
    std::string regression_error;
    std::vector<ColumnSummary> categorical;
    std::string feature_error;

    std::string bytes() const {
        Writer w;
        w.text(selection_error);
        w.number(rows);
        w.number(empty_labels);
        const auto column = [&](const ColumnSummary& c) {
            w.text(c.empty_error);
            w.text(c.nan_error);
            w.texts(c.values);
        };
        column(label);
        w.text(regression_error);
        w.number(categorical.size());
        for (const auto& c : categorical) column(c);
        w.text(feature_error);
        return w.bytes();
    }

    static Summary read(const std::string& bytes) {
        Reader r(bytes);
        Summary s;
        s.selection_error = r.text();
        s.rows = r.number();
        s.empty_labels = r.number();
        const auto column = [&] {
            ColumnSummary c;
            c.empty_error = r.text();
            c.nan_error = r.text();
            c.values = r.texts();
            return c;
        };
        s.label = column();
        s.regression_error = r.text();
        s.categorical.resize(r.number());
        for (auto& c : s.categorical) c = column();
        s.feature_error = r.text();
        return s;
    }
};

/// @brief The distinct cells of a column in the order first seen, and its first empty and
/// first "nan" cells (`empty_text` completes the empty cell's message).
ColumnSummary summarize_column(const Table& table, std::size_t column,
                               const std::string& empty_text) {
    ColumnSummary out;
    std::unordered_set<std::string_view> seen;
    const std::string& name = table.header()[column];
    for (std::size_t i = 0; i < table.rows(); ++i) {
        const std::string_view cell = table.cell(i, column);
        if (cell.empty()) {
            if (out.empty_error.empty())
                out.empty_error = table.where(i, column) + ": " + empty_text;
            continue;
        }
        if (data::is_nan_label(cell) && out.nan_error.empty()) {
            out.nan_error = table.where(i, column) + ": missing value (" + quote_text(cell) +
                            ") in " + column_word(name) +
                            ": NaN is not a class (delete the row, or give it one)";
        }
        if (seen.insert(cell).second) out.values.emplace_back(cell);
    }
    return out;
}

/// @brief The lowest rank whose `problem` is not empty (npos if none).
template <class Problem>
std::size_t first_failing(const std::vector<Summary>& all, Problem problem) {
    for (std::size_t r = 0; r < all.size(); ++r) {
        if (!problem(all[r]).empty()) return r;
    }
    return npos;
}

/// @brief Fails on every rank with the lowest rank's `problem`, if any rank has one.
template <class Problem>
void fail_on_first(Communicator& comm, const std::vector<Summary>& all, Problem problem) {
    const std::size_t r = first_failing(all, problem);
    if (r != npos) fail_as(comm, r, problem(all[r]));
}

// ---------------------------------------------------------------------------------------------
// Shapes of the ranks' matrices

/// @brief Checks that X_local is 2-D on every rank with the same number of columns; returns
/// (columns, rows over all ranks). Collective (agree, then one allgather).
std::pair<std::size_t, std::size_t> agreed_matrix(const array& X_local, const char* caller,
                                                  Communicator& comm) {
    agree(comm, [&] {
        if (X_local.dimension() != 2) {
            throw shape_error(std::string(caller) + ": expects X of shape (rows, features), got " +
                              format_shape(X_local.shape()));
        }
    });
    const std::vector<double> shapes = allgather_values(
        comm, {static_cast<double>(X_local.shape()[1]), static_cast<double>(X_local.shape()[0])});
    const auto width = static_cast<std::size_t>(shapes[0]);
    std::size_t rows = 0;
    for (std::size_t r = 0; r < shapes.size() / 2; ++r) {
        const auto columns = static_cast<std::size_t>(shapes[2 * r]);
        if (columns != width) {
            fail_as(comm, r,
                    std::string(caller) + ": rank " + std::to_string(r) + " has " +
                        std::to_string(columns) + " features, rank 0 has " + std::to_string(width));
        }
        rows += static_cast<std::size_t>(shapes[2 * r + 1]);
    }
    return {width, rows};
}

/// @brief The split of `y_all` (every rank's rows, by position), kept for the rows whose
/// position p has local_of[p] != npos (their index in this rank's y_local).
RowSplit keep_local(const array& y_all, const std::vector<std::size_t>& local_of,
                    double test_fraction, std::uint64_t seed, bool stratify) {
    const auto [train, test] = data::train_test_indices(y_all, test_fraction, seed, stratify);
    RowSplit out;
    out.train_total = train.size();
    out.test_total = test.size();
    for (std::size_t p = 0; p < train.size(); ++p) {
        if (local_of[train[p]] == npos) continue;
        out.train_local.push_back(local_of[train[p]]);
        out.train_ids.push_back(p);
    }
    for (std::size_t p = 0; p < test.size(); ++p) {
        if (local_of[test[p]] == npos) continue;
        out.test_local.push_back(local_of[test[p]]);
        out.test_ids.push_back(p);
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Columns

data::PreparedData encode_training_data(const Table& shard, const data::ColumnSpec& spec,
                                        Communicator& comm) {
    const bool classification = spec.task == data::Task::classification;
    const bool allow_missing = spec.impute != data::Impute::none;

    // What this rank can tell alone: the columns, then its cells' problems and distinct values.
    Summary mine;
    std::exception_ptr selection_failure;
    data::ColumnSelection selection;
    try {
        selection = data::select_columns(shard, spec);
    } catch (const std::exception& e) {
        selection_failure = std::current_exception();
        mine.selection_error = std::string("!") + e.what();  // '!': a failure even if empty
    }
    std::vector<std::size_t> numeric_columns;
    array numeric;
    array regression_labels;
    if (!selection_failure) {
        const std::size_t label = selection.label;
        const std::string& label_name = shard.header()[label];
        mine.rows = shard.rows();
        if (classification) {
            for (std::size_t i = 0; i < shard.rows(); ++i)
                mine.empty_labels += shard.cell(i, label).empty() ? 1 : 0;
            mine.label = summarize_column(shard, label,
                                          "empty cell in label column " + quote_text(label_name));
        } else {
            regression_labels = array::from_shape({shard.rows()});
            try {
                for (std::size_t i = 0; i < shard.rows(); ++i)
                    regression_labels(i) = data::regression_label(shard, i, label);
            } catch (const std::exception& e) {
                mine.regression_error = e.what();
            }
        }
        for (std::size_t k = 0; k < selection.features.size(); ++k) {
            const std::size_t c = selection.features[k];
            if (!selection.categorical[k]) {
                numeric_columns.push_back(c);
                continue;
            }
            mine.categorical.push_back(summarize_column(shard, c,
                                                        "empty cell in categorical column " +
                                                            quote_text(shard.header()[c]) +
                                                            " (every row needs a category)"));
        }
        try {
            numeric = data::numeric_columns(shard, numeric_columns, allow_missing);
        } catch (const std::exception& e) {
            mine.feature_error = e.what();
        }
    }

    std::vector<Summary> all;
    for (const std::string& bytes : comm.allgather(mine.bytes()))
        all.push_back(Summary::read(bytes));

    // The problems, in the order data::encode_training_data meets them. First the columns: the
    // same header and spec give every rank the same error, thrown as it is when all ranks have it.
    const std::size_t selection_failed =
        first_failing(all, [](const Summary& s) { return s.selection_error; });
    if (selection_failed != npos) {
        bool everywhere = true;
        for (const auto& s : all)
            everywhere = everywhere && s.selection_error == mine.selection_error;
        if (everywhere) std::rethrow_exception(selection_failure);
        fail_as(comm, selection_failed, all[selection_failed].selection_error.substr(1));
    }
    std::size_t total_rows = 0;
    std::size_t total_empty = 0;
    for (const auto& s : all) {
        total_rows += s.rows;
        total_empty += s.empty_labels;
    }
    if (total_rows == 0)
        throw data::column_error(shard.where(npos, npos) + ": no data rows after the header");

    // The labels.
    data::PreparedData out;
    data::FittedColumns& fitted = out.fitted;
    data::Dataset& d = out.data;
    const std::size_t label = selection.label;
    fitted.task = spec.task;
    fitted.label = shard.header()[label];
    fitted.impute = spec.impute;
    if (allow_missing) fitted.imputer = data::Imputer(spec.impute);
    if (classification) {
        if (total_empty == total_rows) {
            throw data::column_error(shard.where(npos, label) + ": label column " +
                                     quote_text(fitted.label) + " is empty in every row");
        }
        fail_on_first(comm, all, [](const Summary& s) { return s.label.empty_error; });
        fail_on_first(comm, all, [](const Summary& s) { return s.label.nan_error; });
        // Each rank's distinct labels, in rank order: the file's first spellings come first.
        std::vector<std::string> labels;
        for (const auto& s : all)
            labels.insert(labels.end(), s.label.values.begin(), s.label.values.end());
        fitted.labels.fit(labels, fitted.label);
    } else {
        fail_on_first(comm, all, [](const Summary& s) { return s.regression_error; });
    }

    // The categories.
    std::vector<std::string> categorical_names;
    std::vector<std::vector<std::string>> categories;
    for (std::size_t k = 0; k < selection.features.size(); ++k) {
        const std::size_t c = selection.features[k];
        fitted.columns.push_back(shard.header()[c]);
        if (!selection.categorical[k]) continue;
        const std::size_t n = categorical_names.size();
        fail_on_first(comm, all, [n](const Summary& s) { return s.categorical[n].empty_error; });
        fail_on_first(comm, all, [n](const Summary& s) { return s.categorical[n].nan_error; });
        categorical_names.push_back(shard.header()[c]);
        categories.emplace_back();
        for (const auto& s : all) {
            const auto& values = s.categorical[n].values;
            categories.back().insert(categories.back().end(), values.begin(), values.end());
        }
    }
    fitted.one_hot.fit(categorical_names, categories);

    // The features' names (a one-hot name may not repeat a column's), then their values.
    std::vector<const data::LabelEncoder*> encoders;
    std::size_t next = 0;
    for (std::size_t k = 0; k < selection.features.size(); ++k) {
        const std::size_t c = selection.features[k];
        if (!selection.categorical[k]) {
            encoders.push_back(nullptr);
            fitted.feature_names.push_back(shard.header()[c]);
            continue;
        }
        encoders.push_back(&fitted.one_hot.categories(next));
        for (const auto& name : fitted.one_hot.feature_names(next)) {
            const std::size_t same = shard.find(name);
            if (same != npos) {
                throw data::column_error(shard.where(npos, c) + ": the one-hot column " +
                                         quote_text(name) + " would repeat the name of column " +
                                         std::to_string(same + 1));
            }
            fitted.feature_names.push_back(name);
        }
        ++next;
    }
    fail_on_first(comm, all, [](const Summary& s) { return s.feature_error; });

    const std::size_t rows = shard.rows();
    const std::size_t width = fitted.feature_names.size();
    d.features = xt::zeros<double>(shape_type{rows, width});
    for (std::size_t k = 0, j = 0, q = 0; k < selection.features.size(); ++k) {
        const std::size_t c = selection.features[k];
        if (encoders[k] == nullptr) {
            d.feature_columns.push_back(c + 1);
            for (std::size_t i = 0; i < rows; ++i) d.features(i, j) = numeric(i, q);
            ++j;
            ++q;
            continue;
        }
        const std::size_t n = encoders[k]->classes().size();
        d.feature_columns.insert(d.feature_columns.end(), n, c + 1);
        for (std::size_t i = 0; i < rows; ++i) {
            const std::size_t index = encoders[k]->find(shard.cell(i, c));
            if (index == npos) throw std::logic_error("encode_training_data: a category was lost");
            d.features(i, j + index) = 1.0;
        }
        j += n;
    }
    if (classification) {
        const auto k = fitted.labels.transform(shard, label);
        d.labels = array::from_shape({rows});
        std::copy(k.begin(), k.end(), d.labels.begin());
    } else {
        d.labels = std::move(regression_labels);
    }
    d.feature_names = fitted.feature_names;
    d.label_name = fitted.label;
    d.label_column = label + 1;
    d.source = shard.source();
    d.row_lines = shard.row_lines();
    d.spanning_rows = shard.spanning_rows();
    out.has_labels = true;
    return out;
}

// ---------------------------------------------------------------------------------------------
// Splits

RowSplit split_rows(const array& y_local, double test_fraction, std::uint64_t seed, bool stratify,
                    Communicator& comm) {
    agree(comm, [&] {
        if (y_local.dimension() != 1) {
            throw shape_error("split_rows: expects y_local of shape (rows,), got " +
                              format_shape(y_local.shape()));
        }
    });
    const std::vector<std::string> parts = comm.allgather(std::string(
        reinterpret_cast<const char*>(y_local.data()), y_local.size() * sizeof(double)));
    std::size_t total = 0;
    std::size_t offset = 0;
    for (std::size_t r = 0; r < parts.size(); ++r) {
        if (r == static_cast<std::size_t>(comm.rank())) offset = total;
        total += parts[r].size() / sizeof(double);
    }
    array y_all = array::from_shape({total});
    std::size_t at = 0;
    for (const auto& part : parts) {
        if (!part.empty()) std::memcpy(y_all.data() + at, part.data(), part.size());
        at += part.size() / sizeof(double);
    }
    std::vector<std::size_t> local_of(total, npos);
    for (std::size_t i = 0; i < y_local.size(); ++i) local_of[offset + i] = i;
    return keep_local(y_all, local_of, test_fraction, seed, stratify);
}

RowSplit split_rows(const array& y_local, const std::vector<std::size_t>& ids_local,
                    double test_fraction, std::uint64_t seed, bool stratify, Communicator& comm) {
    agree(comm, [&] {
        if (y_local.dimension() != 1) {
            throw shape_error("split_rows: expects y_local of shape (rows,), got " +
                              format_shape(y_local.shape()));
        }
        if (ids_local.size() != y_local.size()) {
            throw std::invalid_argument("split_rows: " + std::to_string(ids_local.size()) +
                                        " positions for " + std::to_string(y_local.size()) +
                                        " rows");
        }
    });
    Writer w;
    for (std::size_t i = 0; i < y_local.size(); ++i) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &y_local(i), sizeof bits);
        w.number(ids_local[i]);
        w.number(bits);
    }
    const std::vector<std::string> parts = comm.allgather(w.bytes());
    std::size_t total = 0;
    for (const auto& part : parts) total += part.size() / (2 * sizeof(std::uint64_t));
    array y_all = array::from_shape({total});
    std::vector<std::size_t> owner(total, npos);
    for (std::size_t r = 0; r < parts.size(); ++r) {
        Reader read(parts[r]);
        for (std::size_t i = 0; i < parts[r].size() / (2 * sizeof(std::uint64_t)); ++i) {
            const std::uint64_t id = read.number();
            const std::uint64_t bits = read.number();
            if (id >= total) {
                fail_as(comm, r,
                        "split_rows: position " + std::to_string(id) + " is beyond the " +
                            std::to_string(total) + " rows of all ranks");
            }
            if (owner[id] != npos) {
                fail_as(comm, r,
                        "split_rows: position " + std::to_string(id) + " is given twice (ranks " +
                            std::to_string(owner[id]) + " and " + std::to_string(r) + ")");
            }
            owner[id] = r;
            std::memcpy(&y_all(id), &bits, sizeof bits);
        }
    }
    std::vector<std::size_t> local_of(total, npos);
    for (std::size_t i = 0; i < ids_local.size(); ++i) local_of[ids_local[i]] = i;
    return keep_local(y_all, local_of, test_fraction, seed, stratify);
}

// ---------------------------------------------------------------------------------------------
// Statistics

data::Imputer fit_imputer(const array& X_local, const std::vector<std::string>& names,
                          data::Impute strategy, Communicator& comm) {
    const data::Imputer check(strategy);  // std::invalid_argument for none, on every rank
    const auto [width, total] = agreed_matrix(X_local, "fit_imputer", comm);
    if (total == 0) throw data::column_error("cannot fit an imputer on 0 rows");
    const std::size_t rows = X_local.shape()[0];
    const auto all_missing = [&, total = total](std::size_t j) {
        const std::string name =
            j < names.size() ? quote_text(names[j]) : std::to_string(j) + " (from 0)";
        return data::column_error("cannot impute column " + name + ": all " +
                                  std::to_string(total) +
                                  " values are missing in the rows it is fitted on");
    };
    array statistics = array::from_shape({width});
    if (strategy == data::Impute::mean) {
        // Sums of the present values, then their counts.
        std::vector<double> sums(2 * width, 0.0);
        for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < width; ++j) {
                if (std::isnan(X_local(i, j))) continue;
                sums[j] += X_local(i, j);
                sums[width + j] += 1.0;
            }
        }
        comm.allreduce_sum(sums.data(), sums.size());
        std::vector<double> shares(width, 0.0);  // Σ v / count, where the sum overflows
        bool overflow = false;
        for (std::size_t j = 0; j < width; ++j) {
            if (sums[width + j] == 0.0) throw all_missing(j);
            statistics(j) = sums[j] / sums[width + j];
            overflow = overflow || !std::isfinite(statistics(j));
        }
        if (overflow) {  // the same on every rank: the statistics are
            for (std::size_t i = 0; i < rows; ++i) {
                for (std::size_t j = 0; j < width; ++j) {
                    if (!std::isnan(X_local(i, j))) shares[j] += X_local(i, j) / sums[width + j];
                }
            }
            comm.allreduce_sum(shares.data(), width);
            for (std::size_t j = 0; j < width; ++j) {
                if (!std::isfinite(statistics(j))) statistics(j) = shares[j];
            }
        }
    } else {
        // Every rank's present values of one column at a time, and Imputer::fit's median of them.
        std::vector<double> present;
        for (std::size_t j = 0; j < width; ++j) {
            present.clear();
            for (std::size_t i = 0; i < rows; ++i) {
                if (!std::isnan(X_local(i, j))) present.push_back(X_local(i, j));
            }
            const std::vector<double> values = allgather_values(comm, present);
            if (values.empty()) throw all_missing(j);
            array column = array::from_shape({values.size(), std::size_t{1}});
            std::copy(values.begin(), values.end(), column.begin());
            statistics(j) = data::Imputer(data::Impute::median).fit(column).statistics()(0);
        }
    }
    return data::Imputer(strategy, std::move(statistics));
}

std::pair<array, array> standardizer_statistics(const array& X_local, Communicator& comm) {
    const auto [width, total] = agreed_matrix(X_local, "fit_standardizer", comm);
    if (total == 0) {
        throw shape_error(
            "Standardizer.fit: expects X of shape (rows, features) with rows > 0, got 0 rows on "
            "every rank");
    }
    const std::size_t rows = X_local.shape()[0];
    const auto n = static_cast<double>(total);
    // Σx, then each column's maximum and −minimum (a rank without rows offers −inf for both)
    array mean = xt::zeros<double>({width});
    std::vector<double> extremes(2 * width, -INFINITY);
    for (std::size_t j = 0; j < width; ++j) {
        for (std::size_t i = 0; i < rows; ++i) {
            mean(j) += X_local(i, j);
            extremes[j] = std::max(extremes[j], X_local(i, j));
            extremes[width + j] = std::max(extremes[width + j], -X_local(i, j));
        }
    }
    comm.allreduce_sum(mean.data(), width);
    comm.allreduce_max(extremes.data(), extremes.size());
    std::vector<bool> constant(width);
    for (std::size_t j = 0; j < width; ++j) {
        constant[j] = extremes[j] == -extremes[width + j] && !std::isnan(mean(j));
        mean(j) = constant[j] ? extremes[j] : mean(j) / n;  // as Standardizer::fit
    }
    array scale = xt::zeros<double>({width});  // two passes, as Standardizer::fit
    for (std::size_t j = 0; j < width; ++j) {
        for (std::size_t i = 0; i < rows; ++i)
            scale(j) += (X_local(i, j) - mean(j)) * (X_local(i, j) - mean(j));
    }
    comm.allreduce_sum(scale.data(), width);
    for (std::size_t j = 0; j < width; ++j) {
        const double deviation = std::sqrt(scale(j) / n);
        scale(j) = constant[j] || deviation == 0.0 ? 1.0 : deviation;
    }
    return {std::move(mean), std::move(scale)};
}

data::Standardizer fit_standardizer(const array& X_local, Communicator& comm) {
    auto [mean, scale] = standardizer_statistics(X_local, comm);
    for (std::size_t j = 0; j < mean.size(); ++j) {
        if (!std::isfinite(scale(j)) || !std::isfinite(mean(j))) {
            throw std::range_error("fit_standardizer: column " + std::to_string(j) +
                                   " (from 0) cannot be standardised: its " +
                                   (std::isfinite(mean(j)) ? "spread" : "mean") +
                                   " overflows a double");
        }
    }
    return data::Standardizer(std::move(mean), std::move(scale));
}

}  // namespace xgrad::distributed
