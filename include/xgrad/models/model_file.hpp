/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "xgrad/data/standardize.hpp"
#include "xgrad/var.hpp"

namespace xgrad::models {

/// @brief Thrown when a model file cannot be read or does not describe a model; the message
/// starts with the file's path.
class model_file_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
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
    array decision_function(const array& raw_features) const;
    /// @brief P(y = 1) for logistic models, the prediction for linear ones.
    array predict(const array& raw_features) const;
};

/// @brief Writes the model as JSON, atomically (temporary file, then rename). Doubles are
/// written so that they read back bit for bit.
void save_model(const std::string& path, const ModelFile& model);

/// @brief Reads a model file, checking every field: a truncated or hand-edited file fails with a
/// model_file_error that names the file and the problem.
ModelFile load_model(const std::string& path);

}  // namespace xgrad::models
