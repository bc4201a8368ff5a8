#!/usr/bin/env bash
# LearnedLoss against PyTorch on the same iteration of a preset, same machine, same run, at 1 and 2
# threads; prints each rate and their ratio. Needs `pip install torch` and a release build.
#   bash benchmarks/compare_pytorch.sh [dcgan28|grid2d] [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dcgan28}"
iterations="${2:-40}"
case "$preset" in
    dcgan28) batch=64 ;;
    grid2d) batch=100 ;;
    *) echo "compare_pytorch.sh: preset '$preset' is not one of dcgan28, grid2d" >&2; exit 2 ;;
esac
swift build -c release >/dev/null
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
for threads in 1 2; do
    common=(--batch-size "$batch" --threads "$threads" --iterations "$iterations" --json)
    ours=$(.build/release/launcher bench --preset "$preset" "${common[@]}")
    joint=$(python3 benchmarks/pytorch_bench.py --preset "$preset" "${common[@]}")
    separate=$(python3 benchmarks/pytorch_bench.py --preset "$preset" "${common[@]}" --separate-passes)
    python3 - "$ours" "$joint" "$separate" <<'PY'
import json, sys
ours, joint, separate = (json.loads(arg) for arg in sys.argv[1:])
rate = ours['imagesPerSecond']
print(f"{ours['preset']}, {ours['threads']} thread(s): LearnedLoss {rate:.1f} samples/s (D: real and fake in separate passes); "
      f"{joint['framework']} {joint['imagesPerSecond']:.1f} with one joint D pass (ratio {rate / joint['imagesPerSecond']:.2f}), "
      f"{separate['imagesPerSecond']:.1f} with separate passes (ratio {rate / separate['imagesPerSecond']:.2f}); "
      f"{ours['gigaflopsPerSecond']:.0f} GFLOP/s on {ours['kernels']} ({', '.join(ours['convolutionImplementations']) or 'no convolutions'}), "
      f"{ours['peakResidentMegabytes']:.0f} MB peak, {ours['residentGrowthMegabytes']:+.1f} MB after warm-up")
PY
done
