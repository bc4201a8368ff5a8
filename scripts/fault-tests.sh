#!/usr/bin/env bash
# Fault injection against a release build, with counts: the figures of docs/reliability.md.
#   bash scripts/fault-tests.sh [trials] [trial kinds, comma-separated; all by default]
# stop        SIGSTOP of a random rank of a 2-rank grid2d job at a random moment, --stall-timeout 10:
#             seconds until the whole job is gone, processes left behind, and whether rank 0 named it.
# restart     kill -9 of a random rank, twice, under --max-restarts 3: runs that end bit for bit as
#             an uninterrupted run.
# checkpoint  damaged copies of a checkpoint through `sample`, `evaluate` and `train --resume`
#             (scripts/mutate-files.py): refused, accepted, crashed, hung.
# data        damaged copies of Fashion-MNIST's test images, gzipped and plain, through `train --data`.
# link        the link between two hosts (scripts/two-hosts.sh; root only) cut under a 4-rank job,
#             --stall-timeout 10: seconds until the job is gone on both hosts, processes left, and
#             whether rank 0 named the ranks behind the link.
# disk        a run directory on a small tmpfs (root only) that fills up: a clear error, no partial
#             file, the newest checkpoint whole.
# phase       a rank stopped (LEARNEDLOSS_STOP_AT) outside the steps: while rank 0 reads the
#             checkpoint it resumes, in an evaluation, in MPI_Finalize, in doctor: seconds until
#             the job is gone, and whether the phase was named.
# supervisor  SIGTERM, SIGINT, SIGHUP or SIGKILL to a --max-restarts supervisor, or every rank of
#             its job stopped: processes of the job left 10 s after the job ended.
# lock        a second train into a run directory in use: refused naming the holder, and allowed
#             once the first was killed with -9.
# hostile     files that lie about their size (an IDX header of 2^93 bytes, a gzip bomb, a
#             checkpoint with a 2^40-element dataset): refused by name, and the peak resident
#             memory of the process that refused them.
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-10}"
[[ "$trials" =~ ^[1-9][0-9]*$ ]] || { echo "fault-tests.sh: trials must be a positive whole number, got '$trials'" >&2; exit 2; }
kinds="${2:-stop,restart,checkpoint,data,link,disk,phase,supervisor,lock,hostile}"
for kind in ${kinds//,/ }; do
    case "$kind" in stop|restart|checkpoint|data|link|disk|phase|supervisor|lock|hostile) ;;
    *) echo "fault-tests.sh: unknown trial kind '$kind' (expected stop, restart, checkpoint, data, link, disk, phase, supervisor, lock or hostile)" >&2; exit 2 ;;
    esac
done
wanted() { [[ ",$kinds," == *",$1,"* ]]; }
for tool in bc python3; do
    command -v "$tool" >/dev/null || { echo "fault-tests.sh: needs $tool (apt-get install $tool)" >&2; exit 2; }
done
python3 -c "import h5py, numpy" 2>/dev/null || { echo "fault-tests.sh: needs h5py and numpy (pip install h5py)" >&2; exit 2; }
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

# The process of MPI rank $2 of the job training into $1.
rank_process() {
    for pid in $(ranks_of "$1"); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q "^OMPI_COMM_WORLD_RANK=$2\$" && echo "$pid"
    done
    return 0
}
common=(train --preset grid2d --batch-size 20 --steps 300 --checkpoint-every 25 --threads 1 --processes 2)
failed=0

if wanted stop; then
    echo "== SIGSTOP of a random rank, --stall-timeout 10 (target: gone within 40 s, the rank named, nothing left)"
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
        rank=$((RANDOM % 2))
        victim=$(rank_process "$run" "$rank")
        stopped=$(date +%s.%N)
        kill -STOP "$victim"
        wait "$job" || true
        seconds=$(echo "$(date +%s.%N) - $stopped" | bc)
        left=$(ranks_of "$run" | wc -l)
        # The stopped rank named by another: from its missing heartbeats, or at a step's check-in.
        named=$(grep -c -E "has not heard from 1 rank: rank $rank |rank $rank did not reach step" "$run.err" || true)
        kill -CONT "$victim" 2>/dev/null || true; kill -9 "$victim" 2>/dev/null || true
        printf '  trial %d: rank %d stopped; gone after %.1f s, %d process(es) left, rank named: %s\n' \
            "$trial" "$rank" "$seconds" "$left" "$([ "$named" -gt 0 ] && echo yes || echo no)"
        if (( $(echo "$seconds < 40" | bc) )) && [ "$left" -eq 0 ] && [ "$named" -gt 0 ]; then within=$((within + 1)); fi
    done
    echo "  $within of $trials trials ended within the bound, named the stopped rank and left nothing"
