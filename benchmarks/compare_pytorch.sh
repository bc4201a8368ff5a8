#!/usr/bin/env bash
# LearnedLoss against PyTorch on the same iteration of a preset, same machine, same run, at 1 and 2
# threads; prints each rate and their ratio. Needs `pip install torch` and a release build.
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
        results+=("$(python3 benchmarks/pytorch_bench.py --preset "$preset" "${common[@]}")")
        results+=("$(python3 benchmarks/pytorch_bench.py --preset "$preset" "${common[@]}" --separate-passes)")
    done
    python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(arg) for arg in sys.argv[1:]]
ours, joint, separate = runs[0::3], runs[1::3], runs[2::3]
def median(rows): return statistics.median(row['imagesPerSecond'] for row in rows)
rate, joint_rate, separate_rate = median(ours), median(joint), median(separate)
last = ours[-1]
spread = lambda rows: f"{min(r['imagesPerSecond'] for r in rows):.0f}-{max(r['imagesPerSecond'] for r in rows):.0f}"
print(f"{last['preset']}, {last['threads']} thread(s): LearnedLoss {rate:.1f} samples/s ({spread(ours)}; D: real and fake in separate passes); "
      f"{joint[0]['framework']} {joint_rate:.1f} with one joint D pass ({spread(joint)}; ratio {rate / joint_rate:.2f}), "
      f"{separate_rate:.1f} with separate passes ({spread(separate)}; ratio {rate / separate_rate:.2f}); "
      f"{last['gigaflopsPerSecond']:.0f} GFLOP/s on {last['kernels']} ({', '.join(last['convolutionImplementations']) or 'no convolutions'}), "
      f"{max(r['peakResidentMegabytes'] for r in ours):.0f} MB peak, {last['residentGrowthMegabytes']:+.1f} MB after warm-up")
PY
done
