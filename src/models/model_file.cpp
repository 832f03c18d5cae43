/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/models/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "xgrad/data/io.hpp"
#include "xgrad/ops/reduce.hpp"

#include "data/json_text.hpp"

namespace xgrad::models {

using detail::type_of;

namespace {

using json = nlohmann::json;
constexpr const char* format_tag = "xgrad-model";
constexpr int format_version = 1;      ///< binary and linear models without class names
constexpr int multiclass_version = 2;  ///< class names, softmax and ovr
constexpr std::size_t max_depth = 32;  ///< a model file is three levels deep

json to_json(const array& a) {
    return json(std::vector<double>(a.begin(), a.end()));
}

/// @brief "'weights[3]'": a field's path, quoted.
std::string field_name(const std::string& path) {
    return quote_text(path, 60);
}

/// @brief line:column (from 1) of the byte at `offset` of `text`.
std::string line_and_column(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    return std::to_string(line) + ":" + std::to_string(offset - line_start + 1);
}

/// @brief Builds the document through nlohmann's SAX interface, to know which field a parse
/// error is in (a number that overflows a double), to refuse a key given twice (the plain parser
/// keeps the last) and to bound the nesting.
class Builder {
  public:
    using number_integer_t = json::number_integer_t;
    using number_unsigned_t = json::number_unsigned_t;
    using number_float_t = json::number_float_t;
    using string_t = json::string_t;
    using binary_t = json::binary_t;

    Builder(std::string_view text, const std::string& name) : text_(text), name_(name) {}

    bool null() { return place(nullptr) != nullptr; }
    bool boolean(bool v) { return place(v) != nullptr; }
    bool number_integer(number_integer_t v) { return place(v) != nullptr; }
    bool number_unsigned(number_unsigned_t v) { return place(v) != nullptr; }
    bool number_float(number_float_t v, const string_t&) { return place(v) != nullptr; }
    bool string(string_t& v) { return place(std::move(v)) != nullptr; }
    bool binary(binary_t&) { return false; }  // JSON text has none
    bool start_object(std::size_t) { return open(json::object()); }
    bool start_array(std::size_t) { return open(json::array()); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }

    bool key(string_t& k) {
        Level& top = levels_.back();
        if (top.node->contains(k)) {
            error_ = escaped(name_) + ": field " + field_name(slot_path(k)) + " appears twice";
            return false;
        }
        top.key = std::move(k);
        return true;
    }

    bool parse_error(std::size_t position, const std::string& token,
                     const nlohmann::detail::exception& e) {
        if (e.id == 406) {  // out_of_range: a number beyond ±1.8e308
            const std::size_t start = position >= token.size() ? position - token.size() : 0;
            const std::string path = levels_.empty() ? "" : slot_path(levels_.back().key);
            error_ = escaped(name_) + ":" + line_and_column(text_, start) + ": " +
                     (path.empty() ? "" : "field " + field_name(path) + ": ") + quote_text(token) +
                     " is too large for a double (the largest is about 1.8e308)";
            return false;
        }
        if (text_.find_first_not_of(" \t\r\n") == std::string_view::npos) {
            error_ = escaped(name_) + ": empty file, expected an xgrad model (JSON)";
            return false;
        }
        // nlohmann: "[json.exception.parse_error.101] parse error at line 3, column 5: syntax
        // error while parsing value - unexpected end of input; expected ..."
        std::string what = e.what();
        std::string where = escaped(name_);
        unsigned line = 0;
        unsigned column = 0;
        const auto at = what.find(" at line ");
        if (at != std::string::npos &&
            std::sscanf(what.c_str() + at, " at line %u, column %u", &line, &column) == 2) {
            where += ":" + std::to_string(line) + ":" + std::to_string(column);
        }
        const auto colon = what.find(": ", at == std::string::npos ? 0 : at);
        if (colon != std::string::npos) what = what.substr(colon + 2);
        error_ = where + ": not valid JSON (truncated or edited?): " + escaped(what, 160);
        return false;
    }

    json& document() { return root_; }
    const std::string& error() const { return error_; }

  private:
    struct Level {
        json* node;
        std::string path;  ///< of this container
        std::string key;   ///< the key of the value to come (objects)
    };

    /// @brief The path of the next value in the innermost container (`key` in an object).
    std::string slot_path(const std::string& key) const {
        const Level& top = levels_.back();
        if (top.node->is_array()) return top.path + "[" + std::to_string(top.node->size()) + "]";
        return top.path.empty() ? key : top.path + "." + key;
    }