fi

if wanted restart; then
    echo "== kill -9 of a random rank twice under --max-restarts 3 (target: bit for bit)"
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
fi

if wanted checkpoint; then
    echo "== damaged checkpoints (target: none accepted, crashed or hung)"
    [ -f "$scratch/straight/checkpoint-00000300.h5" ] || "$launcher" "${common[@]}" --run-dir "$scratch/straight" >/dev/null
    python3 scripts/mutate-files.py checkpoint "$scratch/straight/checkpoint-00000300.h5" --trials $((trials * 4)) --launcher "$launcher" \
        || failed=1
fi

if wanted data; then
    echo "== damaged data files (target: none crashed or hung; a plain IDX file has no checksum to refuse changed pixels by)"
    source_images=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
    if [ -f "$source_images" ]; then
        cp "$source_images" "$scratch/"
        gzip -dc "$source_images" >"$scratch/t10k-images-idx3-ubyte"
        for images in "$scratch/t10k-images-idx3-ubyte.gz" "$scratch/t10k-images-idx3-ubyte"; do
            echo "  $(basename "$images"):"
            python3 scripts/mutate-files.py data "$images" --trials $((trials * 2)) --launcher "$launcher" | sed 's/^/    /' \
                || failed=1
        done
    else
        echo "  skipped: $source_images is missing (apt-get install dataset-fashion-mnist)"
    fi
fi

if wanted link; then
    echo "== the link between two hosts cut under a 4-rank job, --stall-timeout 10 (target: gone within 40 s on both hosts, nothing left)"
    hosts="$scratch/hosts"
    if bash scripts/two-hosts.sh up "$hosts" 2>"$scratch/hosts.err"; then
        within=0
        for trial in $(seq "$trials"); do
            run="$scratch/link-$trial"
            bash scripts/two-hosts.sh mend "$hosts"
            # shellcheck disable=SC2046 # the options are words
            # In a subshell that reports the status, so bash does not announce the killed mpirun.
            (bash scripts/two-hosts.sh run "$hosts" -- mpirun $(cat "$hosts/mpirun-options") -np 4 "$launcher" train --preset grid2d \
                --steps 1000000 --threads 1 --stall-timeout 10 --run-dir "$run" >"$run.out" 2>"$run.err" || exit $?) &
            job=$!
            target=$((10 + RANDOM % 40))
            if ! wait_for_step "$run" "$target"; then
                echo "  trial $trial: the job did not reach step $target; its errors:"; sed 's/^/    /' "$run.err" | tail -5
                kill -9 "$job" 2>/dev/null || true; continue
            fi
            cut=$(date +%s.%N)
            bash scripts/two-hosts.sh cut "$hosts"
            status=0; wait "$job" || status=$?
            ended=$(echo "$(date +%s.%N) - $cut" | bc)
            for _ in $(seq 300); do [ -z "$(bash scripts/two-hosts.sh pids "$hosts")" ] && break; sleep 0.1; done
            gone=$(echo "$(date +%s.%N) - $cut" | bc)
            left=$(bash scripts/two-hosts.sh pids "$hosts" | wc -l)
            named=$(grep -c "rank 0 has not heard from 2 ranks: rank 2 (host nodeb)" "$run.err" || true)
            printf '  trial %d: cut at step %d; mpirun ended after %.1f s (status %d), every process gone after %.1f s, %d left, ranks 2 and 3 named: %s\n' \
                "$trial" "$target" "$ended" "$status" "$gone" "$left" "$([ "$named" -gt 0 ] && echo yes || echo no)"
            if (( $(echo "$gone < 40" | bc) )) && [ "$left" -eq 0 ] && [ "$status" -ne 0 ] && [ "$named" -gt 0 ]; then within=$((within + 1)); fi
            bash scripts/two-hosts.sh pids "$hosts" | xargs -r kill -9 2>/dev/null || true
        done
        bash scripts/two-hosts.sh down "$hosts"
        echo "  $within of $trials trials ended within the bound on both hosts, named the ranks behind the link and left nothing"
    else
        echo "  skipped: $(cat "$scratch/hosts.err")"
    fi
fi

