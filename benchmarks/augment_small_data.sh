#!/usr/bin/env bash
# Does --augment help where GANs fail first, on little data? dcgan28 on the first 10% of
# Fashion-MNIST's training images (6,000), with and without DiffAugment, the same steps and seed;
# FID against the test set in the features of LearnedLoss's own evaluator, of the generator
# average and of the raw generator.
#
#   bash benchmarks/augment_small_data.sh [steps] [work-dir]
set -euo pipefail
steps=${1:-3000}
work=${2:-/tmp/augment-small-data}
root=$(cd "$(dirname "$0")/.." && pwd)
launcher="$root/.build/release/launcher"
source "$root/scripts/mpi-env.sh"
mkdir -p "$work"
"$launcher" dataset /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz --out "$work/fashion-10pc.h5" --resolution 28 --max-images 6000
for augment in none color,translation,cutout; do
    run="$work/dcgan28-$augment"
    rm -rf "$run"
    mpirun -np 2 "$launcher" train --preset dcgan28 --data "$work/fashion-10pc.h5" --steps "$steps" --augment "$augment" \
        --run-dir "$run" --tensorboard false --checkpoint-every "$steps" > "$run.log"
    checkpoint=$(ls "$run"/checkpoint-*.h5 | tail -1)
    for which in "" --raw-generator; do
        echo "augment $augment ${which:-(generator average)}: $("$launcher" evaluate "$checkpoint" $which --json)"
    done
done
