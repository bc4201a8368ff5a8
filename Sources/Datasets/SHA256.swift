import Foundation

/// SHA-256 (FIPS 180-4) of a file, streamed: the identity of a weights file the user gives, which
/// the results record, so that a figure says which network produced it. Written here because the
/// toolchain has no hash library on Linux and the algorithm is a page.
public enum SHA256 {
    /// The lower-case hex digest of the file at `path`, read 1 MiB at a time.
    public static func hex(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DataError("\(path): cannot open to checksum it") }
        defer { try? handle.close() }
        var state = State()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { state.update(chunk) }
        return state.finish().map { String(format: "%02x", $0) }.joined()
    }

    /// The lower-case hex digest of `bytes`.
    public static func hex(of bytes: [UInt8]) -> String {
        var state = State()
        state.update(Data(bytes))
        return state.finish().map { String(format: "%02x", $0) }.joined()
    }

    private struct State {
        var hash: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var pending: [UInt8] = []
        var length: UInt64 = 0

        mutating func update(_ data: Data) {
            length &+= UInt64(data.count)
            pending.append(contentsOf: data)
            let whole = pending.count / 64 * 64
            let bytes = pending
            bytes.withUnsafeBufferPointer { bytes in
                for start in stride(from: 0, to: whole, by: 64) { compress(bytes.baseAddress! + start) }
            }
            pending = Array(bytes[whole...])
        }

        mutating func finish() -> [UInt8] {
            let bits = length &* 8
            var tail = pending + [0x80]
            while tail.count % 64 != 56 { tail.append(0) }
            tail += (0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * $0)) }
            tail.withUnsafeBufferPointer { bytes in
                for start in stride(from: 0, to: tail.count, by: 64) { compress(bytes.baseAddress! + start) }
            }
            return hash.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * $0)) } }
        }

        private mutating func compress(_ block: UnsafePointer<UInt8>) {
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for i in 0..<16 {
                    let b = block + 4 &* i
                    w[i] = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
                }
                for i in 16..<64 {
                    let (x, y) = (w[i &- 15], w[i &- 2])
                    let s0 = (x >> 7 | x << 25) ^ (x >> 18 | x << 14) ^ (x >> 3)
                    let s1 = (y >> 17 | y << 15) ^ (y >> 19 | y << 13) ^ (y >> 10)
                    w[i] = w[i &- 16] &+ s0 &+ w[i &- 7] &+ s1
                }
                var (a, b, c, d, e, f, g, h) = (hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7])
                Self.k.withUnsafeBufferPointer { k in
                    for i in 0..<64 {
                        let sigma1 = (e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)
                        let t1 = h &+ sigma1 &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
                        let sigma0 = (a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)
                        let t2 = sigma0 &+ ((a & b) ^ (a & c) ^ (b & c))
                        (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                    }
                }
                hash[0] &+= a; hash[1] &+= b; hash[2] &+= c; hash[3] &+= d
                hash[4] &+= e; hash[5] &+= f; hash[6] &+= g; hash[7] &+= h
            }
        }

        private static let k: [UInt32] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
            0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
            0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
            0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
            0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
            0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
        ]
    }
}
