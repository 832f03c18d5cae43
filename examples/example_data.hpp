/***************************************************************************
 * xgrad examples: the data sets of the examples, and their arguments       *
 ***************************************************************************/
#pragma once

#include <string>

#include "xgrad/data/csv.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/ops/losses.hpp"

#ifndef XGRAD_DATA_DIR
#define XGRAD_DATA_DIR "data"
#endif

namespace xgrad::examples {

/// @brief The data and output directories from the command line: [DATA_DIR] [OUT_DIR].
struct ExampleArguments {
    std::string data_dir;
    std::string out_dir;
};

inline ExampleArguments parse_arguments(int argc, char** argv) {
    return {argc > 1 ? argv[1] : XGRAD_DATA_DIR, argc > 2 ? argv[2] : "."};
}

/// @brief Iris petal length and width, setosa (0) against versicolor (1): 100 rows.
inline data::Dataset iris_petals(const std::string& data_dir) {
    return data::where_label(
        data::read_csv(data_dir + "/iris.csv", "species", {"petal_length", "petal_width"}),
        [](double species) { return species <= 1.0; });
}

/// @brief The course's one-feature house-price table: size in square feet against price in
/// thousands of dollars (the four rows of the classic linear-regression lecture).
inline data::Dataset house_prices() {
    data::Dataset d;
    d.features = array::from_shape({4, 1});
    d.labels = array::from_shape({4});
    const double sizes[] = {2104.0, 1416.0, 1534.0, 852.0};
    const double prices[] = {460.0, 232.0, 315.0, 178.0};
    for (std::size_t i = 0; i < 4; ++i) {
        d.features(i, 0) = sizes[i];
        d.labels(i) = prices[i];
    }
    d.feature_names = {"size_sqft"};
    d.label_name = "price_k";
    return d;
}

/// @brief The breast-cancer features standardised, with their labels (benign = 1).
inline data::Dataset standardized_breast_cancer(const std::string& data_dir) {
    data::Dataset d = data::read_csv(data_dir + "/breast_cancer.csv", "benign");
    d.features = data::Standardizer().fit_transform(d.features);
    return d;
}

/// @brief The L2-regularised logistic-regression objective (1/m)·Σ BCE + (λ/2m)·‖w‖².
inline Var logistic_objective(const data::Dataset& d, const Var& w, const Var& b, double lambda) {
    const double m = static_cast<double>(d.labels.size());
    return bce_with_logits(matmul(constant(d.features), w) + b, constant(d.labels)) +
           (lambda / (2.0 * m)) * sum(w * w);
}

}  // namespace xgrad::examples
