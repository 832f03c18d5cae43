/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "xgrad/data/standardize.hpp"
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

/// @brief Everything needed to use a trained linear model again: its kind, parameters, the
/// feature and label names, the standardisation it was trained with and its hyper-parameters.
struct ModelFile {
    std::string kind = "logistic";  ///< "logistic" or "linear"
    std::vector<std::string> feature_names;
    std::string label_name;
    array weights;  ///< one per feature
    double bias = 0.0;
    data::Standardizer standardizer;  ///< applied to raw features first, if fitted
    std::map<std::string, std::string> hyperparameters;

    /// @brief The linear score w·x + b of each raw row (standardised first if the model was).
    /// Throws prediction_error for a row whose standardised features or score are not finite.
    array decision_function(const array& raw_features) const;
    /// @brief P(y = 1) for logistic models, the prediction for linear ones; always finite (a row
    /// that overflows throws prediction_error).
    array predict(const array& raw_features) const;
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
