// make_moons and the other generated data sets.
#include <cmath>

#include "xgrad/core/random.hpp"
#include "xgrad/data/synthetic.hpp"

namespace xgrad::data {

Dataset make_moons(std::size_t points, double noise, std::uint64_t seed) {
    Random random(seed);
    const std::size_t outer = points / 2;
    Dataset d;
    d.features = array::from_shape({points, std::size_t{2}});
    d.labels = array::from_shape({points});
    d.feature_names = {"x", "y"};
    d.label_name = "moon";
    const std::vector<std::size_t> order = random.permutation(points);
    for (std::size_t i = 0; i < points; ++i) {
        const bool upper = i < outer;
        const std::size_t count = upper ? outer : points - outer;
        const std::size_t k = upper ? i : i - outer;
        const double t =
            count > 1 ? M_PI * static_cast<double>(k) / static_cast<double>(count - 1) : 0.0;
        const std::size_t row = order[i];
        d.features(row, 0) = (upper ? std::cos(t) : 1.0 - std::cos(t)) + random.normal(0.0, noise);
        d.features(row, 1) = (upper ? std::sin(t) : 0.5 - std::sin(t)) + random.normal(0.0, noise);
        d.labels(row) = upper ? 0.0 : 1.0;
    }
    return d;
}

}  // namespace xgrad::data
