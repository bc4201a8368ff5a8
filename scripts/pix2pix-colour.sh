#!/usr/bin/env bash
# The measurements of docs/learned-loss.md's pix2pix section: colourisation of colour photographs
# made from Fashion-MNIST (`dataset --random-hue`: each garment a hue of its own, which its gray
# image does not tell), pix2pix with --pairs gray under l2, l1, l1+adversarial and adversarial alone,
# on one budget and seed, each evaluated on the 1,000 held-out pairs (with an evaluator trained on
# the colour set, for FID against the targets) and sampled as input | output | target; then the
# figure: 12 held-out inputs, each loss's outputs, the targets (needs h5py and numpy).
# Usage: bash scripts/pix2pix-colour.sh [steps] [output-dir] [width] [seed]   (defaults 1500, checkpoints/pix2pix-colour, 32, 1)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpi-env.sh
steps=${1:-1500}
out=${2:-checkpoints/pix2pix-colour}
width=${3:-32}
seed=${4:-1}
launcher=.build/release/launcher
swift build -c release >/dev/null
mkdir -p "$out"
data="$out/colour-32.h5"
fashion=/usr/share/datasets/fashion-mnist
[ -f "$data" ] || "$launcher" dataset "$fashion/train-images-idx3-ubyte.gz" --labels "$fashion/train-labels-idx1-ubyte.gz" \
    --random-hue --resolution 32 --out "$data" > /dev/null
[ -f "$out/evaluator.h5" ] || "$launcher" evaluator --data "$data" --out "$out/evaluator.h5" > "$out/evaluator.log"

for loss in l2 l1 l1+adversarial adversarial; do
    started=$SECONDS
    "$launcher" train --preset pix2pix --data "$data" --pairs gray --loss "$loss" --width "$width" --steps "$steps" --seed "$seed" \
        --threads 2 --checkpoint-every "$steps" --sample-every "$steps" --tensorboard false --run-dir "$out/$loss" > "$out/$loss.train.log"
    echo "$loss: trained $steps steps in $((SECONDS - started)) s" | tee -a "$out/times.txt"
    checkpoint="$out/$loss/checkpoint-$(printf %08d "$steps").h5"
    "$launcher" evaluate "$checkpoint" --evaluator "$out/evaluator.h5" --json > "$out/$loss.evaluation.json"
    "$launcher" sample "$checkpoint" --count 8 --out "$out/$loss.png" > /dev/null
    "$launcher" sample "$checkpoint" --count 12 --out "$out/$loss.h5" > /dev/null
done
python3 scripts/yellow-bird.py "$out/pix2pix-colour.png" "$out/l2.h5" "$out/l1.h5" "$out/l1+adversarial.h5" "$out/adversarial.h5"
