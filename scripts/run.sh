#!/usr/bin/env bash
# The main job: install what is missing, build, and train logistic regression with the `xgrad`
# command on the bundled breast-cancer data (standardised, L2 λ = 1, L-BFGS, 20 % held out),
# writing the model to out/model.json and its plots (loss, ROC) to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
mkdir -p out
build/xgrad train --standardize --l2 1 --out out/model.json --plots out "$@"