    json* place(json&& value) {
        if (levels_.empty()) {
            root_ = std::move(value);
            return &root_;
        }
        Level& top = levels_.back();
        if (top.node->is_array()) {
            top.node->push_back(std::move(value));
            return &top.node->back();
        }
        json& slot = (*top.node)[top.key];
        slot = std::move(value);
        return &slot;
    }

    bool open(json&& container) {
        std::string path = levels_.empty() ? "" : slot_path(levels_.back().key);
        if (levels_.size() >= max_depth) {
            error_ = escaped(name_) + ": field " + field_name(path) + " is nested more than " +
                     std::to_string(max_depth) + " levels deep";
            return false;
        }
        json* node = place(std::move(container));
        levels_.push_back({node, std::move(path), {}});
        return true;
    }

    bool close() {
        levels_.pop_back();
        return true;
    }

    std::string_view text_;
    const std::string& name_;
    json root_;
    std::vector<Level> levels_;
    std::string error_;
};

/// @brief Reads fields, failing with a message that names the file and the field.
class Reader {
  public:
    explicit Reader(const std::string& name) : name_(name) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw model_file_error(escaped(name_) + ": " + what);
    }
    [[noreturn]] void fail(const std::string& field, const std::string& what) const {
        fail("field " + field_name(field) + " " + what);
    }

    /// @brief The member `key` of `object` (whose path is `prefix`), of the given kind.
    const json& field(const json& object, const std::string& prefix, const std::string& key,
                      bool (json::*is)() const noexcept, const char* kind) const {
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        if (!object.contains(key)) fail("missing field " + field_name(path));
        const json& value = object.at(key);
        if (!(value.*is)())
            fail(path, std::string("must be ") + kind + ", found " + type_of(value));
        return value;
    }

    std::string text(const json& object, const std::string& key) const {
        return field(object, "", key, &json::is_string, "a string").get<std::string>();
    }

    double number(const json& object, const std::string& prefix, const std::string& key) const {
        const json& value = field(object, prefix, key, &json::is_number, "a number");
        return value.get<double>();  // finite: the parser refuses numbers that overflow
    }

    array numbers(const json& object, const std::string& prefix, const std::string& key) const {
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        const json& list = field(object, prefix, key, &json::is_array, "a list of numbers");
        array out = array::from_shape({list.size()});
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string element = path + "[" + std::to_string(i) + "]";
            if (!list[i].is_number()) fail(element, "must be a number, found " + type_of(list[i]));
            out(i) = list[i].get<double>();
        }
        return out;
    }

    /// @brief A list of `rows` lists of `columns` numbers, as an array (rows, columns).
    array matrix(const json& object, const std::string& key, std::size_t rows,
                 std::size_t columns) const {
        return matrix(object, key, key, rows, columns);
    }

    /// @brief The same for the member `member` of `object`, whose path is `key`.
    array matrix(const json& object, const std::string& key, const std::string& member,
                 std::size_t rows, std::size_t columns) const {
        const std::string prefix = key.size() > member.size()
                                       ? key.substr(0, key.size() - member.size() - 1)
                                       : std::string();
        const json& list =
            field(object, prefix, member, &json::is_array, "a list of lists of numbers");
        if (list.size() != rows) {
            fail(key, "has " + std::to_string(list.size()) + " rows but 'features' names " +
                          std::to_string(rows));
        }
        array out = array::from_shape({rows, columns});
        for (std::size_t j = 0; j < rows; ++j) {
            const std::string row = key + "[" + std::to_string(j) + "]";
            if (!list[j].is_array()) {
                fail(row, "must be a list of " + std::to_string(columns) +
                              " numbers (one per class), found " + type_of(list[j]));
            }
            if (list[j].size() != columns) {
                fail(row, "has " + std::to_string(list[j].size()) + " values but " +
                              (key == member && key == "weights"
                                   ? "'classes' names " + std::to_string(columns)
                                   : "the first row has " + std::to_string(columns)));
            }
            for (std::size_t k = 0; k < columns; ++k) {
                const json& v = list[j][k];
                const std::string element = row + "[" + std::to_string(k) + "]";
                if (!v.is_number()) fail(element, "must be a number, found " + type_of(v));
                out(j, k) = v.get<double>();
            }
        }
        return out;
    }

