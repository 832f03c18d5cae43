#!/usr/bin/env python3
"""Writes the malformed CSV and model files of tests/corpus/ (committed; rerun to regenerate).

Each file is one kind of fault; MANIFEST.tsv says how test_corpus runs it and the exact message
expected. The fuzzers (fuzz/) start from these files too.
"""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    path = os.path.join(here, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


GOOD_ROWS = "1,2,0\n2,1,1\n3,5,0\n4,3,1\n5,8,0\n6,4,1\n7,9,0\n8,6,1\n9,12,0\n10,7,1\n"

# --- CSV ------------------------------------------------------------------------------------
write("csv/good.csv", "a,b,y\n" + GOOD_ROWS)
write("csv/duplicate_feature.csv", "a,a,y\n" + GOOD_ROWS)
write("csv/duplicate_label.csv", "a,y,y\n" + GOOD_ROWS)
write("csv/duplicate_three.csv", "x,b,x,y,x\n" + "1,2,3,0,4\n2,3,4,1,5\n")
write("csv/semicolon.csv", "a;b;y\n1;2;0\n2;1;1\n")
write("csv/semicolon_decimal_comma.csv", "a;b;y\n1,5;2,0;0\n2,5;1,0;1\n")
write("csv/tab.csv", "a\tb\ty\n1\t2\t0\n2\t1\t1\n")
write("csv/comment_header.csv", "# breast cancer subset, from UCI\na,b,y\n" + GOOD_ROWS)
write("csv/comment_row.csv", "a,b,y\n1,2,0\n# the next rows were added later\n2,1,1\n")
write("csv/comment_row_commas.csv", "a,b,y\n1,2,0\n# note, two, commas\n2,1,1\n")
write("csv/bom_good.csv", b"\xef\xbb\xbf" + ("a,b,y\n" + GOOD_ROWS).encode())
write("csv/bom_bad_cell.csv", b"\xef\xbb\xbfa,b,y\n1,2,0\nx,1,1\n")
write("csv/nul_cell.csv", b"a,b,y\n1,2,0\n1\x002,1,1\n")
write("csv/nul_label_name.csv", b"a,b,y\x00\n1,2,0\n2,1,2\n")
write("csv/control_bytes.csv", b"a,b,y\n1,2,0\n\x1b[31mred\x1b[0m,1,1\n")
write("csv/huge_cell.csv", "a,b,y\n1,2,0\n" + "9x" * 50000 + ",1,1\n")
write("csv/huge_number.csv", "a,b,y\n1,2,0\n" + "1" * 100000 + ",1,1\n")
write("csv/unclosed_quote.csv", "a,b,y\n\"1,2,0\n" + GOOD_ROWS)
write("csv/text_after_quote.csv", "a,b,y\n\"1\"x,2,0\n")
write("csv/ragged_long.csv", "a,b,y\n1,2,0\n1,2,0,4\n")
write("csv/ragged_short.csv", "a,b,y\n1,2,0\n1,2\n")
write("csv/empty.csv", "")
write("csv/blank.csv", "\n  \n\t\r\n")
write("csv/bom_only.csv", b"\xef\xbb\xbf")
write("csv/header_only.csv", "a,b,y\n")
write("csv/one_column.csv", "a\n1\n2\n")
write("csv/empty_name.csv", "a,,y\n1,2,0\n2,1,1\n")
write("csv/trailing_comma.csv", "a,b,y,\n1,2,0,\n2,1,1,\n")
write("csv/empty_cell.csv", "a,b,y\n1,2,0\n,1,1\n")
write("csv/inf_cell.csv", "a,b,y\n1,2,0\ninf,1,1\n")
write("csv/minus_infinity_cell.csv", "a,b,y\n1,2,0\n2,-Infinity,1\n")
write("csv/nan_cell.csv", "a,b,y\n1,2,0\n2,1,nan\n")
write("csv/overflow_1e400.csv", "a,b,y\n1,2,0\n1e400,1,1\n")
write("csv/crlf_bad_cell.csv", "a,b,y\r\n1,2,0\r\n2,x\r\n".replace("2,x\r\n", "2,x,1\r\n"))
write("csv/invisible_label.csv", "a,b,y\u200b\n" + GOOD_ROWS)
write("csv/labels_not_binary.csv", "a,b,y\n1,2,0\n2,1,2\n3,5,1\n")
write("csv/one_class.csv", "a,b,y\n" + "".join(f"{i},{i % 3},1\n" for i in range(12)))
write("csv/rare_class.csv", "a,b,y\n" + "".join(f"{i},{i % 3},{int(i in (4, 9))}\n" for i in range(12)))
write("csv/huge_values.csv",
      "a,b,y\n" + "".join(f"{(-1) ** i * (i + 1)}e300,{i % 4},{i % 2}\n" for i in range(12)))
write("csv/multiline_label.csv", "a,note,y\n1,\"two\nlines\",0\n2,\"three\nmore\nlines\",5\n")

# --- model files ----------------------------------------------------------------------------
good = {
    "format": "xgrad-model",
    "version": 1,
    "kind": "logistic",
    "features": ["a", "b"],
    "label": "y",
    "weights": [0.5, -0.25],
    "bias": 0.125,
    "standardization": None,
    "hyperparameters": {"optimizer": "lbfgs"},
}


def model(name, change=None, text=None):
    if text is None:
        m = json.loads(json.dumps(good))
        change(m)
        text = json.dumps(m, indent=2) + "\n"
    write("model/" + name, text)


def drop(key):
    return lambda m: m.pop(key)


def put(key, value):
    return lambda m: m.__setitem__(key, value)


model("good.json", lambda m: None)
model("feature_a.json", lambda m: (m.__setitem__("features", ["a"]), m.__setitem__("weights", [0.5])))
full = json.dumps(good, indent=2) + "\n"
model("truncated.json", text=full[: len(full) // 2])
model("empty.json", text="")
model("not_an_object.json", text="[1, 2, 3]\n")
model("not_json.csv.json", text="a,b,y\n1,2,0\n")
model("no_format.json", drop("format"))
model("wrong_format.json", put("format", "other-model"))
model("version_3.json", put("version", 3))
model("version_string.json", put("version", "1"))
model("missing_weights.json", drop("weights"))
model("missing_bias.json", drop("bias"))
model("missing_features.json", drop("features"))
model("missing_standardization.json", drop("standardization"))
model("weights_string.json", put("weights", "0.5, -0.25"))
model("weight_not_number.json", put("weights", [0.5, "x"]))
model("weight_null.json", put("weights", [0.5, None]))
model("bias_string.json", put("bias", "0.1"))
model("bias_bool.json", put("bias", True))
model("features_number.json", put("features", 2))
model("feature_name_number.json", put("features", ["a", 2]))
model("duplicate_features.json", lambda m: (m.__setitem__("features", ["a", "a"])))
model("empty_feature_name.json", put("features", ["a", ""]))
model("no_features.json", lambda m: (m.__setitem__("features", []), m.__setitem__("weights", [])))
model("weights_count.json", put("weights", [0.5, -0.25, 1.0]))
model("unknown_kind.json", put("kind", "forest\u0007\n"))
model("overflow_weight.json", text=full.replace("-0.25", "1e400"))
model("overflow_bias.json", text=full.replace("0.125", "-2e308"))
model("overflow_integer.json", text=full.replace("0.125", "1" + "0" * 400))
model("nan_literal.json", text=full.replace("0.125", "NaN"))
model("huge_weights.json", lambda m: (m.__setitem__("weights", [1.7e308, -1.7e308]),
                                      m.__setitem__("bias", 1.7e308)))
model("standardization_string.json", put("standardization", "yes"))
model("scale_zero.json", put("standardization", {"mean": [0, 0], "scale": [1, 0]}))
model("scale_negative.json", put("standardization", {"mean": [0, 0], "scale": [-1, 1]}))
model("standardization_short.json", put("standardization", {"mean": [0], "scale": [1]}))
model("standardization_overflows.json",
      put("standardization", {"mean": [-1.7e308, 0], "scale": [1e-300, 1]}))
model("duplicate_key.json", text=full.replace('"bias": 0.125', '"bias": 0.125, "bias": 7'))
model("nul_byte.json", text=full.replace('"label": "y"', '"label": "y\x00"'))
model("escaped_nul_feature.json", put("features", ["a", "b\u0000"]))
model("deep_nesting.json",
      text=full.replace('"optimizer": "lbfgs"', '"deep": ' + "[" * 100 + "]" * 100))
model("trailing_garbage.json", text=full + "}\n")
model("hyperparameters_list.json", put("hyperparameters", ["lbfgs"]))

# Multiclass and column handling (issue 14).
write("csv/label_all_empty.csv", "a,b,y\n1,2,\n2,1,\n3,5,\n")
write("csv/text_feature.csv", "a,color,y\n1,red,0\n2,blue,1\n3,red,0\n4,blue,1\n5,red,0\n")
write("csv/na_cell.csv", "a,b,y\n1,2,0\n2,NA,1\n3,5,0\n4,3,1\n5,8,0\n")
write("csv/three_names.csv", "a,b,y\n" + "".join(
    f"{i},{(i * 7) % 5},{'cat' if i % 3 == 0 else 'dog' if i % 3 == 1 else 'emu'}\n"
    for i in range(15)))
write("csv/unseen_name.csv", "a,b,y\n1,2,cat\n2,1,yak\n")
model("three_classes.json", lambda m: (
    m.__setitem__("version", 2), m.__setitem__("kind", "softmax"),
    m.__setitem__("classes", ["cat", "dog", "emu"]),
    m.__setitem__("weights", [[0.5, 0.0, -0.5], [0.25, -0.25, 0.0]]),
    m.__setitem__("bias", [0.0, 0.1, -0.1])))
model("classes_repeated.json", lambda m: (
    m.__setitem__("version", 2), m.__setitem__("kind", "softmax"),
    m.__setitem__("classes", ["cat", "dog", "cat"]),
    m.__setitem__("weights", [[0.5, 0.0, -0.5], [0.25, -0.25, 0.0]]),
    m.__setitem__("bias", [0.0, 0.1, -0.1])))
model("softmax_version_1.json", lambda m: (
    m.__setitem__("kind", "softmax"),
    m.__setitem__("weights", [[0.5, 0.0], [0.25, -0.25]]),
    m.__setitem__("bias", [0.0, 0.1])))
