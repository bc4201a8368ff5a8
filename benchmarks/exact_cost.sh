#!/usr/bin/env bash
# What --exact costs: dcgan28 trained on 2 ranks with and without it, in turn, ROUNDS times each,
# on the release build; prints each run's ms per step and the ratio of the medians.
#   bash benchmarks/exact_cost.sh [ROUNDS] [STEPS] [SHARDS]
set -euo pipefail
rounds=${1:-3}; steps=${2:-60}; shards=${3:-8}
cd "$(dirname "$0")/.."
source scripts/mpi-env.sh
launcher=.build/release/launcher
[ -x "$launcher" ] || swift build -c release
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "$(lscpu | sed -n 's/^Model name: *//p'), dcgan28, 2 ranks x 1 thread, batch 128, $steps steps, $rounds rounds"
run() {  # mode label, extra flags...
    local label=$1; shift
    mpirun -np 2 --bind-to none "$launcher" train --preset dcgan28 --batch-size 128 --steps "$steps" --threads 1 \
        --checkpoint-every 100000 --sample-every 100000 --tensorboard false --run-dir "$work/$label-$RANDOM" "$@" |
        sed -n 's/^\([0-9.]*\) ms per step.*/\1/p'
}
default=(); exact=()
for round in $(seq "$rounds"); do
    default+=("$(run default)"); exact+=("$(run exact --exact "$shards")")
    echo "round $round: default ${default[-1]} ms/step, --exact $shards ${exact[-1]} ms/step"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
d=$(median "${default[@]}"); e=$(median "${exact[@]}")
echo "median: default $d ms/step, --exact $shards $e ms/step: --exact takes $(awk -v d="$d" -v e="$e" 'BEGIN {printf "%.3f", e / d}')x the time"
