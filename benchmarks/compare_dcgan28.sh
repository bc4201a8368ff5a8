#!/usr/bin/env bash
# LearnedLoss against PyTorch on the same dcgan28 iteration, same machine, same run, at 1 and 2
# threads; prints each rate and their ratio. Needs `pip install torch` and a release build.
#   bash benchmarks/compare_dcgan28.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-40}"
swift build -c release >/dev/null
for threads in 1 2; do
    ours=$(.build/release/launcher bench --preset dcgan28 --batch-size 64 --threads "$threads" --iterations "$iterations" --json)
    theirs=$(python3 benchmarks/pytorch_dcgan28.py --batch-size 64 --threads "$threads" --iterations "$iterations" --json)
    python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{ours['threads']} thread(s): LearnedLoss {ours['imagesPerSecond']:.1f} images/s, "
      f"{theirs['framework']} {theirs['imagesPerSecond']:.1f} images/s, "
      f"ratio {ours['imagesPerSecond'] / theirs['imagesPerSecond']:.2f}; "
      f"GEMM at {100 * ours['fractionOfPeak']:.0f}% of sgemm peak, {ours['peakResidentMegabytes']:.0f} MB peak, "
      f"{ours['residentGrowthMegabytes']:+.1f} MB after warm-up")
PY
done
