/// The few protocol-buffer encodings an `Event` needs, written by hand: a dependency on a protobuf
/// runtime and generated code for TensorFlow's `event.proto` would be far larger than the five
/// message types and four wire types used here.
struct ProtocolBuffer {
    private(set) var bytes: [UInt8] = []

    /// A field's key: its number and wire type (0 varint, 1 64-bit, 2 length-delimited, 5 32-bit).
    private mutating func key(_ field: Int, wireType: UInt8) { varint(UInt64(field) << 3 | UInt64(wireType)) }

    private mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func integer(_ field: Int, _ value: Int64) {
        key(field, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, wireType: 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, wireType: 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, wireType: 2)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtocolBuffer) -> Void) {
        var inner = ProtocolBuffer()
        build(&inner)
        bytes(field, inner.bytes)
    }
}
