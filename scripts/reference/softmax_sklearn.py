#!/usr/bin/python3
"""Reference solutions for multiclass logistic regression on the bundled iris and wine data.

1. Writes data/wine.csv from scikit-learn's bundled load_wine (178 rows, 13 features, label
   column `cultivar` 0/1/2; the feature `od280/od315_of_diluted_wines` is renamed
   `od280_od315_of_diluted_wines` so that every name is a plain identifier).
2. Standardises every feature of data/iris.csv (all four) and data/wine.csv (mean 0, population
   standard deviation 1, as xgrad::data::Standardizer and sklearn's StandardScaler), fits
   LogisticRegression(C=1, multi_class="multinomial", solver="lbfgs", tol=1e-12, max_iter=10000)
   on each and writes coefficients (features × classes), intercepts and objective; and the same
   with solver="newton-cg", tol=1e-8, whose solution is closer to the optimum (lbfgs stops on
   scipy's ftol = 64ε with ‖∇‖ ≈ 2e-6, its coefficients ~5e-5 from newton-cg's).
3. Fits OneVsRestClassifier(LogisticRegression(C=1, tol=1e-12, max_iter=10000)) on standardised
   iris and writes its normalised probabilities for a few rows and its training accuracy.

sklearn's multinomial objective is Σᵢ CEᵢ + ½‖W‖²/C over the K classes' softmax (intercepts not
penalised). xgrad's is (1/m)·Σᵢ CEᵢ + (λ/2m)·‖W‖² with λ = 1/C: the same minimiser; the objective
written out is xgrad's (sklearn's divided by m). Both parametrise all K classes, and the L2 term
makes the solution unique, so the coefficients compare directly (xgrad's W is sklearn's coef_
transposed).

Run with Debian's interpreter: /usr/bin/python3 scripts/reference/softmax_sklearn.py
"""
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_wine_csv():
    wine = load_wine()
    names = [n.replace("/", "_") for n in wine.feature_names]
    lines = [",".join(names + ["cultivar"])]
    for row, label in zip(wine.data, wine.target):
        lines.append(",".join([repr(float(v)) for v in row] + [str(int(label))]))
    path = os.path.join(root, "data", "wine.csv")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def read(name):
    data = np.genfromtxt(os.path.join(root, "data", name), delimiter=",", skip_header=1)
    X, y = data[:, :-1], data[:, -1].astype(int)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def log_softmax(Z):
    Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))


def objective_and_gradient(X, y, W, b):
    """xgrad's objective (1/m)·Σ CE + (1/2m)·‖W‖² and the norm of its gradient."""
    m = X.shape[0]
    L = log_softmax(X @ W + b)
    objective = -np.mean(L[np.arange(m), y]) + 0.5 * np.sum(W * W) / m
    R = np.exp(L)
    R[np.arange(m), y] -= 1.0
    gradient = np.concatenate([(X.T @ R / m + W / m).ravel(), R.mean(axis=0)])
    return objective, np.linalg.norm(gradient)


def multinomial(name):
    """sklearn's lbfgs solution (as asked), and newton-cg's: lbfgs stops on scipy's ftol = 64ε
    (‖∇‖ ≈ 2e-6 here, coefficients ~5e-5 from the optimum), newton-cg gets ‖∇‖ < 1e-9."""
    X, y = read(name)
    fits = {}
    for solver, tol in (("lbfgs", 1e-12), ("newton-cg", 1e-8)):
        with warnings.catch_warnings():  # newton-cg's last line search on wine fails at ‖∇‖ ~ 3e-10
            warnings.simplefilter("ignore")
            model = LogisticRegression(C=1.0, multi_class="multinomial", solver=solver, tol=tol,
                                       max_iter=10000).fit(X, y)
        W, b = model.coef_.T, model.intercept_  # (n, K), (K,)
        fits[solver] = (W, b) + objective_and_gradient(X, y, W, b)
        print(f"{name}: sklearn {sklearn.__version__} {solver} objective {fits[solver][2]:.17g}, "
              f"|gradient| {fits[solver][3]:.3e}, iterations {model.n_iter_[0]}", file=sys.stderr)
    return fits, X.shape[0]


