#!/usr/bin/env bash
# Fault injection against a release build, with counts: the figures of docs/reliability.md.
#   bash scripts/fault-tests.sh [trials]
# 1. SIGSTOP of a random rank of a 2-rank grid2d job at a random moment, --stall-timeout 10:
#    seconds until the whole job is gone, and processes left behind.
# 2. kill -9 of a random rank, twice, under --max-restarts 3: runs that end bit for bit as an
#    uninterrupted run.
# 3. Damaged copies of a checkpoint through `sample` and `train --resume`
#    (scripts/mutate-checkpoints.py): refused, accepted, crashed, hung.
# Not here yet: a cut link between two hosts, damaged data files, a full disk.
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-10}"
[[ "$trials" =~ ^[1-9][0-9]*$ ]] || { echo "fault-tests.sh: trials must be a positive whole number, got '$trials'" >&2; exit 2; }
source scripts/mpi-env.sh
swift build -c release >/dev/null
launcher="$PWD/.build/release/launcher"
scratch="$(mktemp -d)"
trap 'pkill -9 -f "$scratch" 2>/dev/null || true; rm -rf "$scratch"' EXIT

# The rank processes of the job training into $1 (not a supervising launcher: ranks have an MPI rank).
ranks_of() {
    # By name, not path: the ranks run the build's real path, which .build/release links to.
    for pid in $(pgrep -f "launcher train .*--run-dir $1( |$)" || true); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q '^OMPI_COMM_WORLD_RANK=' && echo "$pid"
    done
    return 0
}
newest_step() { tail -1 "$1/metrics.jsonl" 2>/dev/null | sed -n 's/.*"step":\([0-9]*\).*/\1/p'; }
wait_for_step() {
    for _ in $(seq 1200); do [ "$(newest_step "$1")" -ge "$2" ] 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

echo "== SIGSTOP of a random rank, --stall-timeout 10 (target: gone within 40 s, nothing left)"
within=0
for trial in $(seq "$trials"); do
    run="$scratch/stop-$trial"
    mpirun -np 2 "$launcher" train --preset grid2d --steps 1000000 --threads 1 --stall-timeout 10 --run-dir "$run" \
        >"$run.out" 2>"$run.err" &
    job=$!
    target=$((10 + RANDOM % 40))
    if ! wait_for_step "$run" "$target"; then
        echo "  trial $trial: the job did not reach step $target; its errors:"; sed 's/^/    /' "$run.err" | tail -5
        kill -9 "$job" 2>/dev/null || true; continue
    fi
    victim=$(ranks_of "$run" | shuf -n 1)
    stopped=$(date +%s.%N)
    kill -STOP "$victim"
    wait "$job" || true
    seconds=$(echo "$(date +%s.%N) - $stopped" | bc)
    left=$(ranks_of "$run" | wc -l)
    # The watchdog's line, or the check-in's when the rank stopped between steps.
    said=$(grep -o -E "rank [0-9] \(host [^)]*\): no progress for [0-9]* s at step [0-9]*, [^;]*|ranks? [0-9, ]* did not reach step [0-9]*" "$run.err" | head -1 || true)
    kill -CONT "$victim" 2>/dev/null || true; kill -9 "$victim" 2>/dev/null || true
    printf '  trial %d: gone after %.1f s, %d process(es) left; %s\n' "$trial" "$seconds" "$left" "$said"
    if (( $(echo "$seconds < 40" | bc) )) && [ "$left" -eq 0 ]; then within=$((within + 1)); fi
done
echo "  $within of $trials trials ended within the bound with nothing left"

echo "== kill -9 of a random rank twice under --max-restarts 3 (target: bit for bit)"
common=(train --preset grid2d --batch-size 20 --steps 300 --checkpoint-every 25 --threads 1 --processes 2)
"$launcher" "${common[@]}" --run-dir "$scratch/straight" >/dev/null
exact=0
restart_trials=$(( trials < 4 ? trials : 4 ))
for trial in $(seq "$restart_trials"); do
    run="$scratch/restart-$trial"
    "$launcher" "${common[@]}" --max-restarts 3 --run-dir "$run" >"$run.out" 2>"$run.err" &
    job=$!
    for at in $((20 + RANDOM % 100)) $((150 + RANDOM % 100)); do
        wait_for_step "$run" "$at" || break
        victim=$(ranks_of "$run" | shuf -n 1)
        [ -n "$victim" ] && kill -9 "$victim"
        sleep 1
    done
    status=0; wait "$job" || status=$?
    restarts=$(grep -c "supervisor: the job failed" "$run.out" || true)
    same=$(python3 - "$scratch/straight/checkpoint-00000300.h5" "$run/checkpoint-00000300.h5" <<'PY'
import sys, h5py, numpy
def items(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out
try:
    a, b = (items(h5py.File(p)) for p in sys.argv[1:])
    print("yes" if a.keys() == b.keys() and all(numpy.array_equal(a[k], b[k]) for k in a) else "no")
except OSError as error:
    print(f"no ({error})")
PY
)
    echo "  trial $trial: exit $status after $restarts restart(s); final checkpoint identical to the uninterrupted run: $same"
    [ "$status" -eq 0 ] && [ "$same" = yes ] && exact=$((exact + 1))
done
echo "  $exact of $restart_trials supervised runs finished bit for bit"

echo "== damaged checkpoints (target: none accepted, crashed or hung)"
python3 scripts/mutate-checkpoints.py "$scratch/straight/checkpoint-00000300.h5" --trials $((trials * 4)) --launcher "$launcher"
