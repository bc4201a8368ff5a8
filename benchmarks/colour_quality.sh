#!/usr/bin/env bash
# dcgan or sngan against its PyTorch twin (benchmarks/colour_twins.py) on colour Fashion-MNIST
# (docs/data.md), the same hyperparameters and steps, one thread each, side by side: FID every
# --eval-every steps from 2,000 samples of the raw generator (--ema-decay 0, as the twin has no
# average), both in the features of one evaluator trained on the data (`launcher evaluator --data`),
# against the images it held out.
#
#   bash benchmarks/colour_quality.sh dcgan|sngan [steps] [eval-every] [work-dir] [seed]
set -euo pipefail
preset=$1
steps=${2:-2000}
every=${3:-500}
work=${4:-/tmp/colour-quality}
seed=${5:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
launcher="$root/.build/release/launcher"
source "$root/scripts/mpi-env.sh"
mkdir -p "$work"
data="$work/colour-fashion-32.h5" evaluator="$work/evaluator-colour-fashion-32.h5"
fashion=/usr/share/datasets/fashion-mnist
[ -f "$data" ] || "$launcher" dataset "$fashion/train-images-idx3-ubyte.gz" --labels "$fashion/train-labels-idx1-ubyte.gz" \
    --random-hue --resolution 32 --out "$data"
[ -f "$evaluator" ] || "$launcher" evaluator --data "$data" --out "$evaluator"

run="$work/$preset-seed$seed" twin="$work/$preset-twin-seed$seed"
rm -rf "$run" "$twin"
"$launcher" train --preset "$preset" --data "$data" --steps "$steps" --seed "$seed" --ema-decay 0 --threads 1 --eval-every "$every" \
    --eval-samples 2000 --evaluator "$evaluator" --checkpoint-every "$every" --sample-every "$every" --run-dir "$run" \
    --tensorboard false > "$run.log" &
ours=$!
python3 "$root/benchmarks/colour_twins.py" --preset "$preset" --data "$data" --steps "$steps" --eval-every "$every" \
    --eval-samples 2000 --threads 1 --seed "$seed" --out "$twin" > "$twin.log"
wait $ours

echo "$preset on colour Fashion-MNIST 32x32, seed $seed, FID from 2,000 samples against the evaluator's 6,000 held-out images"
echo "step  LearnedLoss  PyTorch  ratio"
for samples in "$twin"/samples-*.h5; do
    step=$((10#$(basename "$samples" .h5 | sed 's/samples-//')))
    theirs=$("$launcher" evaluate --images "$samples" --samples 2000 --evaluator "$evaluator" --json \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["images"]["frechetDistance"])')
    mine=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    result = json.loads(line)
    if result["step"] == int(sys.argv[2]): print(result["images"]["frechetDistance"])' "$run/evaluations.jsonl" "$step")
    python3 -c 'import sys; s, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]); print(f"{s:>5}  {a:11.1f}  {b:7.1f}  {a / b:5.2f}")' \
        "$step" "$mine" "$theirs"
done