  private:
    const std::string& name_;
};

/// @brief A list of `names`' entries as a JSON list of lists (rows of a matrix).
json matrix_to_json(const array& a) {
    json rows = json::array();
    for (std::size_t j = 0; j < a.shape()[0]; ++j) {
        std::vector<double> row(a.shape()[1]);
        for (std::size_t k = 0; k < row.size(); ++k) row[k] = a(j, k);
        rows.push_back(row);
    }
    return rows;
}

/// @brief The class names: none for "linear", exactly two for "logistic" (or none: "0", "1"),
/// at least two for softmax and ovr; distinct and not empty.
template <class Fail>
void check_classes(const ModelFile& model, Fail fail) {
    const std::size_t k = model.classes.size();
    if (model.kind == "linear" && k != 0)
        fail("classes", "must be absent for a linear model, found " + std::to_string(k) + " names");
    if (model.kind == "logistic" && k != 0 && k != 2) {
        fail("classes",
             "must name 2 classes for a logistic model, found " + std::to_string(k) + " names");
    }
    if (model.multiclass() && k < 2) {
        fail("classes", "must name at least 2 classes for a " + model.kind + " model, found " +
                            std::to_string(k));
    }
    std::unordered_map<std::string, std::size_t> seen;
    for (std::size_t c = 0; c < k; ++c) {
        const std::string& name = model.classes[c];
        if (name.empty()) fail("classes[" + std::to_string(c) + "]", "is an empty name");
        const auto [it, fresh] = seen.emplace(name, c);
        if (!fresh) {
            fail("classes", "repeats the name " + quote_text(name) + " (classes[" +
                                std::to_string(it->second) + "] and classes[" + std::to_string(c) +
                                "])");
        }
    }
}

/// @brief An mlp's layers chain from the features to its outputs (K classes, or 1), every
/// number finite, and its activation is known.
template <class Fail>
void check_layers(const ModelFile& model, Fail fail) {
    try {
        parse_activation(model.activation);
    } catch (const std::invalid_argument&) {
        fail("activation", "must be 'relu', 'leaky_relu', 'tanh' or 'sigmoid', found " +
                               quote_text(model.activation));
    }
    if (model.layers.empty()) fail("layers", "is empty: an mlp needs at least one layer");
    std::size_t in = model.feature_names.size();
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const std::string at = "layers[" + std::to_string(l) + "]";
        const array& w = model.layers[l].weight;
        const array& b = model.layers[l].bias;
        if (w.dimension() != 2 || w.shape()[0] != in) {
            fail(at + ".weights", "has shape " + format_shape(w.shape()) + " but takes " +
                                      std::to_string(in) + " inputs");
        }
        if (b.dimension() != 1 || b.size() != w.shape()[1]) {
            fail(at + ".bias", "has " + std::to_string(b.size()) + " values for " +
                                   std::to_string(w.shape()[1]) + " outputs");
        }
        for (std::size_t i = 0; i < w.size(); ++i) {
            if (!std::isfinite(w.data()[i])) fail(at + ".weights", "holds a non-finite value");
        }
        for (std::size_t i = 0; i < b.size(); ++i) {
            if (!std::isfinite(b.data()[i])) fail(at + ".bias", "holds a non-finite value");
        }
        in = w.shape()[1];
    }
    const std::size_t outputs = model.classes.empty() ? 1 : model.classes.size();
    if (in != outputs) {
        fail("layers", "ends with " + std::to_string(in) + " outputs but the model needs " +
                           std::to_string(outputs) +
                           (model.classes.empty() ? " (a regressor)" : " (one per class)"));
    }
}

