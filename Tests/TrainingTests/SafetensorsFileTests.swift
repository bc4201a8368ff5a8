import Checkpoints
import Foundation
import TestSupport
import XCTest

/// The safetensors reader: what the writer wrote reads back, and a file with a wrong name, shape
/// or dtype, a header past the file's end, a truncated body or sizes that overflow is refused by name.
final class SafetensorsFileTests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    let tensors = [
        Safetensors.Tensor(name: "conv.weight", shape: [2, 1, 2, 2], values: .float32((0..<8).map { Float($0) / 3 })),
        Safetensors.Tensor(name: "bn.num_batches_tracked", shape: [], values: .int64([7])),
        Safetensors.Tensor(name: "bn.bias", shape: [2], values: .float32([-1.5, 2.25])),
    ]

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = scratch.file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testWhatTheWriterWroteReadsBack() throws {
        let path = try write(try Safetensors.encode(tensors, metadata: ["format": "pt"]), "good.safetensors")
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(try file.floats("conv.weight", shape: [2, 1, 2, 2]), (0..<8).map { Float($0) / 3 })
        XCTAssertEqual(try file.floats("bn.bias", shape: [2]), [-1.5, 2.25])
        let counter = try XCTUnwrap(file.entries["bn.num_batches_tracked"])
        XCTAssertEqual([counter.dtype, "\(counter.shape)", "\(counter.bytes)"], ["I64", "[]", "8..<16"], "after bn.bias's 8 bytes, in name order")

        XCTAssertThrowsError(try file.floats("conv.bias", shape: [2])) { XCTAssertEqual("\($0)", "\(path): holds no tensor conv.bias") }
        XCTAssertThrowsError(try file.floats("conv.weight", shape: [2, 1, 3, 3])) {
            XCTAssertEqual("\($0)", "\(path): tensor conv.weight has shape [2, 1, 2, 2]; expected [2, 1, 3, 3]")
        }
        XCTAssertThrowsError(try file.floats("bn.num_batches_tracked", shape: [])) {
            XCTAssertEqual("\($0)", "\(path): tensor bn.num_batches_tracked is I64; expected F32 (float32)")
        }
        XCTAssertThrowsError(try file.require(["conv.weight": [2, 1, 2, 2], "bn.bias": [2], "fc.weight": [3, 2]], being: "the test network")) {
            XCTAssertEqual("\($0)", "\(path): holds no tensor fc.weight; expected the test network (3 tensors)")
        }
        XCTAssertThrowsError(try file.require(["conv.weight": [2, 1, 2, 2], "bn.bias": [2]], being: "the test network")) {
            XCTAssertEqual("\($0)", "\(path): holds tensor bn.num_batches_tracked, which the test network does not have")
        }
    }

    func testBrokenAndHostileFilesAreRefusedByName() throws {
        let good = try Safetensors.encode(tensors, metadata: [:])
        func refused(_ bytes: [UInt8], _ name: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let path = try write(bytes, name)
            PeakMemory.assertRefused(within: 16, name, { _ = try SafetensorsFile(path: path) }) {
                XCTAssertTrue("\($0)".hasPrefix(path + ": "), "\($0)", file: file, line: line)
                XCTAssertTrue("\($0)".contains(message), "\($0)", file: file, line: line)
            }
        }
        func header(_ json: String) -> [UInt8] {
            withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { Array($0) } + Array(json.utf8)
        }
        try refused(Array(good.prefix(5)), "short.safetensors", "5 bytes, too short for a safetensors file")
        // A header length of 2^62: past the end, refused before anything of that size exists.
        try refused(withUnsafeBytes(of: UInt64(1 << 62).littleEndian) { Array($0) } + Array(good.dropFirst(8)), "past.safetensors",
                    "its header claims 4611686018427387904 bytes, past the file's end")
        try refused(Array(good.dropLast(3)), "truncated.safetensors", "outside the file's")
        try refused(header("[1, 2]"), "list.safetensors", "its header is not a JSON object")
        try refused(header(#"{"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}}"#) + [0], "dtype.safetensors",
                    "tensor a has dtype Q7, which safetensors does not define")
        try refused(header(#"{"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}}"#) + Array(repeating: 0, count: 16),
                    "overflow.safetensors", "needs more bytes than the file holds")
        try refused(header(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}}"#) + Array(repeating: 0, count: 12),
                    "mismatch.safetensors", "needs 8 bytes, its data_offsets give 12")
        try refused(header(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#)
                    + Array(repeating: 0, count: 8), "overlap.safetensors", "(a gap or an overlap)")
        try refused(header(#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#) + Array(repeating: 0, count: 4),
                    "negative.safetensors", "with a negative size")
        try refused(header(#"{"__metadata__": {"a": 1}}"#), "metadata.safetensors", "__metadata__ must map names to strings")
    }
}
