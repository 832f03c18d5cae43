/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
// Columns of a table read as text (read_table): choosing the label and the features, string
// labels (LabelEncoder), text features (OneHotEncoder), missing values (Imputer), and the two
// entry points a command-line tool calls, prepare_training_data and prepare_prediction_data.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "xgrad/core/var.hpp"
#include "xgrad/data/csv.hpp"

#if __has_include(<nlohmann/json_fwd.hpp>)
#include <nlohmann/json_fwd.hpp>
#define XGRAD_HAS_NLOHMANN_JSON 1
#endif

namespace xgrad::data {

/// @brief Thrown for a column that cannot be selected, a cell that cannot be read as its column
/// needs, a label or category never seen in training, and for JSON that does not describe a
/// fitted encoder. Messages about a table start with `file:line:column:` (the cell), `file:line:`
/// (the header) or `file:`; messages about JSON start with `field '<path>'`.
class column_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// @brief Whether a feature or regression-label cell is a missing value: empty, or one of `NA`,
/// `N/A`, `NaN`, `NULL` in any case (`na`, `nan`, `Nan`, `null`, ...). Class labels and
/// categorical cells are missing only when empty: there `NA` may be a class ("North America").
bool is_missing_value(std::string_view cell);

/// @brief Whether a class-label cell is "nan" in any case: no class (how numpy and pandas write a
/// missing value; other spellings of missing, such as NA, may be real class names).
bool is_nan_label(std::string_view cell);

/// @brief The number in the regression-label cell at `row`, `column` (both from 0) of `table`.
/// Throws column_error `file:line:column: empty cell in label column 'y'`, `... missing label
/// ('NA') in column 'y'`, `... 'abc' in label column 'y' is not a number (a regression label must
/// be a number)`, `... is not a finite number`, `... is too large for a double (the largest is
/// about 1.8e308)`.
double regression_label(const Table& table, std::size_t row, std::size_t column);

// ------------------------------------------------------------------------------------------
// Labels

/// @brief Class labels ↔ indices 0..K−1, as scikit-learn's LabelEncoder. The classes are sorted:
/// numerically when every label is a finite number ("0", "1", "10"; "1.0" and "1" are then one
/// class, kept with the spelling seen first), else as text in byte order ("10" < "9" < "a").
class LabelEncoder {
  public:
    /// @brief Learns the classes of `labels`; `column` names them in messages. Throws
    /// column_error: `no labels to fit` for an empty list, `label column 'y' is empty in every
    /// row`, `row 3: empty label in column 'y'` (rows from 0).
    LabelEncoder& fit(const std::vector<std::string>& labels, const std::string& column = "label");
    /// @brief Learns the classes of a table's column (from 0). Throws column_error:
    /// `file:line:column: label column 'y' is empty in every row` (the header cell),
    /// `file:line:column: empty cell in label column 'y'`.
    LabelEncoder& fit(const Table& table, std::size_t column);

    /// @brief The class index of each label. Throws column_error for a label never seen:
    /// `row 3: label 'x' in column 'y' was not seen in training (classes: 'a', 'b')`.
    std::vector<std::size_t> transform(const std::vector<std::string>& labels,
                                       const std::string& column = "label") const;
    /// @brief The class index of each cell of a table's column; the same errors as `file:line:
    /// column: label 'x' in column 'y' was not seen in training (classes: 'a', 'b')`, or
    /// `file:line:column: empty cell in label column 'y'`.
    std::vector<std::size_t> transform(const Table& table, std::size_t column) const;

    /// @brief The label text of each class index; std::out_of_range for an index ≥ K.
    std::vector<std::string> inverse_transform(const std::vector<std::size_t>& indices) const;
    /// @brief The same for indices held as doubles (a model's predictions); std::out_of_range
    /// for one that is not an integer in [0, K).
    std::vector<std::string> inverse_transform(const array& indices) const;

    /// @brief The classes in index order, as first spelled in the data.
    const std::vector<std::string>& classes() const { return classes_; }
    /// @brief Whether the classes are numbers (sorted numerically).
    bool numeric() const { return numeric_; }
    /// @brief Whether fit() (or from_classes) has given it classes.
    bool fitted() const { return !classes_.empty(); }

    /// @brief An encoder with known classes (e.g. read from a model file): they must be distinct,
    /// non-empty and in the order fit() gives (column_error otherwise, naming the class).
    static LabelEncoder from_classes(std::vector<std::string> classes);

