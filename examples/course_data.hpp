/***************************************************************************
 * xgrad examples: the small data sets of the course's worked examples      *
 ***************************************************************************/
#pragma once

#include <string>

#include "xgrad/data/csv.hpp"
#include "xgrad/data/split.hpp"

namespace xgrad::examples {

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

}  // namespace xgrad::examples
