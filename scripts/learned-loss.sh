#!/usr/bin/env bash
# The measurements of docs/learned-loss.md: colorize28 and completion28 with each of their losses
# (and their adversarial ones without the mode-seeking term), and alphagan28 beside dcgan28, all
# on one budget and seed, each evaluated on the test set by its generator average and by its
# trained generator (`--raw-generator`), with pictures of its samples.
# Usage: bash scripts/learned-loss.sh [steps] [output-dir]   (defaults 1500, checkpoints/learned-loss)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi-env.sh
steps=${1:-1500}
out=${2:-checkpoints/learned-loss}
launcher=.build/release/launcher
swift build -c release >/dev/null
mkdir -p "$out"

run() {
    local name=$1; shift
    local started=$SECONDS
    mpirun -np 2 "$launcher" train --steps "$steps" --batch-size 64 --seed 1 --checkpoint-every "$steps" --sample-every "$steps" \
        --run-dir "$out/$name" "$@" > "$out/$name.train.log"
    echo "$name: trained $steps steps in $((SECONDS - started)) s" | tee -a "$out/times.txt"
    started=$SECONDS
    local checkpoint="$out/$name/checkpoint-$(printf %08d "$steps").h5"
    mpirun -np 2 "$launcher" evaluate "$checkpoint" --json > "$out/$name.evaluation.json"
    echo "$name: evaluated in $((SECONDS - started)) s" | tee -a "$out/times.txt"
    mpirun -np 2 "$launcher" evaluate "$checkpoint" --raw-generator --json > "$out/$name.raw.evaluation.json"
    "$launcher" sample "$checkpoint" --count 64 --out "$out/$name.png" > /dev/null
}

for loss in l2 l1 adversarial l1+adversarial; do
    run "colorize-$loss" --preset colorize28 --loss "$loss"
done
run colorize-adversarial-no-mode-seeking --preset colorize28 --loss adversarial --mode-seeking 0
for loss in l2 l1 adversarial l1+adversarial; do
    run "completion-$loss" --preset completion28 --loss "$loss"
done
run completion-l1+adversarial-no-mode-seeking --preset completion28 --loss l1+adversarial --mode-seeking 0
run dcgan28 --preset dcgan28
run alphagan28 --preset alphagan28