def numbers(values, indent="    "):
    return (",\n" + indent).join(f"{v:.17g}" for v in values)


def section(namespace, name, fits, m):
    W, b, objective, gradient_norm = fits["lbfgs"]
    W2, b2, objective2, gradient_norm2 = fits["newton-cg"]
    distance = np.linalg.norm(np.concatenate([(W - W2).ravel(), b - b2])) / np.linalg.norm(
        np.concatenate([W2.ravel(), b2]))
    return f"""namespace {namespace} {{

/// W (features × classes), row-major: sklearn's coef_ transposed. solver="lbfgs", tol=1e-12.
constexpr std::size_t features = {W.shape[0]};
constexpr std::size_t classes = {W.shape[1]};
constexpr double weights[] = {{
    {numbers(W.ravel())}}};
constexpr double intercepts[] = {{
    {numbers(b)}}};
/// (1/m)·Σ cross-entropy + (1/2m)·‖W‖² at the solution, m = {m} ({name}).
constexpr double objective = {objective:.17g};
/// ‖∇objective‖₂ at the lbfgs solution (scipy stops it on ftol = 64ε).
constexpr double gradient_norm = {gradient_norm:.3e};

/// The same problem by solver="newton-cg", tol=1e-8: closer to the optimum.
constexpr double newton_cg_weights[] = {{
    {numbers(W2.ravel())}}};
constexpr double newton_cg_intercepts[] = {{
    {numbers(b2)}}};
constexpr double newton_cg_objective = {objective2:.17g};
constexpr double newton_cg_gradient_norm = {gradient_norm2:.3e};
/// ‖(W, b)_lbfgs − (W, b)_newton-cg‖₂ / ‖(W, b)_newton-cg‖₂.
constexpr double lbfgs_distance = {distance:.3e};

}}  // namespace {namespace}
"""


def one_vs_rest():
    X, y = read("iris.csv")
    model = OneVsRestClassifier(LogisticRegression(C=1.0, tol=1e-12, max_iter=10000)).fit(X, y)
    rows = [0, 50, 77, 100, 133, 149]
    P = model.predict_proba(X[rows])
    accuracy = np.mean(model.predict(X) == y)
    return f"""namespace iris_one_vs_rest {{

/// OneVsRestClassifier(LogisticRegression(C=1, tol=1e-12)): each class's P(class | x) from its
/// binary model, normalised to sum to 1 per row.
constexpr std::size_t rows[] = {{{", ".join(str(r) for r in rows)}}};
constexpr double probabilities[] = {{
    {numbers(P.ravel())}}};
/// Training accuracy of predict() (the argmax).
constexpr double accuracy = {accuracy:.17g};

}}  // namespace iris_one_vs_rest
"""


write_wine_csv()
body = (section("iris", "data/iris.csv, all four features", *multinomial("iris.csv")) + "\n" +
        section("wine", "data/wine.csv", *multinomial("wine.csv")) + "\n" + one_vs_rest())
out = os.path.join(root, "tests", "reference", "softmax_sklearn.hpp")
with open(out + ".tmp", "w") as f:
    f.write(f"""// Generated by scripts/reference/softmax_sklearn.py (scikit-learn {sklearn.__version__},
// LogisticRegression(C=1, multi_class="multinomial", solver="lbfgs", tol=1e-12) and
// OneVsRestClassifier(LogisticRegression(C=1, tol=1e-12))) on data/iris.csv and data/wine.csv,
// features standardised with the population standard deviation. Do not edit by hand.
#pragma once

#include <cstddef>

namespace xgrad::reference::softmax_sklearn {{

{body}
}}  // namespace xgrad::reference::softmax_sklearn
""")
os.replace(out + ".tmp", out)
