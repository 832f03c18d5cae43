// Predictions of a network without recording a graph: raw outputs and class labels.
#include "xgrad/nn/predict.hpp"

namespace xgrad::nn {

array predict_outputs(Module& net, const array& X) {
    no_grad scope;
    return net(constant(X)).value();
}

array predict_labels(Module& net, const array& X) {
    const array out = predict_outputs(net, X);
    const std::size_t rows = out.dimension() == 0 ? 1 : out.shape()[0];
    const std::size_t columns = out.dimension() == 2 ? out.shape()[1] : 1;
    array labels = array::from_shape({rows});
    for (std::size_t i = 0; i < rows; ++i) {
        const double* row = out.data() + i * columns;
        std::size_t best = 0;
        for (std::size_t k = 1; k < columns; ++k) best = row[k] > row[best] ? k : best;
        labels(i) = columns == 1 ? (row[0] > 0.0 ? 1.0 : 0.0) : static_cast<double>(best);
    }
    return labels;
}

}  // namespace xgrad::nn
