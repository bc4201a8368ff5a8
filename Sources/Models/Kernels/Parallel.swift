import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// Splits loops that are not library kernels (normalisation, elementwise maps, layout
/// conversions) over the threads a rank was given, on the OpenMP threads oneDNN's kernels use.
enum Parallel {
    /// Runs `body` on `chunks` contiguous slices of `0..<count`, concurrently when this rank has
    /// more than one thread and the work is large enough to pay for the hand-off. The slices
    /// depend only on `count` and the thread count, so results are run-to-run identical.
    static func forEach(_ count: Int, minimumWork: Int = 1 << 15, workPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(Kernels.threads, count, max(1, count * workPerItem / minimumWork))
        guard chunks > 1 else { return body(0..<count) }
        withoutActuallyEscaping(body) { body in
            var job = Job(count: count, chunks: chunks, body: body)
            withUnsafeMutablePointer(to: &job) { job in
                ThreadSanitizer.release(job)
                defer { ThreadSanitizer.acquire(job) }
                GOMP_parallel({ context in
                    ThreadSanitizer.acquire(context)
                    defer { ThreadSanitizer.release(context) }
                    let job = context!.assumingMemoryBound(to: Job.self).pointee
                    // OpenMP may give fewer threads than asked for; every chunk still runs once.
                    let (thread, team) = (Int(omp_get_thread_num()), Int(omp_get_num_threads()))
                    for chunk in stride(from: thread, to: job.chunks, by: team) {
                        job.body((job.count * chunk / job.chunks)..<(job.count * (chunk + 1) / job.chunks))
                    }
                }, job, UInt32(chunks), 0)
            }
        }
    }

    /// ThreadSanitizer's happens-before annotations, present only in a `--sanitize=thread` build:
    /// libgomp is not instrumented, so the sanitizer cannot see that its fork and join order the
    /// threads' slices after what the caller wrote before and before what it reads after.
    private enum ThreadSanitizer {
        typealias Annotation = @convention(c) (UnsafeRawPointer?) -> Void
        private static let releasing = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_release").map { unsafeBitCast($0, to: Annotation.self) }
        private static let acquiring = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_acquire").map { unsafeBitCast($0, to: Annotation.self) }
        static func release(_ address: UnsafeRawPointer?) { releasing?(address) }
        static func acquire(_ address: UnsafeRawPointer?) { acquiring?(address) }
    }

    /// What each OpenMP thread reads: the loop, and how it is cut.
    private struct Job {
        let count: Int
        let chunks: Int
        // Each thread calls it on disjoint slices; callers write only their slice's outputs.
        let body: (Range<Int>) -> Void
    }
}
