import Dispatch

/// Splits loops that are not matrix products over the threads a rank was given, so the
/// data movement between kernels (transposes, elementwise maps, normalisation) scales with
/// `--threads` as OpenBLAS does.
enum Parallel {
    /// Runs `body` on `chunks` contiguous slices of `0..<count`, concurrently when this rank has
    /// more than one thread and the work is large enough to pay for the hand-off.
    static func forEach(_ count: Int, minimumWork: Int = 1 << 15, workPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(BLAS.threads, count, max(1, count * workPerItem / minimumWork))
        guard workers > 1 else { return body(0..<count) }
        withoutActuallyEscaping(body) { body in
            // Each worker gets a disjoint slice; callers write only their slice's outputs.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                body((count * worker / workers)..<(count * (worker + 1) / workers))
            }
        }
    }
}
