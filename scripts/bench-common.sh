# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# What the scripts/bench-*.sh scripts share; sourced by them (from the checkout's root), not run.
#   bench_parse_args USAGE "$@"    --smoke sets smoke=(--smoke); anything else prints USAGE, exit 2
#   bench_need_torch               installs Debian's PyTorch and numpy if missing
#   bench_build TARGET PATHS...    builds TARGET in $BUILD_DIR (only it; an already configured
#                                  directory) or, without BUILD_DIR, build/ by scripts/build.sh;
#                                  sets build_dir, bench (the program), source_dir and version
#                                  (the commit, "+ uncommitted changes" if PATHS differ from it)
#   bench_load_start DIR / bench_load_end DIR
#                                  around the measured runs: sets elapsed (s) and others (the
#                                  cores other processes and tenants kept busy meanwhile: user +
#                                  nice + system + irq + softirq ticks of all cores, less this
#                                  shell's children); DIR holds two scratch files
#   bench_busy LIMIT               true when others > LIMIT cores

bench_parse_args() {
    local usage=$1
    shift
    smoke=()
    for arg in "$@"; do
        case "$arg" in
        --smoke) smoke=(--smoke) ;;
        *) echo "usage: $usage" >&2; exit 2 ;;
        esac
    done
}

bench_need_torch() {
    if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
        local as_root=()
        [ "$(id -u)" -ne 0 ] && as_root=(sudo)
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch \
            python3-numpy
    fi
}

bench_build() {
    local target=$1
    shift
    build_dir=${BUILD_DIR:-build}
    if [ -n "${BUILD_DIR:-}" ]; then
        cmake --build "$build_dir" -j "$(nproc)" --target "$target" >/dev/null
    else
        scripts/build.sh >/dev/null
    fi
    bench="$build_dir/bench/$target"
    source_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build_dir/CMakeCache.txt")
    if version=$(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null); then
        git -C "$source_dir" diff --quiet HEAD -- "$@" ||
            version+=" + uncommitted changes to $*"
    else
        version="(not a git checkout)"
    fi
}

bench_busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
bench_children_seconds() {
    awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
        print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$1"
}

bench_load_start() {
    bench_ticks0=$(bench_busy_ticks)
    times >"$1/times0"
    bench_start=$(date +%s.%N)
}

bench_load_end() {
    local ticks1
    ticks1=$(bench_busy_ticks)
    times >"$1/times1"
    elapsed=$(awk -v a="$bench_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    others=$(awk -v t0="$bench_ticks0" -v t1="$ticks1" -v hz="$(getconf CLK_TCK)" \
        -v e="$elapsed" -v o0="$(bench_children_seconds "$1/times0")" \
        -v o1="$(bench_children_seconds "$1/times1")" \
        'BEGIN { v = ((t1 - t0) / hz - (o1 - o0)) / e; printf "%.2f", v < 0 ? 0 : v }')
    rm -f "$1/times0" "$1/times1"
}

bench_busy() { awk -v o="$others" -v l="$1" 'BEGIN { exit !(o > l) }'; }