/// @brief Everything a model must satisfy to be saved and loaded: `fail(field, what)`.
template <class Fail>
void check_model(const ModelFile& model, Fail fail) {
    if (model.kind != "logistic" && model.kind != "linear" && model.kind != "softmax" &&
        model.kind != "ovr" && model.kind != "mlp") {
        fail("kind", "must be 'logistic', 'linear', 'softmax', 'ovr' or 'mlp', found " +
                         quote_text(model.kind));
    }
    const std::size_t n = model.feature_names.size();
    if (n == 0) fail("features", "is empty: a model needs at least one feature");
    std::unordered_map<std::string, std::size_t> seen;
    for (std::size_t j = 0; j < n; ++j) {
        const std::string& name = model.feature_names[j];
        if (name.empty()) fail("features[" + std::to_string(j) + "]", "is an empty name");
        const auto [it, fresh] = seen.emplace(name, j);
        if (!fresh) {
            fail("features", "repeats the name " + quote_text(name) + " (features[" +
                                 std::to_string(it->second) + "] and features[" +
                                 std::to_string(j) + "])");
        }
    }
    check_classes(model, fail);
    if (model.kind == "mlp") {
        check_layers(model, fail);
    } else if (model.multiclass()) {
        const std::size_t k = model.classes.size();
        if (model.weights.dimension() != 2 || model.weights.shape()[0] != n ||
            model.weights.shape()[1] != k) {
            fail("weights", "has shape " + format_shape(model.weights.shape()) +
                                " but 'features' names " + std::to_string(n) + " and 'classes' " +
                                std::to_string(k));
        }
        if (model.class_bias.dimension() != 1 || model.class_bias.size() != k) {
            fail("bias", "has " + std::to_string(model.class_bias.size()) +
                             " values but 'classes' names " + std::to_string(k));
        }
        for (std::size_t j = 0; j < n; ++j) {
            for (std::size_t c = 0; c < k; ++c) {
                if (!std::isfinite(model.weights(j, c))) {
                    fail("weights[" + std::to_string(j) + "][" + std::to_string(c) + "]",
                         "is not finite");
                }
            }
        }
        for (std::size_t c = 0; c < k; ++c) {
            if (!std::isfinite(model.class_bias(c)))
                fail("bias[" + std::to_string(c) + "]", "is not finite");
        }
    } else {
        if (model.weights.dimension() != 1 || model.weights.size() != n) {
            fail("weights", "has " + std::to_string(model.weights.size()) +
                                " values but 'features' names " + std::to_string(n));
        }
        for (std::size_t j = 0; j < n; ++j) {
            if (!std::isfinite(model.weights(j)))
                fail("weights[" + std::to_string(j) + "]", "is not finite");
        }
        if (!std::isfinite(model.bias)) fail("bias", "is not finite");
    }
    if (model.columns) {
        const data::FittedColumns& c = *model.columns;
        if (c.feature_names != model.feature_names)
            fail("columns.features", "must be the model's 'features'");
        if (c.label != model.label_name) {
            fail("columns.label", "is " + quote_text(c.label) + " but the model's 'label' is " +
                                      quote_text(model.label_name));
        }
        const bool classification = c.task == data::Task::classification;
        if (classification != model.classifier()) {
            fail("columns.task", std::string("must be '") +
                                     (model.classifier() ? "classification" : "regression") +
                                     "' for a " + model.kind + " model");
        }
        if (classification && c.labels.classes() != model.class_names())
            fail("columns.label_encoder.classes", "must be the model's 'classes'");
    }
    if (model.standardizer.fitted()) {
        const array& mean = model.standardizer.mean();
        const array& scale = model.standardizer.scale();
        if (mean.size() != n) {
            fail("standardization.mean", "has " + std::to_string(mean.size()) +
                                             " values but 'features' names " + std::to_string(n));
        }
        if (scale.size() != n) {
            fail("standardization.scale", "has " + std::to_string(scale.size()) +
                                              " values but 'features' names " + std::to_string(n));
        }
        for (std::size_t j = 0; j < n; ++j) {
            const std::string index = "[" + std::to_string(j) + "]";
            if (!std::isfinite(mean(j))) fail("standardization.mean" + index, "is not finite");
            if (!(scale(j) > 0.0) || !std::isfinite(scale(j))) {
                char found[32];
                std::snprintf(found, sizeof found, "%.17g", scale(j));
                fail("standardization.scale" + index,
                     std::string("must be positive and finite, found ") + found);
            }
        }
    }
}

}  // namespace

data::FittedColumns ModelFile::fitted_columns() const {
    if (columns) return *columns;
    data::FittedColumns c;
    c.task = classifier() ? data::Task::classification : data::Task::regression;
    c.label = label_name;
    c.columns = feature_names;
    c.feature_names = feature_names;
    if (classifier()) c.labels = data::LabelEncoder::from_classes(class_names());
    return c;
}

std::vector<std::string> ModelFile::class_names() const {
    if (!classes.empty() || kind == "linear") return classes;
    return {"0", "1"};
}

