#!/usr/bin/env bash
# pix2pix in LearnedLoss against the reference repository's networks and iteration in PyTorch
# (benchmarks/pix2pix_reference_bench.py), same machine, same run, at 1 and 2 threads; the two take
# turns for `rounds` rounds and the ratio is of the medians. Needs `pip install torch`.
#   bash benchmarks/compare_pix2pix.sh [resolution] [batch] [iterations] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
resolution="${1:-128}"
batch="${2:-4}"
iterations="${3:-10}"
rounds="${4:-3}"
for value in "$resolution" "$batch" "$iterations" "$rounds"; do
    [[ "$value" =~ ^[1-9][0-9]*$ ]] || { echo "compare_pix2pix.sh: expected positive whole numbers, got '$value'" >&2; exit 2; }
done
python3 -c "import torch" 2>/dev/null || { echo "compare_pix2pix.sh: PyTorch is missing (pip install torch)" >&2; exit 2; }
swift build -c release >/dev/null
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; ${resolution} px, batch $batch, $rounds rounds of $iterations iterations"
for threads in 1 2; do
    results=()
    for _ in $(seq "$rounds"); do
        results+=("$(.build/release/launcher bench --preset pix2pix --resolution "$resolution" --batch-size "$batch" --threads "$threads" \
                     --iterations "$iterations" --warmup 2 --json)")
        results+=("$(python3 benchmarks/pix2pix_reference_bench.py --resolution "$resolution" --batch-size "$batch" --threads "$threads" \
                     --iterations "$iterations" --warmup 2 --json)")
    done
    python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(arg) for arg in sys.argv[1:]]
ours, theirs = runs[0::2], runs[1::2]
rate = statistics.median(r['imagesPerSecond'] for r in ours)
reference = statistics.median(r['images_per_second'] for r in theirs)
last = ours[-1]
print(f"pix2pix, {last['threads']} thread(s): LearnedLoss {rate:.2f} images/s, "
      f"PyTorch {theirs[0]['torch']} {reference:.2f}; ratio {rate / reference:.2f}; "
      f"{last['gigaflopsPerSecond']:.0f} GFLOP/s of sgemm's {last['sgemmPeakGigaflopsPerSecond']:.0f}, {max(r['peakResidentMegabytes'] for r in ours):.0f} MB peak")
PY
done
