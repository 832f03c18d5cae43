/***************************************************************************
 * xgrad: model files: every problem names the file and the field; numbers  *
 * that overflow, repeated names and keys are refused; predictions are      *
 * finite or refused naming the row; a model that could not be loaded is    *
 * never saved.                                                             *
 ***************************************************************************/
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "support.hpp"
#include "xgrad/models/model_file.hpp"

namespace xgrad {
namespace {

using models::model_file_error;
using models::parse_model;
using models::prediction_error;

const std::string good = R"({
  "format": "xgrad-model",
  "version": 1,
  "kind": "logistic",
  "features": ["a", "b"],
  "label": "y",
  "weights": [0.5, -0.25],
  "bias": 0.125,
  "standardization": null,
  "hyperparameters": {"optimizer": "lbfgs", "epochs": 200}
})";

/// @brief `good` with `from` replaced by `to` (which must occur).
std::string edited(const std::string& from, const std::string& to) {
    std::string text = good;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
}

/// @brief The message parse_model throws for `text`, read as "m.json".
std::string error_of(const std::string& text) {
    try {
        parse_model(text, "m.json");
    } catch (const model_file_error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(ModelFile, ReadsAGoodFile) {
    const models::ModelFile m = parse_model(good, "m.json");
    EXPECT_EQ(m.feature_names, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(m.weights, (array{0.5, -0.25}));
    EXPECT_EQ(m.bias, 0.125);
    EXPECT_EQ(m.hyperparameters.at("epochs"), "200");
    EXPECT_FALSE(m.standardizer.fitted());
}

TEST(ModelFile, JsonThatDoesNotParseIsPlacedByLineAndColumn) {
    EXPECT_EQ(error_of(good.substr(0, 60)),
              "m.json:4:16: not valid JSON (truncated or edited?): syntax error while parsing "
              "value - invalid string: missing closing quote; last read: '\"logi'");
    EXPECT_EQ(error_of(""), "m.json: empty file, expected an xgrad model (JSON)");
    EXPECT_EQ(error_of(" \n"), "m.json: empty file, expected an xgrad model (JSON)");
    EXPECT_EQ(error_of(edited("0.125", "NaN")),
              "m.json:8:11: not valid JSON (truncated or edited?): syntax error while parsing "
              "value - invalid literal; last read: '\"bias\": N'");
}

TEST(ModelFile, NumbersThatOverflowNameTheFieldAndPlace) {
    EXPECT_EQ(error_of(edited("-0.25", "1e400")),
              "m.json:7:20: field 'weights[1]': '1e400' is too large for a double (the largest "
              "is about 1.8e308)");
    EXPECT_EQ(error_of(edited("0.125", "-1.8e308")),
              "m.json:8:11: field 'bias': '-1.8e308' is too large for a double (the largest is "
              "about 1.8e308)");
    EXPECT_EQ(error_of(edited("0.125", std::string(400, '9'))),
              "m.json:8:11: field 'bias': '" + std::string(40, '9') +
                  "...' is too large for a double (the largest is about 1.8e308)");
    EXPECT_EQ(error_of(edited("null", R"({"mean": [0, 1e999], "scale": [1, 1]})")),
              "m.json:9:35: field 'standardization.mean[1]': '1e999' is too large for a double "
              "(the largest is about 1.8e308)");
    // The largest doubles themselves are numbers.
    EXPECT_EQ(parse_model(edited("0.125", "1.7976931348623157e308"), "m.json").bias,
              std::numeric_limits<double>::max());
}

TEST(ModelFile, MissingFieldsAndWrongTypesNameTheField) {
    const std::pair<std::string, std::string> cases[] = {
        {edited("\"format\": \"xgrad-model\",", ""),
         "m.json: not an xgrad model file (no \"format\": \"xgrad-model\")"},
        {edited("\"xgrad-model\"", "\"other\""),
         "m.json: not an xgrad model file (field 'format' must be 'xgrad-model', found a string "
         "'other')"},
        {edited("\"version\": 1", "\"version\": 3"),
         "m.json: field 'version' is 3: this build reads versions 1 and 2"},
        {edited("\"version\": 1", "\"version\": [1]"),
         "m.json: field 'version' must be a number, found a list"},
        {edited("\"logistic\"", "\"tree\\u0000\""),
         "m.json: field 'kind' must be 'logistic', 'linear', 'softmax', 'ovr' or 'mlp', found "
         "'tree\\x00'"},
        {edited("\"bias\": 0.125,", ""), "m.json: missing field 'bias'"},
        {edited("0.125", "\"0.125\""),
         "m.json: field 'bias' must be a number, found a string '0.125'"},
        {edited("0.125", "false"), "m.json: field 'bias' must be a number, found false"},
        {edited("[0.5, -0.25]", "{}"),
         "m.json: field 'weights' must be a list of numbers, found an object"},
        {edited("-0.25", "[1]"), "m.json: field 'weights[1]' must be a number, found a list"},
        {edited("-0.25", "null"), "m.json: field 'weights[1]' must be a number, found null"},
        {edited("[\"a\", \"b\"]", "\"a,b\""),
         "m.json: field 'features' must be a list of names, found a string 'a,b'"},
        {edited("\"b\"]", "7]"),
         "m.json: field 'features[1]' must be a name (a string), found an integer"},
        {edited("\"b\"]", "\"\"]"), "m.json: field 'features[1]' is an empty name"},
        {edited("[\"a\", \"b\"]", "[\"a\", \"a\"]"),
         "m.json: field 'features' repeats the name 'a' (features[0] and features[1])"},
        {edited("-0.25]", "-0.25, 1]"),
         "m.json: field 'weights' has 3 values but 'features' names 2"},
        {edited("\"standardization\": null,", ""), "m.json: missing field 'standardization'"},
        {edited("null", "[]"),
         "m.json: field 'standardization' must be null or an object with 'mean' and 'scale', "
         "found a list"},
        {edited("null", R"({"mean": [0, 0]})"), "m.json: missing field 'standardization.scale'"},
        {edited("null", R"({"mean": [0, 0], "scale": [1, 0]})"),
         "m.json: field 'standardization.scale[1]' must be positive, found 0"},
        {edited("null", R"({"mean": [0], "scale": [1]})"),
         "m.json: field 'standardization' must have one mean and one scale per feature (2), "
         "found 1 and 1"},
        {edited("{\"optimizer\": \"lbfgs\", \"epochs\": 200}", "[\"lbfgs\"]"),
         "m.json: field 'hyperparameters' must be an object, found a list"},
        {"[1, 2]", "m.json: expected a JSON object, found a list"},
    };
    for (const auto& [text, message] : cases) {
        SCOPED_TRACE(text);
        EXPECT_EQ(error_of(text), message);
    }
}

TEST(ModelFile, KeysGivenTwiceAndDeepNestingAreRefused) {
    EXPECT_EQ(error_of(edited("\"bias\": 0.125", "\"bias\": 0.125, \"bias\": 7")),
              "m.json: field 'bias' appears twice");
    EXPECT_EQ(error_of(edited("\"epochs\": 200", "\"epochs\": 200, \"epochs\": 1")),
              "m.json: field 'hyperparameters.epochs' appears twice");
    const std::string deep = std::string(10000, '[') + std::string(10000, ']');
    EXPECT_EQ(error_of(edited("200", deep)).rfind("m.json: field 'hyperparameters.epochs[0][0]", 0),
              0u);
    EXPECT_NE(error_of(edited("200", deep)).find("is nested more than 32 levels deep"),
              std::string::npos);
}

TEST(ModelFile, MessagesAreOneLineWhateverTheFileHolds) {
    std::string name_with_controls = "m\n.json";
    try {
        parse_model(std::string("{\"format\": \"xgrad-model\", \x01}"), name_with_controls);
        FAIL();
    } catch (const model_file_error& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        EXPECT_EQ(message.rfind("m\\n.json:1:27: not valid JSON", 0), 0u) << message;
    }
}

TEST(ModelFile, PredictionsAreFiniteOrRefusedNamingTheRow) {
    models::ModelFile m = parse_model(good, "m.json");
    m.weights = array{1.7e308, -1.7e308};  // the issue's model: inf − inf gave -nan
    m.bias = 1.7e308;
    EXPECT_EQ(m.predict(array{{0.0, 0.0}})(0), 1.0);  // a large but finite score
    try {
        m.predict(array{{0.0, 0.0}, {0.0, 0.5}, {1.0, 2.0}});
        FAIL();
    } catch (const prediction_error& e) {
        EXPECT_EQ(e.row, 2u);
        EXPECT_EQ(e.feature, static_cast<std::size_t>(-1));
        EXPECT_EQ(e.reason,
                  "the model's score w·x + b is nan: its weights times this row's features "
                  "overflow a double");
    }
    m.bias = 0.0;
    m.weights = array{1.7e308, 1.7e308};
    try {
        m.predict(array{{1.0, -1.0}, {-1.0, -1.0}});
        FAIL();
    } catch (const prediction_error& e) {
        EXPECT_EQ(e.row, 1u);
        EXPECT_NE(e.reason.find("is infinite"), std::string::npos);
    }
    m.weights = array{1.0, 1.0};
    m.standardizer = data::Standardizer(array{-1.7e308, 0.0}, array{1e-300, 1.0});
    try {
        m.predict(array{{-1.7e308, 0.0}, {1.0, 0.0}});
        FAIL();
    } catch (const prediction_error& e) {
        EXPECT_EQ(e.row, 1u);
        EXPECT_EQ(e.feature, 0u);
        EXPECT_EQ(std::string(e.what()).rfind("row 1: feature 'a' does not standardise", 0), 0u)
            << e.what();
    }
}

TEST(ModelFile, AModelThatCouldNotBeLoadedIsNotSaved) {
    models::ModelFile m = parse_model(good, "m.json");
    const std::string path = ::testing::TempDir() + "xgrad_unsaved_model.json";
    std::remove(path.c_str());
    m.weights(1) = NAN;
    XGRAD_EXPECT_THROW_WITH(models::save_model(path, m), model_file_error,
                            "xgrad_unsaved_model.json: cannot save the model: field 'weights[1]' "
                            "is not finite");
    m.weights(1) = 1.0;
    m.bias = INFINITY;
    XGRAD_EXPECT_THROW_WITH(models::save_model(path, m), model_file_error,
                            "field 'bias' is not finite");
    m.bias = 0.0;
    m.feature_names = {"a", "a"};
    XGRAD_EXPECT_THROW_WITH(models::save_model(path, m), model_file_error,
                            "field 'features' repeats the name 'a'");
    EXPECT_FALSE(std::ifstream(path).good());
    // Names with any bytes (from a CSV header) round-trip.
    m.feature_names = {std::string("a\0b", 3), "size, m² \xff"};
    models::save_model(path, m);
    const models::ModelFile loaded = models::load_model(path);
    EXPECT_EQ(loaded.feature_names[0], std::string("a\0b", 3));
    EXPECT_EQ(loaded.feature_names[1], "size, m² \xef\xbf\xbd");  // U+FFFD for the broken byte
    std::remove(path.c_str());
}

TEST(ModelFile, FileErrorsNameThePath) {
    XGRAD_EXPECT_THROW_WITH(models::load_model("/nonexistent/m.json"), model_file_error,
                            "/nonexistent/m.json: cannot open file: No such file or directory");
    XGRAD_EXPECT_THROW_WITH(models::load_model("/"), model_file_error,
                            "/: is a directory, not a file");
}

const std::string softmax = R"({
  "format": "xgrad-model",
  "version": 2,
  "kind": "softmax",
  "features": ["a", "b"],
  "label": "species",
  "classes": ["setosa", "versicolor", "virginica"],
  "weights": [[1.0, 0.0, -1.0], [0.5, 0.25, -0.75]],
  "bias": [0.1, 0.2, -0.3],
  "standardization": null,
  "hyperparameters": {}
})";

std::string softmax_edited(const std::string& from, const std::string& to) {
    std::string text = softmax;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
}

TEST(ModelFile, MulticlassModelsPredictSoftmaxAndOneVsRestProbabilities) {
    models::ModelFile m = parse_model(softmax, "m.json");
    EXPECT_TRUE(m.multiclass());
    EXPECT_EQ(m.class_names(), (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
    const array X{{1.0, 2.0}, {-3.0, 0.5}};
    const array z = m.decision_function(X);
    ASSERT_EQ(z.shape(), (std::vector<std::size_t>{2, 3}));
    EXPECT_DOUBLE_EQ(z(0, 0), 1.0 + 1.0 + 0.1);
    EXPECT_DOUBLE_EQ(z(1, 2), 3.0 - 0.375 - 0.3);
    const array p = m.predict_proba(X);
    for (std::size_t i = 0; i < 2; ++i) {
        double total = 0.0;
        for (std::size_t k = 0; k < 3; ++k) total += std::exp(z(i, k));
        for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(p(i, k), std::exp(z(i, k)) / total, 1e-15);
    }
    EXPECT_EQ(m.predict_classes(X), (array{0.0, 2.0}));
    m.kind = "ovr";
    const array q = m.predict_proba(X);
    for (std::size_t i = 0; i < 2; ++i) {
        double total = 0.0;
        for (std::size_t k = 0; k < 3; ++k) total += 1.0 / (1.0 + std::exp(-z(i, k)));
        for (std::size_t k = 0; k < 3; ++k)
            EXPECT_NEAR(q(i, k), 1.0 / (1.0 + std::exp(-z(i, k))) / total, 1e-15);
    }
}

TEST(ModelFile, MulticlassModelsRoundTripBitForBit) {
    models::ModelFile m = parse_model(softmax, "m.json");
    m.weights(1, 2) = 0.1 + 0.2;
    m.class_bias(0) = 1.0 / 3.0;
    m.standardizer = data::Standardizer(array{1.0, 2.0}, array{0.5, 3.0});
    const models::ModelFile back = parse_model(models::model_to_json(m, "m.json"), "m.json");
    EXPECT_EQ(back.kind, "softmax");
    EXPECT_EQ(back.classes, m.classes);
    EXPECT_EQ(back.weights, m.weights);
    EXPECT_EQ(back.class_bias, m.class_bias);
    EXPECT_EQ(back.standardizer.scale(), m.standardizer.scale());
    // A binary model with class names is written as version 2 and keeps them.
    models::ModelFile binary = parse_model(good, "m.json");
    EXPECT_EQ(binary.class_names(), (std::vector<std::string>{"0", "1"}));
    EXPECT_NE(models::model_to_json(binary, "m.json").find("\"version\": 1"), std::string::npos);
    binary.classes = {"no", "yes"};
    const std::string text = models::model_to_json(binary, "m.json");
    EXPECT_NE(text.find("\"version\": 2"), std::string::npos);
    EXPECT_EQ(parse_model(text, "m.json").classes, binary.classes);
    EXPECT_EQ(parse_model(text, "m.json").predict_classes(array{{10.0, 0.0}}), (array{1.0}));
}

TEST(ModelFile, MulticlassFieldsAreCheckedByName) {
    const std::pair<std::string, std::string> cases[] = {
        {softmax_edited("\"version\": 2", "\"version\": 1"),
         "m.json: field 'classes' is not part of version 1 files (a version 2 model has class "
         "names)"},
        {softmax_edited("\"classes\": [\"setosa\", \"versicolor\", \"virginica\"],", ""),
         "m.json: field 'classes' must name at least 2 classes for a softmax model, found 0"},
        {softmax_edited("\"virginica\"]", "\"setosa\"]"),
         "m.json: field 'classes' repeats the name 'setosa' (classes[0] and classes[2])"},
        {softmax_edited("\"versicolor\"", "\"\""), "m.json: field 'classes[1]' is an empty name"},
        {softmax_edited("\"versicolor\"", "7"),
         "m.json: field 'classes[1]' must be a name (a string), found an integer"},
        {softmax_edited("[0.5, 0.25, -0.75]", "[0.5, 0.25]"),
         "m.json: field 'weights[1]' has 2 values but 'classes' names 3"},
        {softmax_edited("[0.5, 0.25, -0.75]", "0.5"),
         "m.json: field 'weights[1]' must be a list of 3 numbers (one per class), found a number"},
        {softmax_edited(", [0.5, 0.25, -0.75]", ""),
         "m.json: field 'weights' has 1 rows but 'features' names 2"},
        {softmax_edited("[1.0, 0.0, -1.0]", "[1.0, null, -1.0]"),
         "m.json: field 'weights[0][1]' must be a number, found null"},
        {softmax_edited("[0.1, 0.2, -0.3]", "[0.1, 0.2]"),
         "m.json: field 'bias' has 2 values but 'classes' names 3"},
        {softmax_edited("[0.1, 0.2, -0.3]", "0.1"),
         "m.json: field 'bias' must be a list of numbers, found a number"},
        {softmax_edited("\"kind\": \"softmax\"", "\"kind\": \"linear\""),
         "m.json: field 'classes' must be absent for a linear model, found 3 names"},
    };
    for (const auto& [text, message] : cases) {
        SCOPED_TRACE(text);
        EXPECT_EQ(error_of(text), message);
    }
    models::ModelFile m = parse_model(softmax, "m.json");
    m.weights(0, 1) = std::numeric_limits<double>::infinity();
    XGRAD_EXPECT_THROW_WITH(models::model_to_json(m, "out.json"), model_file_error,
                            "out.json: cannot save the model: field 'weights[0][1]' is not finite");
}

/// @brief A column (rows, 1) of the values.
array column(std::vector<double> values) {
    array out = array::from_shape({values.size(), std::size_t{1}});
    for (std::size_t i = 0; i < values.size(); ++i) out(i, 0) = values[i];
    return out;
}

TEST(ModelFile, MlpModelsPredictAsTheirNetworkAndRoundTrip) {
    models::ModelFile m = parse_model(softmax, "m.json");
    m.kind = "mlp";
    m.activation = "tanh";
    m.layers = {{array{{1.0, -0.5}, {0.25, 2.0}}, array{0.1, -0.2}},
                {array{{1.0, 0.0, -1.0}, {0.5, 0.5, 0.5}}, array{0.0, 0.3, -0.3}}};
    const array X{{1.0, 2.0}, {-3.0, 0.5}};
    const array z = m.decision_function(X);
    for (std::size_t i = 0; i < 2; ++i) {
        double h[2];
        for (std::size_t u = 0; u < 2; ++u) {
            h[u] = std::tanh(m.layers[0].bias(u) + X(i, 0) * m.layers[0].weight(0, u) +
                             X(i, 1) * m.layers[0].weight(1, u));
        }
        for (std::size_t c = 0; c < 3; ++c) {
            EXPECT_NEAR(z(i, c),
                        m.layers[1].bias(c) + h[0] * m.layers[1].weight(0, c) +
                            h[1] * m.layers[1].weight(1, c),
                        1e-15);
        }
    }
    const array p = m.predict_proba(X);
    EXPECT_NEAR(p(0, 0) + p(0, 1) + p(0, 2), 1.0, 1e-15);
    const std::string text = models::model_to_json(m, "m.json");
    const models::ModelFile back = parse_model(text, "m.json");
    EXPECT_EQ(back.kind, "mlp");
    EXPECT_EQ(back.activation, "tanh");
    ASSERT_EQ(back.layers.size(), 2u);
    EXPECT_EQ(back.layers[1].weight, m.layers[1].weight);
    EXPECT_EQ(back.predict_proba(X), p);
    // Without classes an mlp is a regressor with one output.
    m.classes.clear();
    m.layers[1] = {column({1.0, -1.0}), array{0.5}};
    EXPECT_FALSE(m.classifier());
    EXPECT_EQ(parse_model(models::model_to_json(m, "m.json"), "m.json").predict(X).shape(),
              (std::vector<std::size_t>{2}));
    m.layers[1] = {array{{1.0, 2.0}, {-1.0, 0.0}}, array{0.5, 0.0}};
    XGRAD_EXPECT_THROW_WITH(models::model_to_json(m, "out.json"), model_file_error,
                            "out.json: cannot save the model: field 'layers' ends with 2 outputs "
                            "but the model needs 1 (a regressor)");
    m.layers[1] = {column({1.0, -1.0, 2.0}), array{0.5}};
    XGRAD_EXPECT_THROW_WITH(models::model_to_json(m, "out.json"), model_file_error,
                            "field 'layers[1].weights' has shape (3,1) but takes 2 inputs");
    m.layers[1] = {column({1.0, -1.0}), array{0.5}};
    m.activation = "swish";
    XGRAD_EXPECT_THROW_WITH(models::model_to_json(m, "out.json"), model_file_error,
                            "field 'activation' must be 'relu', 'leaky_relu', 'tanh' or "
                            "'sigmoid', found 'swish'");
}

}  // namespace
}  // namespace xgrad
