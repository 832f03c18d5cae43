// Standardizer.
#include "xgrad/data/standardize.hpp"

#include <algorithm>
#include <cmath>

namespace xgrad::data {

Standardizer::Standardizer(array mean, array scale)
    : mean_(std::move(mean)), scale_(std::move(scale)) {
    if (mean_.dimension() != 1 || mean_.shape() != scale_.shape()) {
        throw shape_error("Standardizer: mean " + format_shape(mean_.shape()) + " and scale " +
                          format_shape(scale_.shape()) + " must be vectors of one length");
    }
    for (double s : scale_) {
        if (!(s > 0.0) || !std::isfinite(s)) {
            throw std::invalid_argument("Standardizer: every scale must be positive and finite");
        }
    }
}

Standardizer& Standardizer::fit(const array& X) {
    if (X.dimension() != 2 || X.shape()[0] == 0) {
        throw shape_error(
            "Standardizer.fit: expects X of shape (rows, features) with rows > 0, got " +
            format_shape(X.shape()));
    }
    const std::size_t rows = X.shape()[0];
    const std::size_t columns = X.shape()[1];
    mean_ = xt::zeros<double>({columns});
    scale_ = xt::zeros<double>({columns});
    for (std::size_t j = 0; j < columns; ++j) {
        double total = 0.0;
        double low = X(0, j);
        double high = X(0, j);
        for (std::size_t i = 0; i < rows; ++i) {
            total += X(i, j);
            low = std::min(low, X(i, j));
            high = std::max(high, X(i, j));
        }
        if (low == high && !std::isnan(total)) {  // constant: exactly 0 after the transform
            mean_(j) = low;
            scale_(j) = 1.0;
            continue;
        }
        const double mean = total / static_cast<double>(rows);
        double squares = 0.0;  // two passes: no cancellation from E[x²] − E[x]²
        for (std::size_t i = 0; i < rows; ++i) squares += (X(i, j) - mean) * (X(i, j) - mean);
        const double deviation = std::sqrt(squares / static_cast<double>(rows));
        mean_(j) = mean;
        scale_(j) = deviation > 0.0 ? deviation : 1.0;
    }
    return *this;
}

array Standardizer::transform(const array& X) const {
    if (!fitted()) throw graph_error("Standardizer.transform: call fit() first");
    if (X.dimension() != 2 || X.shape()[1] != mean_.size()) {
        throw shape_error("Standardizer.transform: expects X of shape (rows, " +
                          std::to_string(mean_.size()) + "), got " + format_shape(X.shape()));
    }
    array out = X;
    const std::size_t columns = mean_.size();
    for (std::size_t i = 0; i < X.shape()[0]; ++i) {
        for (std::size_t j = 0; j < columns; ++j) out(i, j) = (X(i, j) - mean_(j)) / scale_(j);
    }
    return out;
}

}  // namespace xgrad::data
