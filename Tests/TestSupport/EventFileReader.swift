import Foundation

/// Reads TensorBoard event files for the tests, independently of the TensorBoard module: its
/// own bit-by-bit CRC-32C and a generic protocol-buffer field parser.
public struct EventFileReader {
    /// One `Event`, with the fields the tests look at.
    public struct Event {
        public var wallTime = 0.0
        public var step: Int64 = 0
        public var fileVersion: String?
        /// (tag, simple_value) of each summary value that has one.
        public var scalars: [(tag: String, value: Float)] = []
        /// (tag, height, width, colorspace, encoded bytes) of each summary image.
        public var images: [(tag: String, height: Int, width: Int, channels: Int, encoded: [UInt8])] = []
        /// SessionLog status, when the event is one (1 = START).
        public var sessionStatus: Int?
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every event of the file at `path`, checking each record's length and payload checksums.
    public static func events(at path: String) throws -> [Event] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var events: [Event] = [], offset = 0
        func uint(_ at: Int, _ count: Int) -> UInt64 { (0..<count).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Malformed(description: "\(path): truncated record header at \(offset)") }
            let length = Int(uint(offset, 8))
            guard UInt32(uint(offset + 8, 4)) == maskedCRC(bytes[offset..<offset + 8]) else { throw Malformed(description: "length checksum at \(offset)") }
            let payload = offset + 12
            guard payload + length + 4 <= bytes.count else { throw Malformed(description: "\(path): truncated record at \(offset)") }
            guard UInt32(uint(payload + length, 4)) == maskedCRC(bytes[payload..<payload + length]) else { throw Malformed(description: "payload checksum at \(offset)") }
            events.append(try event(Array(bytes[payload..<payload + length])))
            offset = payload + length + 4
        }
        return events
    }

    /// CRC-32C computed bit by bit (no table), masked as TFRecord stores it.
    public static func maskedCRC<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    public static func crc32c<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0x82F6_3B78 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    /// A message's fields: number → values (varint or fixed as UInt64, length-delimited as bytes).
    enum Field { case number(UInt64), bytes([UInt8]) }

    static func fields(_ bytes: [UInt8]) throws -> [(Int, Field)] {
        var result: [(Int, Field)] = [], index = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard index < bytes.count else { throw Malformed(description: "truncated varint") }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        func fixed(_ count: Int) throws -> UInt64 {
            guard index + count <= bytes.count else { throw Malformed(description: "truncated fixed field") }
            defer { index += count }
            return (0..<count).reduce(0) { $0 | UInt64(bytes[index + $1]) << (8 * $1) }
        }
        while index < bytes.count {
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0: result.append((number, .number(try varint())))
            case 1: result.append((number, .number(try fixed(8))))
            case 5: result.append((number, .number(try fixed(4))))
            case 2:
                let length = Int(try varint())
                guard index + length <= bytes.count else { throw Malformed(description: "truncated bytes field") }
                result.append((number, .bytes(Array(bytes[index..<index + length]))))
                index += length
            default: throw Malformed(description: "wire type \(key & 7)")
            }
        }
        return result
    }

    static func event(_ bytes: [UInt8]) throws -> Event {
        var event = Event()
        for (number, field) in try fields(bytes) {
            switch (number, field) {
            case (1, .number(let bits)): event.wallTime = Double(bitPattern: bits)
            case (2, .number(let step)): event.step = Int64(bitPattern: step)
            case (3, .bytes(let text)): event.fileVersion = String(decoding: text, as: UTF8.self)
            case (5, .bytes(let summary)):
                for case (1, .bytes(let value)) in try fields(summary) {
                    var tag = ""
                    var scalar: Float?
                    var image: (Int, Int, Int, [UInt8])?
                    for (number, field) in try fields(value) {
                        switch (number, field) {
                        case (1, .bytes(let text)): tag = String(decoding: text, as: UTF8.self)
                        case (2, .number(let bits)): scalar = Float(bitPattern: UInt32(bits))
                        case (4, .bytes(let encoded)):
                            var parts = (0, 0, 0, [UInt8]())
                            for (number, field) in try fields(encoded) {
                                switch (number, field) {
                                case (1, .number(let n)): parts.0 = Int(n)
                                case (2, .number(let n)): parts.1 = Int(n)
                                case (3, .number(let n)): parts.2 = Int(n)
                                case (4, .bytes(let data)): parts.3 = data
                                default: break
                                }
                            }
                            image = parts
                        default: break
                        }
                    }
                    if let scalar { event.scalars.append((tag, scalar)) }
                    if let image { event.images.append((tag, image.0, image.1, image.2, image.3)) }
                }
            case (7, .bytes(let log)):
                for case (1, .number(let status)) in try fields(log) { event.sessionStatus = Int(status) }
            default: break
            }
        }
        return event
    }
}
