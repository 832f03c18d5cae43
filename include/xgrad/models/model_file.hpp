/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "xgrad/data/columns.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/models/mlp_model.hpp"
#include "xgrad/var.hpp"

namespace xgrad::models {

/// @brief Thrown when a model file cannot be read or does not describe a model; the message
/// starts with the file's path (`file:line:column:` for JSON that does not parse) and names the
/// field, e.g. `model.json: field 'weights[3]' must be a number, found string`.
class model_file_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// @brief Thrown when a row cannot be predicted: its standardised features or its score
/// w·x + b overflow a double. `row` counts from 0; `feature` is the feature's index, or npos
/// when the whole row is meant.
class prediction_error : public std::runtime_error {
  public:
    prediction_error(std::size_t row_, std::size_t feature_, const std::string& reason_)
        : std::runtime_error("row " + std::to_string(row_) + ": " + reason_),
          row(row_),
          feature(feature_),
          reason(reason_) {}
    std::size_t row;
    std::size_t feature;
    std::string reason;  ///< the message without the row
};

/// @brief Everything needed to use a trained model again: its kind, parameters, the feature and
/// label names, the class names of a classifier, the standardisation it was trained with and its
/// hyper-parameters.
///
/// Kinds: "linear" (regression) and "logistic" (two classes) have weights (features,) and one
/// bias; "softmax" (multinomial logistic regression) and "ovr" (one binary logistic model per
/// class, class k against the rest) have weights (features, K) and class_bias (K,), K ≥ 2.
/// Files of format version 1 (binary and linear models without class names) are still read;
/// a model with class names or a multiclass kind is written as version 2.
struct ModelFile {
    std::string kind = "logistic";  ///< "logistic", "linear", "softmax", "ovr" or "mlp"
    std::vector<std::string> feature_names;
    std::string label_name;
    /// @brief The class names in index order (a classifier's label k is classes[k]); empty for
    /// "linear", and in a version-1 "logistic" file (whose classes are "0" and "1").
    std::vector<std::string> classes;
    array weights;      ///< (features,) for logistic and linear; (features, K) for softmax and ovr
    double bias = 0.0;  ///< logistic and linear
    array class_bias;   ///< (K,) for softmax and ovr
    /// @brief mlp: the dense layers, input first (W (in, out), b (out,); the first takes the
    /// features, the last gives K logits or, without classes, one prediction).
    std::vector<LayerParameters> layers;
    std::string activation = "relu";  ///< mlp: between the layers (parse_activation's names)
    data::Standardizer standardizer;  ///< applied to raw features first, if fitted
    std::map<std::string, std::string> hyperparameters;
    /// @brief How a CSV file's columns become the features (selection, one-hot encoding,
    /// imputation) and its labels class indices (version 2, field "columns"); absent in older
    /// files, whose features are the columns named in feature_names, read as numbers. Its
    /// feature names must be feature_names, its label label_name and, for a classifier, its
    /// classes class_names().
    std::optional<data::FittedColumns> columns;

    /// @brief `columns`, or for a file without them the plain reading: the feature columns as
    /// numbers, the label as classes class_names() (a classifier) or numbers, no imputation.
    data::FittedColumns fitted_columns() const;

    /// @brief Whether the model predicts classes (every kind but "linear" and an mlp without
    /// classes).
    bool classifier() const { return kind != "linear" && !(kind == "mlp" && classes.empty()); }
    /// @brief Whether the model has one score per class (softmax, ovr, an mlp classifier).
    bool multiclass() const {
        return kind == "softmax" || kind == "ovr" || (kind == "mlp" && !classes.empty());
    }
    /// @brief The class names: `classes`, or "0", "1" for a logistic model without them; empty
    /// for "linear".
    std::vector<std::string> class_names() const;

    /// @brief The linear score of each raw row (standardised first if the model was): (rows,)
    /// w·x + b for logistic and linear, (rows, K) x·W + b for softmax and ovr. Throws
    /// prediction_error for a row whose standardised features or scores are not finite, and
    /// shape_error for features of another width.
    array decision_function(const array& raw_features) const;
    /// @brief P(y = 1) for logistic models, the prediction for linear ones: (rows,); for softmax
    /// and ovr the probabilities (rows, K) as predict_proba. Always finite (a row that overflows
    /// throws prediction_error).
    array predict(const array& raw_features) const;
    /// @brief P(class k | row) for a classifier, (rows, K), rows summing to 1: (1 − p, p) for
    /// logistic, the softmax of the scores for softmax, each class's sigmoid divided by their sum
    /// for ovr (as scikit-learn's OneVsRestClassifier). Throws std::logic_error for "linear".
    array predict_proba(const array& raw_features) const;
    /// @brief The class index (as a double) of the largest probability per row, the first on a
    /// tie; for logistic models, 1 when P(y = 1) ≥ 0.5. Throws std::logic_error for "linear".
    array predict_classes(const array& raw_features) const;

  private:
    /// @brief The mlp's outputs for standardised rows X: (rows, K) logits or (rows,).
    array mlp_scores(const array& X) const;
    /// @brief Throws prediction_error naming row i's first standardised feature that is not
    /// finite (it overflowed in the standardisation).
    void require_finite_features(const array& X, std::size_t i) const;
};

/// @brief The model as the JSON text save_model writes. Throws model_file_error (naming `path`
/// and the field) for a model that could not be loaded again: a non-finite number, repeated or
/// empty feature names, sizes that do not match.
std::string model_to_json(const ModelFile& model, const std::string& path);

/// @brief Writes the model as JSON, atomically (temporary file, then rename). Doubles are
/// written so that they read back bit for bit. Refuses (model_file_error) what
/// model_to_json refuses: nothing is written then.
void save_model(const std::string& path, const ModelFile& model);

/// @brief Reads a model file, checking every field: a truncated or hand-edited file fails with a
/// model_file_error that names the file and the field. Feature names must be distinct; every
/// number finite (one that overflows a double is named, with its line and column).
ModelFile load_model(const std::string& path);

/// @brief load_model on text in memory; `name` stands for the file in messages.
ModelFile parse_model(std::string_view text, const std::string& name);

}  // namespace xgrad::models
