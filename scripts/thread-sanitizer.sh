#!/usr/bin/env bash
# The tests that touch threads, once more under ThreadSanitizer, in a build of their own
# (.build/tsan): the phases and OpenMP loops of a training step, Adam split over threads, and a
# 2-rank job whose ranks run the heartbeat, watchdog and gradient-reduction threads beside the
# step (the tests find the sanitized launcher beside their own build). A race fails the run:
# ThreadSanitizer makes a process that saw one exit with status 66, the test process and every rank.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/mpi-env.sh
swift build --build-tests --sanitize=thread --scratch-path .build/tsan
swift test --skip-build --sanitize=thread --scratch-path .build/tsan --disable-swift-testing \
    --filter "AdversarialStepTests|OptimizerTests|DistributedTrainingTests.testProcessesFlagStartsItsOwnRanks|DistributedTrainingTests.testResumeIsExactOnTwoRanks"
