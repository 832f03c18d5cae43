/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/models/model_file.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "xgrad/io.hpp"

namespace xgrad::models {

namespace {

using json = nlohmann::json;
constexpr const char* format_tag = "xgrad-model";
constexpr int format_version = 1;

json to_json(const array& a) {
    return json(std::vector<double>(a.begin(), a.end()));
}

/// @brief Reads one field, failing with a message that names the file and the field.
class Reader {
  public:
    Reader(const std::string& path, const json& document) : path_(path), document_(document) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw model_file_error(path_ + ": " + what);
    }

    const json& field(const json& object, const std::string& key, json::value_t type,
                      const char* type_name) const {
        if (!object.is_object() || !object.contains(key)) fail("missing field '" + key + "'");
        const json& value = object.at(key);
        const bool number_ok = type == json::value_t::number_float && value.is_number();
        if (value.type() != type && !number_ok) {
            fail("field '" + key + "' must be " + type_name + ", found " + value.type_name());
        }
        return value;
    }

    std::string text(const json& object, const std::string& key) const {
        return field(object, key, json::value_t::string, "a string").get<std::string>();
    }

    double number(const json& object, const std::string& key) const {
        const double v = field(object, key, json::value_t::number_float, "a number").get<double>();
        if (!std::isfinite(v)) fail("field '" + key + "' is not finite");
        return v;
    }

    array numbers(const json& object, const std::string& key) const {
        const json& list = field(object, key, json::value_t::array, "a list of numbers");
        array out = array::from_shape({list.size()});
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (!list[i].is_number())
                fail("field '" + key + "' holds a non-number at " + std::to_string(i));
            out(i) = list[i].get<double>();
            if (!std::isfinite(out(i))) fail("field '" + key + "' holds a non-finite number");
        }
        return out;
    }

    const json& document() const { return document_; }

  private:
    std::string path_;
    const json& document_;
};

}  // namespace

array ModelFile::decision_function(const array& raw_features) const {
    if (raw_features.dimension() != 2 || raw_features.shape()[1] != weights.size()) {
        throw shape_error("model: expects features of shape (rows, " +
                          std::to_string(weights.size()) + "), got " +
                          format_shape(raw_features.shape()));
    }
    const array X = standardizer.fitted() ? standardizer.transform(raw_features) : raw_features;
    array z = array::from_shape({X.shape()[0]});
    for (std::size_t i = 0; i < X.shape()[0]; ++i) {
        double total = bias;
        for (std::size_t j = 0; j < weights.size(); ++j) total += X(i, j) * weights(j);
        z(i) = total;
    }
    return z;
}

array ModelFile::predict(const array& raw_features) const {
    array z = decision_function(raw_features);
    if (kind == "logistic") {
        for (double& v : z) {
            const double e = std::exp(-std::abs(v));
            v = v >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        }
    }
    return z;
}

void save_model(const std::string& path, const ModelFile& model) {
    json document = {
        {"format", format_tag},      {"version", format_version},
        {"kind", model.kind},        {"features", model.feature_names},
        {"label", model.label_name}, {"weights", to_json(model.weights)},
        {"bias", model.bias},        {"hyperparameters", model.hyperparameters},
    };
    document["standardization"] = model.standardizer.fitted()
                                      ? json{{"mean", to_json(model.standardizer.mean())},
                                             {"scale", to_json(model.standardizer.scale())}}
                                      : json(nullptr);
    write_file_atomically(path, document.dump(2) + "\n");
}

ModelFile load_model(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw model_file_error(path + ": cannot open file");
    std::stringstream text;
    text << in.rdbuf();
    json document;
    try {
        document = json::parse(text.str());
    } catch (const json::parse_error& e) {
        throw model_file_error(path + ": not valid JSON (truncated or edited?): " + e.what());
    }
    const Reader r(path, document);
    if (!document.is_object()) r.fail("expected a JSON object");
    if (!document.contains("format") || document["format"] != format_tag) {
        r.fail(std::string("not an xgrad model file (no \"format\": \"") + format_tag + "\")");
    }
    if (r.number(document, "version") != format_version) {
        r.fail("unsupported version " + document["version"].dump() + " (this build reads " +
               std::to_string(format_version) + ")");
    }
    ModelFile model;
    model.kind = r.text(document, "kind");
    if (model.kind != "logistic" && model.kind != "linear") {
        r.fail("unknown kind '" + model.kind + "' (logistic or linear)");
    }
    const json& features = r.field(document, "features", json::value_t::array, "a list of names");
    for (const json& name : features) {
        if (!name.is_string()) r.fail("field 'features' must hold names (strings)");
        model.feature_names.push_back(name.get<std::string>());
    }
    model.label_name = r.text(document, "label");
    model.weights = r.numbers(document, "weights");
    model.bias = r.number(document, "bias");
    if (model.weights.size() != model.feature_names.size()) {
        r.fail("'weights' has " + std::to_string(model.weights.size()) +
               " values but 'features' names " + std::to_string(model.feature_names.size()));
    }
    if (!document.contains("standardization")) r.fail("missing field 'standardization'");
    const json& standardization = document["standardization"];
    if (!standardization.is_null()) {
        const array mean = r.numbers(standardization, "mean");
        const array scale = r.numbers(standardization, "scale");
        if (mean.size() != model.weights.size() || scale.size() != model.weights.size()) {
            r.fail("'standardization' must have one mean and one scale per feature");
        }
        try {
            model.standardizer = data::Standardizer(mean, scale);
        } catch (const std::exception& e) {
            r.fail(std::string("'standardization': ") + e.what());
        }
    }
    const json& hyper = r.field(document, "hyperparameters", json::value_t::object, "an object");
    for (const auto& [key, value] : hyper.items()) {
        model.hyperparameters[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    return model;
}

}  // namespace xgrad::models
