#!/usr/bin/env bash
# LearnedLoss against PyTorch on the same iteration of a preset, same machine, same run, at 1 and 2
# threads; prints each rate and their ratio. PyTorch runs its DCGAN example's form (one G forward,
# the fake batch reused for G's step) as written, and with D frozen in G's step (the least work; what
# LearnedLoss does); the ratio to the faster of the two is the one to quote. The older, flattering
# forms stay in pytorch_bench.py (--form separate|joint). Needs `pip install torch`.
#   bash benchmarks/compare_pytorch.sh [dcgan28|grid2d] [iterations] [rounds]
# Shared machines drift by a fifth from one minute to the next, so the three programs take turns
# for `rounds` rounds (default 3) and the ratios are of the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dcgan28}"
iterations="${2:-40}"
rounds="${3:-3}"
case "$preset" in
    dcgan28) batch=64 ;;
    grid2d) batch=100 ;;
    *) echo "compare_pytorch.sh: preset '$preset' is not one of dcgan28, grid2d" >&2; exit 2 ;;
esac
[[ "$iterations" =~ ^[1-9][0-9]*$ ]] || { echo "compare_pytorch.sh: iterations must be a positive whole number, got '$iterations'" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "compare_pytorch.sh: rounds must be a positive whole number, got '$rounds'" >&2; exit 2; }
python3 -c "import torch" 2>/dev/null || { echo "compare_pytorch.sh: PyTorch is missing (pip install torch)" >&2; exit 2; }
swift build -c release >/dev/null
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $rounds rounds of $iterations iterations"
for threads in 1 2; do
    common=(--batch-size "$batch" --threads "$threads" --iterations "$iterations" --json)
    results=()
    for _ in $(seq "$rounds"); do
        results+=("$(.build/release/launcher bench --preset "$preset" "${common[@]}")")
        results+=("$(python3 benchmarks/pytorch_bench.py --preset "$preset" "${common[@]}" --form example)")
        results+=("$(python3 benchmarks/pytorch_bench.py --preset "$preset" "${common[@]}" --form example-frozen)")
    done
    python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(arg) for arg in sys.argv[1:]]
ours, example, frozen = runs[0::3], runs[1::3], runs[2::3]
def median(rows): return statistics.median(row['imagesPerSecond'] for row in rows)
rate, example_rate, frozen_rate = median(ours), median(example), median(frozen)
last = ours[-1]
spread = lambda rows: f"{min(r['imagesPerSecond'] for r in rows):.0f}-{max(r['imagesPerSecond'] for r in rows):.0f}"
print(f"{last['preset']}, {last['threads']} thread(s): LearnedLoss {rate:.1f} samples/s ({spread(ours)}); "
      f"{example[0]['framework']} example {example_rate:.1f} ({spread(example)}; ratio {rate / example_rate:.2f}), "
      f"example with D frozen {frozen_rate:.1f} ({spread(frozen)}; ratio {rate / frozen_rate:.2f}); "
      f"ratio to the faster {rate / max(example_rate, frozen_rate):.2f}; "
      f"{last['gigaflopsPerSecond']:.0f} GFLOP/s ({last['gigaflopsPerSecond'] / last['sgemmPeakGigaflopsPerSecond']:.2f} of the sgemm peak) on {last['kernels']} "
      f"({', '.join(last['convolutionImplementations']) or 'no convolutions'}), "
      f"{max(r['peakResidentMegabytes'] for r in ours):.0f} MB peak, {last['residentGrowthMegabytes']:+.1f} MB after warm-up")
PY
done
