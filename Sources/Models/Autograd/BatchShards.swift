/// How the layers split a batch for `--exact` training: into equal shards of consecutive rows.
/// Every kernel runs on one shard at a time, so a sample's result never depends on which other
/// samples share its call (oneDNN picks its blocking by batch size), and every sum over the batch
/// (weight gradients, BatchNorm's statistics) is kept per shard and combined by `pairwiseSum` in
/// shard order. A rank holding shards `r·k ..< (r+1)·k` of a global batch then computes exactly
/// the subtree of the global sum that one process holding them all computes.
///
/// The count is the tape's (`Tape(shards:)`): a layer splits what it records on that tape, and
/// runs a tape-less input (inference) as one shard. Backward passes keep the count they ran with.
public enum BatchShards {
    /// The rows of each of `count` shards of a batch of `rows`; `layer` names the caller when the
    /// batch does not divide.
    static func rows(of rows: Int, shards count: Int, in layer: @autoclosure () -> String) -> [Range<Int>] {
        precondition(rows % count == 0, "\(layer()) got a batch of \(rows) rows, not a whole number of \(count) shards")
        let size = rows / count
        return (0..<count).map { $0 * size..<($0 + 1) * size }
    }
}

extension Variable {
    /// The shards a layer splits this input into: its tape's, 1 without a tape.
    public var shards: Int { tape?.shards ?? 1 }
}

/// The sum of `parts` (all of one length) as a pairwise tree in their order: part i + 1 onto part
/// i, then sums of 2 onto their left neighbours, and so on, ((p0 + p1) + (p2 + p3)) + ...; a last
/// part without a partner moves up a level as it is. For a count that is a multiple of a power
/// of two 2^j, the level-j sums are those of aligned groups of 2^j parts, which is what lets
/// ranks holding 2^j consecutive parts each combine their sums in this same tree.
@inlinable
public func pairwiseSum<Element: AdditiveArithmetic>(_ parts: [[Element]]) -> [Element] {
    precondition(!parts.isEmpty, "a pairwise sum of no parts")
    var parts = parts
    var distance = 1
    while distance < parts.count {
        for left in stride(from: 0, to: parts.count - distance, by: 2 * distance) {
            let right = parts[left + distance]
            precondition(right.count == parts[left].count, "pairwise sum of parts of \(parts[left].count) and \(right.count) elements")
            parts[left].withUnsafeMutableBufferPointer { sum in
                right.withUnsafeBufferPointer { right in
                    for index in sum.indices { sum[index] += right[index] }
                }
            }
        }
        distance *= 2
    }
    return parts[0]
}
