/***************************************************************************
 * xgrad examples: the bundled data sets, ready for the examples            *
 ***************************************************************************/
#pragma once

#include <string>

#include "xgrad/data/csv.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/losses.hpp"
#include "xgrad/ops.hpp"

#ifndef XGRAD_DATA_DIR
#define XGRAD_DATA_DIR "data"
#endif

namespace xgrad::examples {

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