void ModelFile::require_finite_features(const array& X, std::size_t i) const {
    for (std::size_t j = 0; j < X.shape()[1]; ++j) {
        if (!std::isfinite(X(i, j))) {
            throw prediction_error(
                i, j,
                "feature " + quote_text(feature_names.size() > j ? feature_names[j] : "") +
                    " does not standardise to a finite number with the model's mean and scale "
                    "(it overflows a double)");
        }
    }
}

array ModelFile::mlp_scores(const array& X) const {
    std::vector<std::size_t> hidden;
    for (std::size_t l = 0; l + 1 < layers.size(); ++l)
        hidden.push_back(layers[l].weight.shape()[1]);
    const nn::Activation act = parse_activation(activation);
    array z;
    if (classes.empty()) {
        MLPRegressor net(hidden, act);
        net.set_layers(layers);
        z = net.decision_function(X);
    } else {
        MLPClassifier net(hidden, act, classes.size());
        net.set_layers(layers);
        z = net.decision_function(X);
    }
    const std::size_t m = X.shape()[0];
    const std::size_t k = z.size() / std::max<std::size_t>(m, 1);
    for (std::size_t i = 0; i < m; ++i) {
        require_finite_features(X, i);
        for (std::size_t c = 0; c < k; ++c) {
            if (!std::isfinite(z.data()[i * k + c])) {
                throw prediction_error(i, static_cast<std::size_t>(-1),
                                       "the network's output is not finite: its weights times "
                                       "this row's features overflow a double");
            }
        }
    }
    return z;
}

array ModelFile::decision_function(const array& raw_features) const {
    const std::size_t n = kind == "mlp" ? layers.front().weight.shape()[0] : weights.shape()[0];
    if (raw_features.dimension() != 2 || raw_features.shape()[1] != n) {
        throw shape_error("model: expects features of shape (rows, " + std::to_string(n) +
                          "), got " + format_shape(raw_features.shape()));
    }
    const array X = standardizer.fitted() ? standardizer.transform(raw_features) : raw_features;
    const std::size_t m = X.shape()[0];
    if (kind == "mlp") return mlp_scores(X);
    const std::size_t k = multiclass() ? weights.shape()[1] : 1;
    array z = multiclass() ? array::from_shape({m, k}) : array::from_shape({m});
    for (std::size_t i = 0; i < m; ++i) {
        require_finite_features(X, i);
        for (std::size_t c = 0; c < k; ++c) {
            double total = multiclass() ? class_bias(c) : bias;
            for (std::size_t j = 0; j < n; ++j)
                total += X(i, j) * (multiclass() ? weights(j, c) : weights(j));
            if (!std::isfinite(total)) {
                throw prediction_error(
                    i, static_cast<std::size_t>(-1),
                    std::string("the model's score ") +
                        (multiclass() ? "x·w + b of class " + quote_text(classes[c]) + " is "
                                      : "w·x + b is ") +
                        (std::isnan(total) ? "nan" : "infinite") +
                        ": its weights times this row's features overflow a double");
            }
            z.data()[i * k + c] = total;
        }
    }
    return z;
}

