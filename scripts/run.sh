#!/usr/bin/env bash
# The main job: install what is missing, build, and run the logistic-regression example
# (the course's worked examples, then training on the bundled iris data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
build/examples/logistic_regression data
