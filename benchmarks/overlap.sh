#!/usr/bin/env bash
# The gradient all-reduce against the compute that hides it: PRESET on 1 rank, on 2 ranks of one
# host, and on 2 hosts joined by a veth link shaped to RATE (scripts/two-hosts.sh), each of the
# 2-rank layouts with one message after the backward pass (--bucket-mb 0) and with buckets
# overlapped (--bucket-mb BUCKET). Settings take turns within each of ROUNDS rounds; prints each
# run and the medians: ms per step, efficiency (2-rank images/s over twice the 1-rank images/s),
# and the all-reduce time the step waited for. Needs root (network namespaces).
#   bash benchmarks/overlap.sh [PRESET] [ROUNDS] [STEPS] [RATE] [BUCKET]
set -euo pipefail
preset=${1:-dcgan28}; rounds=${2:-3}; steps=${3:-60}; rate=${4:-1gbit}; bucket=${5:-25}
cd "$(dirname "$0")/.."
source scripts/mpi-env.sh
launcher=$PWD/.build/release/launcher
[ -x "$launcher" ] || swift build -c release
# Per-rank batch 64 for the image presets, 50 for the 2-D ones, as in benchmarks/README.md.
case "$preset" in grid2d | ring2d) rows=50 ;; *) rows=64 ;; esac
work=$(mktemp -d); hosts="$work/hosts"
trap 'bash scripts/two-hosts.sh down "$hosts" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
bash scripts/two-hosts.sh up "$hosts" --rate "$rate"
echo "$(lscpu | sed -n 's/^Model name: *//p'), $preset, 1 thread per rank, per-rank batch $rows, $steps steps, $rounds rounds, link $rate"

train() {  # ranks, bucket MiB, launcher prefix...; prints "ms-per-step waited-ms"
    local ranks=$1 bucket=$2; shift 2
    "$@" "$launcher" train --preset "$preset" --batch-size $((rows * ranks)) --steps "$steps" --threads 1 --bucket-mb "$bucket" \
        --checkpoint-every 100000 --sample-every 100000 --tensorboard false --run-dir "$work/run-$RANDOM" |
        sed -n 's/^\([0-9.]*\) ms per step.*waited for \([0-9.]*\) ms per step.*/\1 \2/p; s/^\([0-9.]*\) ms per step, [0-9]* images\/s;.*last.*/\1 0/p'
}
one_host() { mpirun -np 2 --bind-to none "$@"; }
two_hosts() {
    bash scripts/two-hosts.sh run "$hosts" -- env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        mpirun $(cat "$hosts/mpirun-options") --map-by node -np 2 "$@"
}

declare -A results
settings=("1-rank" "one-host-0" "one-host-$bucket" "two-hosts-0" "two-hosts-$bucket")
for round in $(seq "$rounds"); do
    for setting in "${settings[@]}"; do
        case "$setting" in
        1-rank) line=$(train 1 0 env) ;;
        one-host-*) line=$(train 2 "${setting##*-}" one_host) ;;
        two-hosts-*) line=$(train 2 "${setting##*-}" two_hosts) ;;
        esac
        results[$setting]+="$line;"
        echo "round $round, $setting: $line (ms per step, ms waited)"
    done
done

median() { tr ';' '\n' | awk -v field="$1" 'NF {print $field}' | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
single=$(median 1 <<<"${results[1-rank]}")
echo "| layout | --bucket-mb | ms per step | efficiency | all-reduce waited per step |"
echo "| --- | --- | --- | --- | --- |"
for setting in "${settings[@]}"; do
    step=$(median 1 <<<"${results[$setting]}"); waited=$(median 2 <<<"${results[$setting]}")
    awk -v s="$setting" -v step="$step" -v waited="$waited" -v single="$single" 'BEGIN {
        layout = s; sub(/-[0-9.]+$/, "", layout); bucket = s; sub(/.*-/, "", bucket)
        if (s == "1-rank") { layout = "1 rank"; bucket = "-" }
        printf "| %s | %s | %.1f | %.2f | %.2f ms (%.1f%%) |\n", layout, bucket, step, single / step, waited, 100 * waited / step }'
done
