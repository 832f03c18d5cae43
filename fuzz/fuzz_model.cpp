// libFuzzer target: the model-file loader on arbitrary bytes. It must return a model that
// predicts finite values (or refuses a row with prediction_error) and saves and reloads bit for
// bit, or throw model_file_error with a one-line message that starts with the file's name.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "xgrad/models/model_file.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_model: %s: %s\n", what, detail.c_str());
    std::abort();
}

void check_message(const std::string& message, const char* name) {
    if (message.rfind(name, 0) != 0) fail("message does not start with the file", message);
    for (unsigned char c : message) {
        if (c < 0x20 || c == 0x7f) fail("control byte in a message", message);
    }
    if (message.size() > 2000) fail("message longer than 2000 bytes", message.substr(0, 200));
}

bool same_bits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

bool all_finite(const xgrad::array& a) {
    for (double v : a) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

/// @brief Two arrays of the same shape and the same bits.
bool same_array(const xgrad::array& a, const xgrad::array& b) {
    if (a.shape() != b.shape()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!same_bits(a.data()[i], b.data()[i])) return false;
    }
    return true;
}

/// @brief The parameters each kind must have, all finite: weights (n,) and a bias (logistic,
/// linear); weights (n, K) and class_bias (K,) (softmax, ovr); layers from n inputs (mlp).
void check_parameters(const xgrad::models::ModelFile& m, std::size_t n) {
    if (m.kind == "mlp") {
        if (m.layers.empty()) fail("an mlp without layers", "");
        std::size_t inputs = n;
        for (const auto& layer : m.layers) {
            if (layer.weight.dimension() != 2 || layer.weight.shape()[0] != inputs)
                fail("layer sizes", "");
            inputs = layer.weight.shape()[1];
            if (layer.bias.size() != inputs) fail("layer bias size", "");
            if (!all_finite(layer.weight) || !all_finite(layer.bias))
                fail("non-finite layer parameter", "");
        }
        return;
    }
    if (m.multiclass()) {
        if (m.weights.dimension() != 2 || m.weights.shape()[0] != n ||
            m.class_bias.size() != m.weights.shape()[1] || m.classes.size() != m.class_bias.size())
            fail("multiclass sizes", "");
        if (!all_finite(m.weights) || !all_finite(m.class_bias)) fail("non-finite parameter", "");
        return;
    }
    if (m.weights.size() != n) fail("sizes", "");
    if (!all_finite(m.weights)) fail("non-finite weight", "");
    if (!std::isfinite(m.bias)) fail("non-finite bias", "");
}

void check_model(const xgrad::models::ModelFile& m) {
    // feature_names are the model's inputs (after any one-hot encoding), which predict takes.
    const std::size_t raw = m.feature_names.size();
    if (raw == 0) fail("no features", "");
    if (std::set<std::string>(m.feature_names.begin(), m.feature_names.end()).size() != raw)
        fail("repeated feature names", "");
    check_parameters(m, raw);
    // Predictions on a few rows: finite, probabilities in [0, 1] summing to 1, or the row
    // refused.
    for (const double v : {0.0, 1.0, -1e150, 3e100}) {
        xgrad::array row = xgrad::array::from_shape({std::size_t{1}, raw});
        for (std::size_t j = 0; j < raw; ++j) row(0, j) = j % 2 == 0 ? v : -v;
        try {
            const xgrad::array p = m.predict(row);
            if (!all_finite(p)) fail("non-finite prediction", "");
            if (m.kind == "logistic" && !(p(0) >= 0.0 && p(0) <= 1.0)) fail("probability", "");
            if (m.classifier()) {
                const xgrad::array q = m.predict_proba(row);
                double total = 0.0;
                for (double x : q) {
                    if (!(x >= 0.0 && x <= 1.0)) fail("probability", "");
                    total += x;
                }
                if (std::abs(total - 1.0) > 1e-9) fail("probabilities do not sum to 1", "");
            }
        } catch (const xgrad::models::prediction_error& e) {
            if (e.row != 0) fail("prediction_error row", std::to_string(e.row));
        }
    }
    // What loads saves, and reloads to the same bits.
    const std::string text = xgrad::models::model_to_json(m, "again.json");
    const xgrad::models::ModelFile again = xgrad::models::parse_model(text, "again.json");
    if (again.feature_names != m.feature_names || again.kind != m.kind ||
        again.classes != m.classes || !same_bits(again.bias, m.bias) ||
        !same_array(again.weights, m.weights) || !same_array(again.class_bias, m.class_bias) ||
        again.layers.size() != m.layers.size())
        fail("round trip", "");
    for (std::size_t k = 0; k < m.layers.size(); ++k) {
        if (!same_array(again.layers[k].weight, m.layers[k].weight) ||
            !same_array(again.layers[k].bias, m.layers[k].bias))
            fail("round trip of a layer", "");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        check_model(xgrad::models::parse_model(text, "fuzz.json"));
    } catch (const xgrad::models::model_file_error& e) {
        check_message(e.what(), "fuzz.json");
    }
    return 0;
}
