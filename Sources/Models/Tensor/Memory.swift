import CAllocator

/// Process-wide memory settings for training.
public enum Memory {
    /// glibc hands each large allocation back to the kernel when it is freed and takes fresh
    /// zeroed pages for the next; a training step allocates the same large activations every
    /// iteration, which then costs page faults worth a sixth of the step. Keeping them in the
    /// heap lets each step reuse the last one's memory.
    public static func keepLargeAllocationsInHeap() {
        mallopt(M_MMAP_THRESHOLD, 512 << 20)
        mallopt(M_TRIM_THRESHOLD, 1 << 30)
    }
}

extension Array where Element == Float {
    /// An array of `count` elements that `initialize` must fill completely (a matrix product with
    /// beta 0, a transpose): skips zero-filling memory that is about to be overwritten.
    static func filled(count: Int, by initialize: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialize(buffer.baseAddress!)
            initialized = count
        }
    }
}