namespace {

/// @brief 1 / (1 + e^−v) without overflow.
double sigmoid(double v) {
    const double e = std::exp(-std::abs(v));
    return v >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

}  // namespace

array ModelFile::predict(const array& raw_features) const {
    if (multiclass()) return predict_proba(raw_features);
    array z = decision_function(raw_features);
    if (kind == "logistic") {
        for (double& v : z) v = sigmoid(v);
    }
    return z;
}

array ModelFile::predict_proba(const array& raw_features) const {
    if (!classifier()) throw std::logic_error("ModelFile::predict_proba: a linear model");
    if (kind == "logistic") {
        const array p = predict(raw_features);
        array out = array::from_shape({p.size(), std::size_t{2}});
        for (std::size_t i = 0; i < p.size(); ++i) {
            out(i, 0) = 1.0 - p(i);
            out(i, 1) = p(i);
        }
        return out;
    }
    array z = decision_function(raw_features);
    const std::size_t k = z.shape()[1];
    for (std::size_t i = 0; i < z.shape()[0]; ++i) {
        double* row = z.data() + i * k;
        double total = 0.0;
        if (kind != "ovr") {  // softmax and mlp
            const double top = *std::max_element(row, row + k);
            for (std::size_t c = 0; c < k; ++c) total += (row[c] = std::exp(row[c] - top));
        } else {
            for (std::size_t c = 0; c < k; ++c) total += (row[c] = sigmoid(row[c]));
        }
        if (!(total > 0.0)) {  // ovr: every sigmoid underflowed; share alike
            for (std::size_t c = 0; c < k; ++c) row[c] = 1.0 / static_cast<double>(k);
            continue;
        }
        for (std::size_t c = 0; c < k; ++c) row[c] /= total;
    }
    return z;
}

array ModelFile::predict_classes(const array& raw_features) const {
    if (!classifier()) throw std::logic_error("ModelFile::predict_classes: a linear model");
    if (kind == "logistic") {
        array p = predict(raw_features);
        for (double& v : p) v = v >= 0.5 ? 1.0 : 0.0;
        return p;
    }
    return argmax(constant(predict_proba(raw_features)), 1);  // the first class on a tie
}

std::string model_to_json(const ModelFile& model, const std::string& path) {
    check_model(model, [&](const std::string& field, const std::string& what) {
        throw model_file_error(escaped(path) + ": cannot save the model: field " +
                               field_name(field) + " " + what);
    });
    const bool version_2 =
        model.multiclass() || !model.classes.empty() || model.columns || model.kind == "mlp";
    json document = {
        {"format", format_tag},      {"version", version_2 ? multiclass_version : format_version},
        {"kind", model.kind},        {"features", model.feature_names},
        {"label", model.label_name}, {"hyperparameters", model.hyperparameters},
    };
    if (model.kind == "mlp") {
        json layers = json::array();
        for (const auto& layer : model.layers)
            layers.push_back(
                {{"weights", matrix_to_json(layer.weight)}, {"bias", to_json(layer.bias)}});
        document["layers"] = layers;
        document["activation"] = model.activation;
    } else {
        document["weights"] =
            model.multiclass() ? matrix_to_json(model.weights) : to_json(model.weights);
        document["bias"] = model.multiclass() ? to_json(model.class_bias) : json(model.bias);
    }
    if (!model.classes.empty()) document["classes"] = model.classes;
    if (model.columns) document["columns"] = *model.columns;
    document["standardization"] = model.standardizer.fitted()
                                      ? json{{"mean", to_json(model.standardizer.mean())},
                                             {"scale", to_json(model.standardizer.scale())}}
                                      : json(nullptr);
    // Names are bytes from a CSV file: keep invalid UTF-8 rather than throw.
    return document.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void save_model(const std::string& path, const ModelFile& model) {
    write_file_atomically(path, model_to_json(model, path));
}

ModelFile parse_model(std::string_view text, const std::string& name) {
    Builder builder(text, name);
    if (!json::sax_parse(text.begin(), text.end(), &builder)) {
        throw model_file_error(builder.error().empty() ? escaped(name) + ": not valid JSON"
                                                       : builder.error());
    }
    const json& document = builder.document();
    const Reader r(name);
    if (!document.is_object()) r.fail("expected a JSON object, found " + type_of(document));
    if (!document.contains("format")) {
        r.fail(std::string("not an xgrad model file (no \"format\": \"") + format_tag + "\")");
    }
    if (document["format"] != format_tag) {
        r.fail(std::string("not an xgrad model file (field 'format' must be '") + format_tag +
               "', found " + type_of(document["format"]) + ")");
    }
    const double version = r.number(document, "", "version");
    if (version != format_version && version != multiclass_version) {
        char found[32];
        std::snprintf(found, sizeof found, "%.17g", version);
        r.fail("version", std::string("is ") + found + ": this build reads versions " +
                              std::to_string(format_version) + " and " +
                              std::to_string(multiclass_version));
    }
    ModelFile model;
    model.kind = r.text(document, "kind");
    const json& features = r.field(document, "", "features", &json::is_array, "a list of names");
    for (std::size_t j = 0; j < features.size(); ++j) {
        if (!features[j].is_string()) {
            r.fail("features[" + std::to_string(j) + "]",
                   "must be a name (a string), found " + type_of(features[j]));
        }
        model.feature_names.push_back(features[j].get<std::string>());
    }
    model.label_name = r.text(document, "label");
    if (document.contains("classes")) {
        if (version == format_version) {
            r.fail("classes", "is not part of version 1 files (a version 2 model has class names)");
        }
        const json& classes =
            r.field(document, "", "classes", &json::is_array, "a list of class names");
        for (std::size_t c = 0; c < classes.size(); ++c) {
            if (!classes[c].is_string()) {
                r.fail("classes[" + std::to_string(c) + "]",
                       "must be a name (a string), found " + type_of(classes[c]));
            }
            model.classes.push_back(classes[c].get<std::string>());
        }
    }
    check_classes(model, [&](const std::string& f, const std::string& w) { r.fail(f, w); });
    if (model.kind == "mlp") {
        if (version == format_version) r.fail("kind", "is 'mlp', which needs a version 2 file");
        model.activation = r.text(document, "activation");
        const json& layers = r.field(document, "", "layers", &json::is_array, "a list of layers");
        for (std::size_t l = 0; l < layers.size(); ++l) {
            const std::string at = "layers[" + std::to_string(l) + "]";
            if (!layers[l].is_object()) {
                r.fail(at,
                       "must be an object with 'weights' and 'bias', found " + type_of(layers[l]));
            }
            const json& list =
                r.field(layers[l], at, "weights", &json::is_array, "a list of lists of numbers");
            const std::size_t rows = list.size();
            const std::size_t columns = rows > 0 && list[0].is_array() ? list[0].size() : 0;
            LayerParameters layer;
            layer.weight = r.matrix(layers[l], at + ".weights", "weights", rows, columns);
            layer.bias = r.numbers(layers[l], at, "bias");
            model.layers.push_back(std::move(layer));
        }
    } else if (model.multiclass()) {
        if (version == format_version)
            r.fail("kind", "is " + quote_text(model.kind) + ", which needs a version 2 file");
        model.weights =
            r.matrix(document, "weights", model.feature_names.size(), model.classes.size());
        model.class_bias = r.numbers(document, "", "bias");
        if (model.class_bias.size() != model.classes.size()) {
            r.fail("bias", "has " + std::to_string(model.class_bias.size()) +
                               " values but 'classes' names " +
                               std::to_string(model.classes.size()));
        }
    } else {
        model.weights = r.numbers(document, "", "weights");
        if (model.weights.size() != model.feature_names.size()) {
            r.fail("weights", "has " + std::to_string(model.weights.size()) +
                                  " values but 'features' names " +
                                  std::to_string(model.feature_names.size()));
        }
        model.bias = r.number(document, "", "bias");
    }
    if (!document.contains("standardization")) r.fail("missing field 'standardization'");
    const json& standardization = document["standardization"];
    if (!standardization.is_null()) {
        if (!standardization.is_object()) {
            r.fail("standardization", "must be null or an object with 'mean' and 'scale', found " +
                                          type_of(standardization));
        }
        const array mean = r.numbers(standardization, "standardization", "mean");
        const array scale = r.numbers(standardization, "standardization", "scale");
        // Checked by check_model below (before the Standardizer's own checks, which name no
        // field): one length first.
        const std::size_t n = model.feature_names.size();
        if (mean.size() != scale.size() || mean.size() != n) {
            r.fail("standardization", "must have one mean and one scale per feature (" +
                                          std::to_string(n) + "), found " +
                                          std::to_string(mean.size()) + " and " +
                                          std::to_string(scale.size()));
        }
        for (std::size_t j = 0; j < scale.size(); ++j) {
            if (!(scale(j) > 0.0)) {
                char found[32];
                std::snprintf(found, sizeof found, "%.17g", scale(j));
                r.fail("standardization.scale[" + std::to_string(j) + "]",
                       std::string("must be positive, found ") + found);
            }
        }
        model.standardizer = data::Standardizer(mean, scale);
    }
    const json& hyper = r.field(document, "", "hyperparameters", &json::is_object, "an object");
    for (const auto& [key, value] : hyper.items()) {
        model.hyperparameters[key] =
            value.is_string() ? value.get<std::string>()
                              : value.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    if (document.contains("columns")) {
        if (version == format_version)
            r.fail("columns", "is not part of version 1 files (a version 2 model has columns)");
        data::FittedColumns columns;
        try {
            data::from_json(document["columns"], columns, "columns");
        } catch (const data::column_error& e) {
            r.fail(e.what());
        }
        model.columns = std::move(columns);
    }
    check_model(model,
                [&](const std::string& field, const std::string& what) { r.fail(field, what); });
    return model;
}

ModelFile load_model(const std::string& path) {
    std::string text;
    std::string error;
    if (!read_whole_file(path, text, error)) throw model_file_error(escaped(path) + ": " + error);
    return parse_model(text, path);
}

}  // namespace xgrad::models
