import Models

extension Dataset {
    /// Rows the fingerprint reads, spread evenly over the data set.
    static let fingerprintRows = 64

    /// What a run records of its data at the first start and checks on `--resume`: the sample
    /// count and shape, and a checksum (FNV-1a, 64 bits) of the values of 64 rows spread evenly
    /// over the set. Cheap at any size; a changed, reordered or resized data set almost surely
    /// changes it.
    public func fingerprint() throws -> String {
        let rows = count == 0 ? [] : (0..<min(count, Self.fingerprintRows)).map { $0 * count / min(count, Self.fingerprintRows) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in try batch(rows).scalars {
            var bits = value.bitPattern
            for _ in 0..<4 {
                hash = (hash ^ UInt64(bits & 0xff)) &* 0x0000_0100_0000_01b3
                bits >>= 8
            }
        }
        let hex = String(hash, radix: 16)
        return "\(count) samples of shape \(sampleShape), checksum \(String(repeating: "0", count: 16 - hex.count) + hex)"
    }
}
