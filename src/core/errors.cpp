// format_shape.
#include "xgrad/core/errors.hpp"

namespace xgrad {

std::string format_shape(const shape_type& shape) {
    std::string text = "(";
    for (std::size_t k = 0; k < shape.size(); ++k) {
        if (k > 0) text += ",";
        text += std::to_string(shape[k]);
    }
    if (shape.size() == 1) text += ",";
    return text + ")";
}

}  // namespace xgrad
