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

void check_model(const xgrad::models::ModelFile& m) {
    const std::size_t n = m.feature_names.size();
    if (n == 0 || m.weights.size() != n) fail("sizes", "");
    if (std::set<std::string>(m.feature_names.begin(), m.feature_names.end()).size() != n)
        fail("repeated feature names", "");
    for (double w : m.weights) {
        if (!std::isfinite(w)) fail("non-finite weight", "");
    }
    if (!std::isfinite(m.bias)) fail("non-finite bias", "");
    // Predictions on a few rows: finite, or the row refused.
    for (const double v : {0.0, 1.0, -1e150, 3e100}) {
        xgrad::array row = xgrad::array::from_shape({std::size_t{1}, n});
        for (std::size_t j = 0; j < n; ++j) row(0, j) = j % 2 == 0 ? v : -v;
        try {
            const xgrad::array p = m.predict(row);
            if (!std::isfinite(p(0))) fail("non-finite prediction", "");
            if (m.kind == "logistic" && !(p(0) >= 0.0 && p(0) <= 1.0)) fail("probability", "");
        } catch (const xgrad::models::prediction_error& e) {
            if (e.row != 0) fail("prediction_error row", std::to_string(e.row));
        }
    }
    // What loads saves, and reloads to the same bits.
    const std::string text = xgrad::models::model_to_json(m, "again.json");
    const xgrad::models::ModelFile again = xgrad::models::parse_model(text, "again.json");
    if (again.feature_names != m.feature_names || again.kind != m.kind ||
        !same_bits(again.bias, m.bias))
        fail("round trip", "");
    for (std::size_t j = 0; j < n; ++j) {
        if (!same_bits(again.weights(j), m.weights(j))) fail("round trip of a weight", "");
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
