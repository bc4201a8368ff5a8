#!/usr/bin/env bash
# FID Inception features per second: LearnedLoss (`launcher bench --inception`) against pytorch-fid's
# network in PyTorch, same machine, same weights, alternating rounds, 1 and 2 threads.
#   bash benchmarks/inception_bench.sh [rounds]     (pip install torch torchvision pytorch-fid safetensors)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2}"
source scripts/mpi-env.sh
swift build -c release >/dev/null
weights="$(mktemp -d)/inception.safetensors"
trap 'rm -rf "$(dirname "$weights")"' EXIT
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%F)"
for threads in 1 2; do
    for round in $(seq "$rounds"); do
        python3 benchmarks/inception_bench.py "$weights" --threads "$threads" --batch-size 16 --iterations 4
        .build/release/launcher bench --inception "$weights" --batch-size 16 --iterations 4 --warmup 1 --threads "$threads"
    done
done
