#!/usr/bin/env bash
# Installs the built library into a temporary prefix and builds examples/consumer against it
# with find_package(xgrad), as a user's project would.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix/install" >/dev/null
cmake -S examples/consumer -B "$prefix/build" -DCMAKE_PREFIX_PATH="$prefix/install" >/dev/null
cmake --build "$prefix/build" >/dev/null
"$prefix/build/consumer"
if [ -x "$prefix/build/consumer_distributed" ]; then
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        mpirun -q --oversubscribe -np 3 "$prefix/build/consumer_distributed"
fi