if wanted disk; then
    echo "== a full disk under the run directory (target: a clear error, no partial file, the newest checkpoint whole)"
    full="$scratch/full"
    mkdir -p "$full"
    if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=1m tmpfs "$full" 2>/dev/null; then
        umount "$full"
        clean=0
        for trial in $(seq "$trials"); do
            # Room for one to three 11 MB checkpoints beside the one being written: the disk fills
            # at a different checkpoint each time.
            size=$((12 + RANDOM % 30))
            mount -t tmpfs -o size=${size}m tmpfs "$full"
            status=0
            "$launcher" train --preset grid2d --steps 200 --checkpoint-every 10 --keep 3 --threads 1 --run-dir "$full/run" \
                >"$scratch/full.out" 2>"$scratch/full.err" || status=$?
            message=$(grep -m1 -o "No space left on device" "$scratch/full.err" || true)
            partial=$(find "$full/run" -name '*.partial-*' | wc -l)
            newest=$(ls "$full/run"/checkpoint-*.h5 2>/dev/null | tail -1)
            whole=no
            [ -n "$newest" ] && "$launcher" inspect "$newest" >/dev/null 2>&1 && whole=yes
            printf '  trial %d: %d MB disk; exit %d, "%s", %d partial file(s), newest checkpoint %s whole: %s\n' \
                "$trial" "$size" "$status" "$message" "$partial" "$(basename "${newest:-none}")" "$whole"
            if [ "$status" -ne 0 ] && [ -n "$message" ] && [ "$partial" -eq 0 ] && { [ "$whole" = yes ] || [ -z "$newest" ]; }; then
                clean=$((clean + 1))
            fi
            umount "$full"
        done
        echo "  $clean of $trials full disks ended with a clear error, no partial file and a whole newest checkpoint"
    else
        echo "  skipped: mounting a small tmpfs needs root"
    fi
fi
if wanted phase; then
    echo "== a rank stopped outside the steps, --stall-timeout 10 (target: gone within 40 s, the phase named, nothing left)"
    mpirun -np 2 "$launcher" train --preset grid2d --batch-size 20 --steps 4 --threads 1 --run-dir "$scratch/phase-start" >/dev/null
    phases=("0:reading the checkpoint|waiting for rank 0 to read the checkpoint|train --resume auto --steps 8"
            "1:evaluating|evaluating the generator|train --resume auto --steps 6 --eval-every 6"
            "1:finalizing|finalizing MPI|train --resume auto --steps 8"
            "1:all-gather|the doctor's all-gather check|doctor --output-dir $scratch")
    within=0
    for trial in $(seq "$trials"); do
        # Each trial resumes its own copy of a 4-step run.
        run="$scratch/phase-$trial"
        cp -r "$scratch/phase-start" "$run"
        IFS='|' read -r stop phase arguments <<<"${phases[$((RANDOM % ${#phases[@]}))]}"
        # shellcheck disable=SC2086 # the arguments are words
        set -- $arguments
        [ "$1" = train ] && set -- "$@" --preset grid2d --batch-size 20 --threads 1 --run-dir "$run"
        started=$(date +%s.%N)
        LEARNEDLOSS_STOP_AT="$stop" mpirun -np 2 "$launcher" "$@" --stall-timeout 10 >"$run.out" 2>"$run.err" || true
        seconds=$(echo "$(date +%s.%N) - $started" | bc)
        left=$(pgrep -f -c "$launcher (train|doctor)" || true)
        named=$(grep -c "$phase" "$run.err" || true)
        printf '  trial %d: rank %s stopped at "%s"; gone after %.1f s, %d process(es) left, phase named: %s\n' \
            "$trial" "${stop%%:*}" "${stop#*:}" "$seconds" "$left" "$([ "$named" -gt 0 ] && echo yes || echo no)"
        if (( $(echo "$seconds < 40" | bc) )) && [ "$left" -eq 0 ] && [ "$named" -gt 0 ]; then within=$((within + 1)); fi
        pkill -9 -f "$launcher (train|doctor)" 2>/dev/null || true
    done
    echo "  $within of $trials trials ended within the bound, named the phase and left nothing"
fi

if wanted supervisor; then
    echo "== a signal to a --max-restarts supervisor, or its whole job stopped (target: nothing left 10 s after the job ends)"
    clean=0
    for trial in $(seq "$trials"); do
        run="$scratch/supervised-$trial"
        what=$(shuf -n 1 -e TERM INT HUP KILL stopped)
        "$launcher" train --preset grid2d --steps 1000000 --threads 1 --processes 2 --max-restarts 0 --stall-timeout 5 \
            --run-dir "$run" >"$run.out" 2>"$run.err" &
        supervisor=$!
        wait_for_step "$run" $((5 + RANDOM % 30)) || { echo "  trial $trial: the job did not start"; kill -9 "$supervisor"; continue; }
        sent=$(date +%s.%N)
        if [ "$what" = stopped ]; then
            for pid in $(ranks_of "$run"); do kill -STOP "$pid"; done
        else
            kill -"$what" "$supervisor"
        fi
        status=0; wait "$supervisor" 2>/dev/null || status=$?
        ended=$(echo "$(date +%s.%N) - $sent" | bc)
        # A killed supervisor's job ends by itself: it gets the 10 s the target allows.
        for _ in $(seq 100); do [ -z "$(pgrep -f "run-dir $run( |$)")" ] && break; sleep 0.1; done
        gone=$(echo "$(date +%s.%N) - $sent" | bc)
        left=$(pgrep -f -c "run-dir $run( |$)" || true)
        printf '  trial %d: %s; the supervisor exited %d after %.1f s, every process gone after %.1f s, %d left\n' "$trial" \
            "$([ "$what" = stopped ] && echo "every rank stopped" || echo "SIG$what to the supervisor")" "$status" "$ended" "$gone" "$left"
        [ "$left" -eq 0 ] && clean=$((clean + 1))
        pkill -9 -f "run-dir $run( |$)" 2>/dev/null || true
    done
    echo "  $clean of $trials supervised jobs left nothing behind"