    /// @brief The index of `label`, or npos if it is not a class (numbers compare as numbers).
    std::size_t find(std::string_view label) const;

  private:
    template <class Cells>
    /// @brief fit() on any column of cells (a Table's column, or strings).
    void fit_cells(const Cells& cells);
    /// @brief Throws column_error unless the classes are distinct, non-empty and sorted.
    void check_order() const;

    std::vector<std::string> classes_;
    std::vector<double> values_;  ///< the classes as numbers, when numeric_
    bool numeric_ = false;
};

// ------------------------------------------------------------------------------------------
// Categorical features

/// @brief One-hot encoding of text columns, as scikit-learn's OneHotEncoder(handle_unknown=
/// "error"): each column's categories are sorted as LabelEncoder sorts classes, and a column with
/// K categories becomes K columns of 0/1 named `column=category`.
class OneHotEncoder {
  public:
    /// @brief Learns the categories of the table's columns (from 0). Throws column_error:
    /// `file:line:column: empty cell in categorical column 'c' (every row needs a category)`.
    OneHotEncoder& fit(const Table& table, const std::vector<std::size_t>& columns);
    /// @brief Learns categories from named lists of cells (messages name rows from 0).
    OneHotEncoder& fit(const std::vector<std::string>& names,
                       const std::vector<std::vector<std::string>>& cells);

    /// @brief (rows, total categories) of 0/1: the fitted columns, found in `table` by name.
    /// Throws column_error: `file:line:column: category 'x' in column 'c' was not seen in
    /// training (categories: 'a', 'b')`, the empty-cell error of fit(), and `file:line: no
    /// column named 'c' (columns: ...)`.
    array transform(const Table& table) const;

    /// @brief The encoded columns' names in order.
    const std::vector<std::string>& columns() const { return names_; }
    /// @brief The categories of the encoded column `c` (from 0), sorted.
    const LabelEncoder& categories(std::size_t c) const { return categories_.at(c); }
    /// @brief `column=category` for every output column, in order.
    std::vector<std::string> feature_names() const;
    /// @brief `column=category` for the categories of the encoded column `c`.
    std::vector<std::string> feature_names(std::size_t c) const;

    /// @brief An encoder with known columns and categories (e.g. read from a model file).
    OneHotEncoder(std::vector<std::string> names, std::vector<LabelEncoder> categories);
    OneHotEncoder() = default;

  private:
    std::vector<std::string> names_;
    std::vector<LabelEncoder> categories_;
};

// ------------------------------------------------------------------------------------------
// Missing values

/// @brief How missing feature values are filled: not at all (a missing value is an error), or by
/// the column's mean or median over the rows the imputer was fitted on.
enum class Impute { none, mean, median };

/// @brief "none", "mean" or "median"; column_error `--impute must be 'none', 'mean' or
/// 'median', found 'x'` otherwise.
Impute parse_impute(const std::string& name);
/// @brief "none", "mean" or "median".
const char* to_string(Impute strategy);

/// @brief Fills missing values (NaN) column by column, as scikit-learn's SimpleImputer(
/// missing_values=nan): the statistic of each column is the mean, or the median (of an even
/// count, the mean of the middle two, as numpy), of its non-missing values in the rows given to
/// fit(): fit on the training split only.
class Imputer {
  public:
    /// @brief strategy mean or median (std::invalid_argument for none).
    explicit Imputer(Impute strategy = Impute::mean);
    /// @brief An imputer with known statistics (e.g. read from a model file); they must be
    /// finite (column_error otherwise).
    Imputer(Impute strategy, array statistics);

    /// @brief Learns each column's statistic from X (rows, features), NaN marking missing
    /// values. Throws column_error `cannot impute column 'x': all 3 values are missing in the
    /// rows it is fitted on` (the name from `names`, else `column 2` from 0), and shape_error for
    /// an X that is not 2-D.
    Imputer& fit(const array& X, const std::vector<std::string>& names = {});
    /// @brief X with every NaN replaced by its column's statistic; shape_error unless X is
    /// (rows, fitted features).
    array transform(const array& X) const;
    /// @brief fit(X, names), then transform(X): X (rows, features) with its NaNs filled.
    array fit_transform(const array& X, const std::vector<std::string>& names = {}) {
        return fit(X, names).transform(X);
    }

    /// @brief mean or median (none only for an imputer that was never given one).
    Impute strategy() const { return strategy_; }
    /// @brief One statistic per column; empty before fit().
    const array& statistics() const { return statistics_; }
    /// @brief Whether fit() has computed the statistics.
    bool fitted() const { return statistics_.dimension() == 1; }

