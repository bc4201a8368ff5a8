#!/usr/bin/env bash
# The main job on a fresh machine: system packages, a release build, then a short dcgan28 run on
# Fashion-MNIST with 2 processes, measured every 100 steps (best.h5 keeps the best FID), and an HTML
# report of the run. Run again, it continues the same run for another 300 steps.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-packages.sh
source scripts/mpi-env.sh
swift build -c release

run=checkpoints/readme-run
launcher=.build/release/launcher
if ls "$run"/checkpoint-*.h5 >/dev/null 2>&1; then
    done_steps=$("$launcher" inspect "$(ls "$run"/checkpoint-*.h5 | tail -n 1)" | awk '/^step/ {print $2}')
    mpirun -np 2 "$launcher" train --resume auto --run-dir "$run" --steps $((done_steps + 300))
else
    mpirun -np 2 "$launcher" train --preset dcgan28 --steps 300 --batch-size 64 --sample-every 100 --checkpoint-every 100 \
        --eval-every 100 --run-dir "$run"
fi
"$launcher" report "$run"
echo "watch it live with: tensorboard --logdir $run   (pip install tensorboard)"