fi

if wanted lock; then
    echo "== a second job into a run directory in use (target: refused naming the holder; allowed after kill -9)"
    right=0
    for trial in $(seq "$trials"); do
        run="$scratch/locked-$trial"
        # In a subshell that reports the status, so bash does not announce the killed mpirun.
        (mpirun -np 2 "$launcher" train --preset grid2d --steps 1000000 --threads 1 --checkpoint-every 5 --run-dir "$run" >/dev/null 2>&1 \
            || exit $?) &
        job=$!
        wait_for_step "$run" 6 || { echo "  trial $trial: the job did not start"; kill -9 "$job"; continue; }
        holder=$(rank_process "$run" 0)
        second=0; "$launcher" train --resume auto --steps 10 --threads 1 --run-dir "$run" >"$run.second" 2>&1 || second=$?
        named=$(grep -c "is in use by another job (pid $holder on host" "$run.second" || true)
        pkill -9 -f "run-dir $run( |$)" 2>/dev/null || true; wait "$job" 2>/dev/null || true
        after=0; "$launcher" train --resume auto --steps 10 --threads 1 --run-dir "$run" >"$run.after" 2>&1 || after=$?
        printf '  trial %d: second job exit %d, holder named: %s; after kill -9: exit %d\n' "$trial" "$second" \
            "$([ "$named" -gt 0 ] && echo yes || echo no)" "$after"
        [ "$second" -ne 0 ] && [ "$named" -gt 0 ] && [ "$after" -eq 0 ] && right=$((right + 1))
    done
    echo "  $right of $trials second jobs refused while the first ran and allowed after it"
fi

if wanted hostile; then
    echo "== files that lie about their size (target: each refused by name, at a small peak of memory)"
    hostile="$scratch/hostile"
    mkdir -p "$hostile"
    "$launcher" train --preset grid2d --steps 1 --batch-size 20 --threads 1 --run-dir "$hostile/run" >/dev/null
    python3 - "$hostile" <<'PY'
import gzip, shutil, struct, sys, h5py
d = sys.argv[1]
header = lambda dims: bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", x) for x in dims)
open(f"{d}/overflow-idx3-ubyte", "wb").write(header([1 << 31] * 3) + b"123")
with gzip.open(f"{d}/bomb-idx3-ubyte.gz", "wb") as f:
    f.write(header([60000, 28, 28]))
    for _ in range(1024): f.write(bytes(1 << 20))
shutil.copy(f"{d}/run/checkpoint-00000001.h5", f"{d}/huge.h5")
with h5py.File(f"{d}/huge.h5", "a") as f:
    f["generator"].create_dataset("extra", shape=(1 << 40,), dtype="f4", chunks=(1 << 16,))
PY
    refused=0
    while IFS='|' read -r name file command; do
        # The peak of the one child a fresh Python waited for.
        # shellcheck disable=SC2086 # the command is words
        read -r status peak < <(python3 -c 'import resource, subprocess, sys
status = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "w")).returncode
print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$hostile/err" "$launcher" $command "$file")
        named=$(grep -c "$file" "$hostile/err" || true)
        printf '  %s: exit %d, the file named: %s, peak %d MB resident\n' "$name" "$status" "$([ "$named" -gt 0 ] && echo yes || echo no)" "$peak"
        [ "$status" -ne 0 ] && [ "$status" -lt 128 ] && [ "$named" -gt 0 ] && refused=$((refused + 1))
    done <<LIST
an IDX header of 2^93 bytes|$hostile/overflow-idx3-ubyte|train --preset dcgan28 --steps 1 --run-dir $hostile/r1 --data
a gzip bomb (1 GB of zeros, 60000 images promised)|$hostile/bomb-idx3-ubyte.gz|train --preset dcgan28 --steps 1 --run-dir $hostile/r2 --data
a checkpoint with a 2^40-element dataset|$hostile/huge.h5|inspect
LIST
    echo "  $refused of 3 hostile files refused by name"
fi
exit "$failed"
