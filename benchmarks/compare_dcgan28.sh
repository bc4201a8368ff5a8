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
    joint=$(python3 benchmarks/pytorch_dcgan28.py --batch-size 64 --threads "$threads" --iterations "$iterations" --json)
    separate=$(python3 benchmarks/pytorch_dcgan28.py --batch-size 64 --threads "$threads" --iterations "$iterations" --json --separate-passes)
    python3 - "$ours" "$joint" "$separate" <<'PY'
import json, sys
ours, joint, separate = (json.loads(arg) for arg in sys.argv[1:])
rate = ours['imagesPerSecond']
print(f"{ours['threads']} thread(s): LearnedLoss {rate:.1f} images/s (D: real and fake in separate passes); "
      f"{joint['framework']} {joint['imagesPerSecond']:.1f} with one joint D pass (ratio {rate / joint['imagesPerSecond']:.2f}), "
      f"{separate['imagesPerSecond']:.1f} with separate passes (ratio {rate / separate['imagesPerSecond']:.2f}); "
      f"GEMM at {100 * ours['fractionOfPeak']:.0f}% of sgemm peak, {ours['peakResidentMegabytes']:.0f} MB peak, "
      f"{ours['residentGrowthMegabytes']:+.1f} MB after warm-up")
PY
done
