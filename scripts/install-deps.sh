#!/usr/bin/env bash
# Installs the Debian 12 packages xgrad needs, if any is missing. Runs apt-get as root (or via sudo).
#   scripts/install-deps.sh [more packages]   (e.g. the fuzzers' clang libclang-rt-14-dev)
set -euo pipefail

packages=(cmake g++ make ccache libxtensor-dev libxtensor-blas-dev libopenblas-dev libgtest-dev
          libbenchmark-dev nlohmann-json3-dev libcli11-dev libfmt-dev libxsimd-dev zlib1g-dev
          libopenmpi-dev openmpi-bin
          dataset-fashion-mnist "$@")

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    as_root=(sudo)
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
