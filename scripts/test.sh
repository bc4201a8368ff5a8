#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine: system packages, a build, every test
# (the multi-process ones start real `mpirun -np 2` and `-np 4` jobs).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-packages.sh
source scripts/mpi-env.sh
swift build --build-tests
# XCTest only: the suite has no Swift Testing tests, whose runner would close on "0 tests".
swift test --skip-build --disable-swift-testing
# The tests that touch threads, again under ThreadSanitizer.
bash scripts/thread-sanitizer.sh
