#!/usr/bin/env python3
"""Damages copies of a checkpoint or a data file and counts what `launcher` does with each.

    python3 scripts/mutate-files.py checkpoint CHECKPOINT [--trials 40] [--seed 1] [--launcher PATH]
    python3 scripts/mutate-files.py data IMAGES [--trials 40] [--seed 1] [--launcher PATH]

Each trial copies the file, damages the copy one way (a flipped bit, a few random bytes, a zeroed
range, or a range spliced in from elsewhere in the file, at a random offset; or a truncation), and
runs the launcher on it: a checkpoint through `sample`, `evaluate` and `train --resume`; a data
file (IDX, gzipped or not, or HDF5 images) through one step of `train --data`. Each run is counted
as refused (non-zero exit with a message), accepted (exit 0), crashed (killed by a signal) or hung
(still running after --timeout seconds). The script exits 1 if any run crashed or hung, or if a
damaged checkpoint was accepted. A damaged data file may be accepted: a plain IDX file carries no
checksum, so changed pixel values are still images (a gzipped one carries a CRC, HDF5 none unless
written with one). Needs a release build.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

MUTATIONS = ["flip a bit", "random bytes", "zeroed range", "spliced range", "truncation"]


def mutate(data: bytearray, kind: str, rng: random.Random) -> str:
    offset = rng.randrange(len(data))
    if kind == "flip a bit":
        bit = rng.randrange(8)
        data[offset] ^= 1 << bit
        return f"bit {bit} of byte {offset}"
    if kind == "random bytes":
        count = rng.randrange(1, 9)
        for index in range(offset, min(len(data), offset + count)):
            data[index] = rng.randrange(256)
        return f"{count} random bytes at {offset}"
    if kind == "zeroed range":
        count = rng.randrange(16, 4097)
        data[offset:offset + count] = bytes(min(count, len(data) - offset))
        return f"{count} bytes zeroed at {offset}"
    if kind == "spliced range":
        count = rng.randrange(16, 4097)
        source = rng.randrange(len(data) - count)
        piece = data[source:source + count]
        data[offset:offset + len(piece)] = piece[:len(data) - offset]
        return f"{count} bytes from {source} copied to {offset}"
    cut = rng.randrange(len(data))
    del data[cut:]
    return f"truncated to {cut} bytes"


def run(command, timeout):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hung", ""
    if result.returncode < 0:
        return "crashed", result.stderr.strip().splitlines()[-1:] or [""]
    if result.returncode == 0:
        return "accepted", ""
    message = (result.stderr.strip().splitlines() or [""])[-1]
    return ("refused", message) if message else ("refused without a message", "")


def commands(kind, launcher, damaged, scratch, trial, step):
    run_dir = os.path.join(scratch, f"run-{trial}")
    if kind == "data":
        return {"train --data": [launcher, "train", "--preset", "dcgan28", "--data", damaged, "--steps", "1", "--batch-size", "8",
                                 "--threads", "1", "--run-dir", run_dir]}
    return {
        "sample": [launcher, "sample", damaged, "--count", "4", "--out", os.path.join(scratch, "s.png")],
        "evaluate": [launcher, "evaluate", damaged],
        "train --resume": [launcher, "train", "--resume", damaged, "--run-dir", run_dir, "--threads", "1", "--steps", str(step + 1)],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["checkpoint", "data"])
    parser.add_argument("file")
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--launcher", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "launcher"))
    args = parser.parse_args()
    if not os.path.isfile(args.file):
        sys.exit(f"mutate-files.py: {args.file}: no such file")
    if not os.access(args.launcher, os.X_OK):
        sys.exit(f"mutate-files.py: {args.launcher}: no launcher there (swift build -c release)")
    base = os.path.basename(args.file)
    step = 0
    if args.kind == "checkpoint":
        if not (base.startswith("checkpoint-") and base[11:-3].isdigit()):
            sys.exit(f"mutate-files.py: {args.file}: expected a name checkpoint-<step>.h5, to resume one step past it")
        step = int(base[11:-3])
    original = open(args.file, "rb").read()
    rng = random.Random(args.seed)
    counts = {}
    examples = {}
    with tempfile.TemporaryDirectory() as scratch:
        for trial in range(args.trials):
            kind = MUTATIONS[trial % len(MUTATIONS)]
            data = bytearray(original)
            what = mutate(data, kind, rng)
            damaged = os.path.join(scratch, f"checkpoint-{trial}.h5" if args.kind == "checkpoint" else f"{trial}-{base}")
            with open(damaged, "wb") as file:
                file.write(data)
            for name, command in commands(args.kind, args.launcher, damaged, scratch, trial, step).items():
                outcome, message = run(command, args.timeout)
                counts[(name, outcome)] = counts.get((name, outcome), 0) + 1
                if outcome != "refused" or (name, outcome) not in examples:
                    examples[(name, outcome)] = f"{kind}, {what}: {message}"
                if outcome not in ("refused", "accepted") or (outcome == "accepted" and args.kind == "checkpoint"):
                    print(f"trial {trial} ({kind}, {what}): {name} {outcome}", flush=True)
            shutil.rmtree(os.path.join(scratch, f"run-{trial}"), ignore_errors=True)
            os.remove(damaged)
    for (name, outcome), count in sorted(counts.items()):
        print(f"{name:16} {outcome:26} {count:3}   e.g. {examples[(name, outcome)]}")
    total = {outcome: sum(count for (_, kind), count in counts.items() if kind == outcome)
             for outcome in ("accepted", "crashed", "hung", "refused without a message")}
    print(f"{args.trials} damaged {args.kind} files: " + ", ".join(f"{count} runs {outcome}" for outcome, count in total.items()))
    bad = total["crashed"] + total["hung"] + total["refused without a message"] + (total["accepted"] if args.kind == "checkpoint" else 0)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