  private:
    Impute strategy_;
    array statistics_;
};

// ------------------------------------------------------------------------------------------
// Choosing columns

/// @brief Classification labels are class names (LabelEncoder); regression labels are numbers.
enum class Task { classification, regression };

/// @brief What a user asked for: the label, the features (by name, in this order; or all columns
/// but the label and `drop`), which features are categorical (one-hot encoded), and imputation.
struct ColumnSpec {
    std::string label;                     ///< the label column; empty: the last column
    std::vector<std::string> features;     ///< empty: every column but the label and `drop`
    std::vector<std::string> drop;         ///< columns not to use (not with `features`)
    std::vector<std::string> categorical;  ///< features to one-hot encode
    Task task = Task::classification;
    Impute impute = Impute::none;
};

/// @brief The table's columns (from 0) that a ColumnSpec picks.
struct ColumnSelection {
    std::size_t label = Table::npos;    ///< the label column
    std::vector<std::size_t> features;  ///< the feature columns, in order
    std::vector<bool> categorical;      ///< per feature: one-hot encoded
};

/// @brief The columns `spec` names in `table`. Throws column_error (`file:line` is the header's,
/// `file:line:column` a header cell's):
///  - `--features and --drop cannot be used together: give one of them`
///  - `file:line: --features names 'x', but there is no such column (columns: 'a', 'b'; did you
///    mean 'X'?)`, the same for --label, --drop and --categorical (at most 20 columns are listed,
///    then `... (n in all)`; the hint only when a name differs in case or by up to two edits)
///  - `file:line:column: the label column 'y' is also named in --features`
///  - `file:line:column: the label column 'y' cannot be dropped`
///  - `file:line:column: the label column 'y' cannot be categorical`
///  - `file:line:column: 'c' is named in --categorical but is not a feature (it is dropped)`, or
///    `(not in --features)`
///  - `file:line:column: 'a' is named twice in --features`
///  - `file:line: no feature columns left (every column but the label 'y' is dropped)`, or
///    `(the file has only the label column 'y')`
///  - for the columns used, as read_csv: `file:line:column: duplicate column name 'a' (columns 1
///    and 3)` (`, one of them the label`), `file:line:column: column 2 has no name` (`(a comma at
///    the end of the header?)` for the last).
/// A name given to --drop or --categorical that several columns share picks all of them; given to
/// --label or --features it is ambiguous (the duplicate error).
ColumnSelection select_columns(const Table& table, const ColumnSpec& spec);

/// @brief The cells of `columns` (from 0) as numbers, (rows, columns.size()), read like
/// read_csv's cells. A missing value (is_missing_value) is NaN if `allow_missing`, else throws
/// column_error `file:line:column: missing value ('NA') in column 'x': fill it with --impute
/// mean or --impute median, or delete the row` (`(empty cell)` for an empty one). Text throws
/// `file:line:column: 'red' in column 'color' is not a number: drop the column (--drop color)
/// or one-hot encode it (--categorical color)`; also `... is too large for a double (the largest
/// is about 1.8e308)` and `'inf' in column 'x' is not a finite number`. Errors are reported in
/// file order (row by row).
array numeric_columns(const Table& table, const std::vector<std::size_t>& columns,
                      bool allow_missing);

// ------------------------------------------------------------------------------------------
// The entry points

/// @brief Everything learnt from the training data that prediction must repeat. to_json needs
/// the imputer fitted when impute is not none (std::logic_error otherwise).
struct FittedColumns {
    Task task = Task::classification;
    std::string label;                       ///< the label column's name
    std::vector<std::string> columns;        ///< the input feature columns, in order
    LabelEncoder labels;                     ///< fitted for classification
    OneHotEncoder one_hot;                   ///< the categorical columns among `columns`
    Impute impute = Impute::none;            ///< the strategy asked for
    Imputer imputer;                         ///< fitted when impute is not none
    std::vector<std::string> feature_names;  ///< the model's features (after one-hot)
};

/// @brief Features and labels ready for a model, with where every value came from.
struct PreparedData {
    /// @brief features (rows, features after one-hot), labels (rows,): class indices 0..K−1 as
    /// doubles for classification, the numbers for regression, empty when not read;
    /// feature_names after one-hot; the file's column (from 1) of every feature (a one-hot
    /// feature has its source column), so data.where(row, data.feature_columns[j]) names a cell.
    Dataset data;
    FittedColumns fitted;
    bool has_labels = false;
};

/// @brief Selects and encodes the training table, without imputing: labels encoded (the
/// LabelEncoder fitted on every row), categorical columns one-hot encoded (categories from
/// every row), numeric columns parsed with missing values left as NaN when spec.impute is not
/// none (otherwise an error). fitted.imputer has the strategy but is not fitted: fit it on the
/// training split and transform every split, e.g.
/// `d.fitted.imputer.fit(split.X_train, d.data.feature_names)`. Errors: select_columns's,
/// numeric_columns's, LabelEncoder::fit's, OneHotEncoder::fit's, a regression label that is
/// missing or not a number (`file:line:column: 'abc' in label column 'y' is not a number`), a
/// one-hot name that is already a column's (`file:line:column: the one-hot column 'c=a' would
/// repeat the name of column 4`), and `file:line: no data rows after the header`.
PreparedData encode_training_data(const Table& table, const ColumnSpec& spec);

/// @brief encode_training_data, then (when spec.impute is not none) the imputer fitted on every
/// row and applied. Throws, besides, `file:line:column: cannot impute column 'x': all 3 values
/// are missing in the rows it is fitted on`.
PreparedData prepare_training_data(const Table& table, const ColumnSpec& spec);

/// @brief The same with the imputer fitted on `imputer_rows` (from 0; e.g. the training split)
/// only, and applied to every row. std::out_of_range for a row beyond the table; column_error
/// for an empty list.
PreparedData prepare_training_data(const Table& table, const ColumnSpec& spec,
                                   const std::vector<std::size_t>& imputer_rows);

/// @brief The table encoded as `fitted` says, for prediction (`with_labels` false: the label
/// column is not read and may be absent) or evaluation (`with_labels` true: it must be there, and
/// classification labels must be classes seen in training). Columns beyond `fitted.columns` are
/// ignored; zero rows give (0, features). Throws column_error:
///  - `file:line: the model's column 'x' is missing (columns: 'a', 'b')`, `the model's columns
///    'x', 'z' are missing (...)`, `file:line: no label column named 'y' (columns: ...)`
///  - `file:line:column: missing value ('NA') in column 'x' (the model was trained without
///    --impute: every value is needed)` when it was, the value is filled with its statistic
///  - `file:line:column: 'red' in column 'x' is not a number (the model reads it as a number)`
///  - the unseen label / category errors of LabelEncoder and OneHotEncoder, duplicate names.
PreparedData prepare_prediction_data(const Table& table, const FittedColumns& fitted,
                                     bool with_labels = false);

// ------------------------------------------------------------------------------------------
// JSON, for model files

#ifdef XGRAD_HAS_NLOHMANN_JSON
/// @brief {"classes": ["a", "b"]} (whether they are numbers follows from the classes).
void to_json(nlohmann::json& j, const LabelEncoder& encoder);
/// @brief {"strategy": "mean"|"median", "statistics": [numbers]} (doubles round-trip exactly).
void to_json(nlohmann::json& j, const Imputer& imputer);
/// @brief {"columns": [{"name": "c", "categories": ["a", "b"]}, ...]}.
void to_json(nlohmann::json& j, const OneHotEncoder& encoder);
/// @brief {"task": "classification"|"regression", "label": "y", "columns": [...],
/// "label_encoder": {...}|null, "one_hot": {...}, "imputer": {...}|null, "features": [...]}.
void to_json(nlohmann::json& j, const FittedColumns& fitted);

/// @brief The reverse of to_json, checking every field; `field` is where `j` sits in the
/// enclosing document (e.g. "columns"), used in messages: column_error `field
/// 'columns.label_encoder.classes[2]' must be a string, found a number`, `field '...classes'
/// must be sorted and distinct: 'b' comes before 'a'`, `field 'columns.features' does not match
/// the columns and their categories`, ... (nlohmann's get<T>() calls these with field "").
void from_json(const nlohmann::json& j, LabelEncoder& encoder, const std::string& field = "");
/// @brief The same for an Imputer ({"strategy", "statistics"}).
void from_json(const nlohmann::json& j, Imputer& imputer, const std::string& field = "");
/// @brief The same for a OneHotEncoder ({"columns": [{"name", "categories"}]}).
void from_json(const nlohmann::json& j, OneHotEncoder& encoder, const std::string& field = "");
/// @brief The same for FittedColumns (the layout of to_json above).
void from_json(const nlohmann::json& j, FittedColumns& fitted, const std::string& field = "");
#endif

}  // namespace xgrad::data
