#!/usr/bin/env bash
# Configures and builds xgrad into build/, or with --sanitize into build-sanitize/ under
# AddressSanitizer + UndefinedBehaviorSanitizer. Used by run.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--sanitize" ]; then
    cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXGRAD_SANITIZE=ON \
        -DXGRAD_BUILD_BENCH=OFF >/dev/null
    cmake --build build-sanitize -j "$(nproc)"
else
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_BENCH=ON >/dev/null
    cmake --build build -j "$(nproc)"
fi
