// libFuzzer target: the CSV reader on arbitrary bytes. It must return a consistent data set or
// throw csv_error with a one-line message that starts with the file's name; it must step over
// each byte a bounded number of times (no quadratic reading); sanitizers catch the rest.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "xgrad/data/csv.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_csv: %s: %s\n", what, detail.c_str());
    std::abort();
}

void check_message(const std::string& message) {
    if (message.rfind("fuzz.csv:", 0) != 0) fail("message does not start with the file", message);
    for (unsigned char c : message) {
        if (c < 0x20 || c == 0x7f) fail("control byte in a message", message);
    }
    if (message.size() > 2000) fail("message longer than 2000 bytes", message.substr(0, 200));
}

void check_dataset(const xgrad::data::Dataset& d, bool labelled) {
    const std::size_t rows = d.features.shape()[0];
    if (rows == 0) fail("a data set without rows", "");
    if (d.features.shape()[1] != d.feature_names.size()) fail("feature count", "");
    if (d.feature_columns.size() != d.feature_names.size()) fail("feature columns", "");
    if (d.row_lines.size() != rows) fail("row lines", "");
    if (labelled && (d.labels.size() != rows || d.label_column == 0)) fail("labels", "");
    std::set<std::string> names(d.feature_names.begin(), d.feature_names.end());
    if (names.size() != d.feature_names.size()) fail("repeated feature names", "");
    if (labelled && names.count(d.label_name) != 0) fail("label named like a feature", "");
    for (double v : d.features) {
        if (!std::isfinite(v)) fail("non-finite feature", "");
    }
    for (std::size_t i = 1; i < rows; ++i) {
        if (d.row_lines[i] <= d.row_lines[i - 1]) fail("row lines out of order", "");
    }
    for (std::size_t i = 0; i < rows; ++i) check_message(d.where(i, 1) + ":");
}

template <class Read>
void run(std::string_view text, bool labelled, Read read) {
    try {
        check_dataset(read(), labelled);
    } catch (const xgrad::data::csv_error& e) {
        check_message(e.what());
    }
    // One step per byte (the byte-order mark is skipped without steps).
    if (xgrad::data::last_parse_steps() > text.size() + 1) {
        fail("more steps than bytes",
             std::to_string(xgrad::data::last_parse_steps()) + " > " + std::to_string(text.size()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    run(text, true, [&] { return xgrad::data::parse_csv(text, "fuzz.csv"); });
    run(text, true, [&] { return xgrad::data::parse_csv(text, "fuzz.csv", "y", {"a", "b"}); });
    run(text, false, [&] { return xgrad::data::parse_features(text, "fuzz.csv", {"a"}); });
    return 0;
}
