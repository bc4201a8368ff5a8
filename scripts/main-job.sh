#!/usr/bin/env bash
# The main job on a fresh machine: system packages, a release build, then the job on 2 processes.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-packages.sh
source scripts/mpi-env.sh
swift build -c release
mpirun -np 2 .build/release/launcher doctor
