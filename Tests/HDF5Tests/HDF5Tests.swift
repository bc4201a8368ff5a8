import CHDF5
import Foundation
import HDF5
import TestSupport
import XCTest

final class HDF5Tests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    func testDatasetsAndAttributesRoundTrip() throws {
        let path = scratch.file("round-trip.h5")
        do {
            let file = try HDF5File.create(path)
            let generator = try file.root.createGroup("generator")
            try generator.write((0..<24).map { Float($0) / 7 }, shape: [2, 3, 4], to: "0.weight")
            try generator.write([Int64(123)], shape: [], to: "1.num_batches_tracked")
            let grid = try file.root.createGroup("samples").write([UInt8](0...255), shape: [16, 16], to: "grid")
            try grid.setAttribute("CLASS", "IMAGE")
            try file.root.setAttribute("format_version", Int64(1))
            try file.root.setAttribute("learning_rate", 2e-4)
            try file.root.setAttribute("config", "{\"preset\": \"dcgan28\", \"note\": \"ünïcode\"}")
        }
        let file = try HDF5File.open(path)
        let generator = try file.root.group("generator")
        XCTAssertEqual(try generator.childNames(), ["0.weight", "1.num_batches_tracked"])
        XCTAssertEqual(try generator.read("0.weight", as: Float.self), HDF5Array(shape: [2, 3, 4], values: (0..<24).map { Float($0) / 7 }))
        XCTAssertEqual(try generator.read("1.num_batches_tracked", as: Int64.self), HDF5Array(shape: [], values: [123]))
        XCTAssertEqual(try generator.shape(of: "0.weight"), [2, 3, 4])
        XCTAssertEqual(try file.root.read("samples/grid", as: UInt8.self).values, [UInt8](0...255))
        XCTAssertEqual(try file.root.group("samples").dataset("grid").stringAttribute("CLASS"), "IMAGE")
        XCTAssertEqual(try file.root.attribute("format_version", as: Int64.self), 1)
        XCTAssertEqual(try file.root.attribute("learning_rate", as: Double.self), 2e-4)
        XCTAssertEqual(try file.root.stringAttribute("config"), "{\"preset\": \"dcgan28\", \"note\": \"ünïcode\"}")
        XCTAssertTrue(file.root.contains("samples/grid"))
        XCTAssertFalse(file.root.contains("samples/latent"))
        XCTAssertFalse(file.root.contains("discriminator/0.weight"))
    }

    /// Values carry Fletcher32 checksums and small values live under the object header's
    /// checksum: a flipped bit in either is an error naming the dataset, never a wrong value.
    func testDamagedValuesAreRefusedByTheirChecksums() throws {
        let path = scratch.file("checked.h5")
        let values = (0..<600).map { Float($0) * 0.37 - 5 }
        try HDF5File.writeAtomically(path) { file in
            try file.root.createGroup("generator").write(values, shape: [20, 30], to: "0.weight")
            try file.root.write([Int64(0x5EED_CAFE_F00D)], shape: [], to: "counter")
        }
        XCTAssertNoThrow(try HDF5File.open(path).root.verifyEveryDataset())
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        var damaged = original
        let weight = try XCTUnwrap(damaged.range(of: values[100..<108].withUnsafeBytes { Data($0) })?.lowerBound)
        damaged[weight + 2] ^= 0x04
        try damaged.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try HDF5File.open(path).root.read("generator/0.weight", as: Float.self)) { error in
            let error = error as! HDF5Error
            XCTAssertEqual(error.object, "/generator/0.weight")
            XCTAssertTrue(error.message.contains("Fletcher32"), error.message)
        }
        XCTAssertThrowsError(try HDF5File.open(path).root.verifyEveryDataset())

        damaged = original
        let counter = try XCTUnwrap(damaged.range(of: withUnsafeBytes(of: Int64(0x5EED_CAFE_F00D)) { Data($0) })?.lowerBound)
        damaged[counter] ^= 0x01
        try damaged.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try { _ = try HDF5File.open(path).root.read("counter", as: Int64.self) }(), "a compact value is checked with its header")
    }

    /// 2^44 bytes declared in chunks never written: refused by name before anything is allocated.
    func testADatasetDeclaringMoreThanTheFileHoldsIsRefusedBeforeItIsRead() throws {
        let path = scratch.file("hostile.h5")
        let file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)
        let space = H5Screate_simple(2, [1 << 40, 16], nil)
        let creation = H5Pcreate(H5P_DATASET_CREATE)
        XCTAssertGreaterThanOrEqual(H5Pset_chunk(creation, 2, [1024, 16]), 0)
        let dataset = H5Dcreate2(file, "images", H5T_NATIVE_UINT8, space, H5P_DEFAULT, creation, H5P_DEFAULT)
        XCTAssertGreaterThanOrEqual(dataset, 0)
        for (id, close) in [(dataset, H5Dclose), (creation, H5Pclose), (space, H5Sclose), (file, H5Fclose)] { XCTAssertGreaterThanOrEqual(close(id), 0) }
        let root = try HDF5File.open(path).root
        let message = "its shape [1099511627776, 16] declares 17592186044416 bytes, the file stores 0 for it"
        PeakMemory.assertRefused(within: 16, "an HDF5 dataset of 2^44 bytes, read whole", { _ = try root.read("images", as: UInt8.self) }) {
            XCTAssertTrue("\($0)".contains(message), "\($0)")
        }
        PeakMemory.assertRefused(within: 16, "an HDF5 dataset of 2^44 bytes, streamed", { _ = try root.rows("images", as: UInt8.self, cacheBytes: 1 << 20) }) {
            XCTAssertTrue("\($0)".contains(message), "\($0)")
        }
    }

    /// A group that links back to the root (a cycle, which HDF5 allows) is refused by name when the
    /// file is verified, instead of recursing until the stack runs out.
    func testALinkCycleIsRefusedWhenTheFileIsVerified() throws {
        let path = scratch.file("cycle.h5")
        let file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)
        let group = H5Gcreate2(file, "generator", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
        XCTAssertGreaterThanOrEqual(H5Lcreate_hard(file, "/", file, "generator/loop", H5P_DEFAULT, H5P_DEFAULT), 0)
        for (id, close) in [(group, H5Gclose), (file, H5Fclose)] { XCTAssertGreaterThanOrEqual(close(id), 0) }
        XCTAssertThrowsError(try HDF5File.open(path).root.verifyEveryDataset()) {
            XCTAssertTrue("\($0)".contains(path), "\($0)")
            XCTAssertTrue("\($0)".contains("groups nest more than 16 deep, as only a link cycle makes them"), "\($0)")
        }
    }

    /// A file that points elsewhere (an external link, external storage) is refused by name:
    /// every file LearnedLoss reads must hold what it says.
    func testLinksAndStorageInOtherFilesAreRefused() throws {
        let (elsewhere, linking) = (scratch.file("elsewhere.h5"), scratch.file("linking.h5"))
        try HDF5File.create(elsewhere).root.createGroup("generator").write([Float(1), 2], shape: [2], to: "0.weight")
        let file = H5Fcreate(linking, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)
        XCTAssertGreaterThanOrEqual(H5Lcreate_external(elsewhere, "/generator", file, "generator", H5P_DEFAULT, H5P_DEFAULT), 0)
        let raw = scratch.file("values.bin")
        try Data(count: 8).write(to: URL(fileURLWithPath: raw))
        let creation = H5Pcreate(H5P_DATASET_CREATE)
        XCTAssertGreaterThanOrEqual(H5Pset_external(creation, raw, 0, 8), 0)
        let space = H5Screate_simple(1, [2], nil)
        let dataset = H5Dcreate2(file, "images", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, creation, H5P_DEFAULT)
        XCTAssertGreaterThanOrEqual(dataset, 0)
        for (id, close) in [(dataset, H5Dclose), (space, H5Sclose), (creation, H5Pclose), (file, H5Fclose)] { XCTAssertGreaterThanOrEqual(close(id), 0) }

        let root = try HDF5File.open(linking).root
        XCTAssertThrowsError(try root.group("generator")) {
            XCTAssertEqual("\($0)", "\(linking):/generator: cannot open group: an external link to another file; the file must be self-contained")
        }
        XCTAssertThrowsError(try root.read("generator/0.weight", as: Float.self)) {
            XCTAssertEqual("\($0)", "\(linking):/generator: cannot open dataset: an external link to another file; the file must be self-contained")
        }
        XCTAssertThrowsError(try root.read("images", as: Float.self)) {
            XCTAssertEqual("\($0)", "\(linking):/images: cannot open dataset: its values are stored in other files; the file must be self-contained")
        }
    }

    func testMissingFileIsNamed() {
        let path = scratch.file("absent.h5")
        XCTAssertThrowsError(try HDF5File.open(path)) { error in
            XCTAssertEqual("\(error)", "\(path): cannot open file: no such file")
        }
    }

    func testFileThatIsNotHDF5IsNamed() throws {
        let path = scratch.file("notes.h5")
        try "a grey bird may be red or blue".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HDF5File.open(path)) { error in
            XCTAssertEqual("\(error)", "\(path): cannot open file: not an HDF5 file, or truncated")
        }
    }

    func testMissingObjectsAndWrongTypesAreNamed() throws {
        let path = scratch.file("small.h5")
        do {
            let file = try HDF5File.create(path)
            try file.root.write([Float(1)], shape: [1], to: "x")
            try file.root.setAttribute("name", "dcgan28")
        }
        let root = try HDF5File.open(path).root
        XCTAssertThrowsError(try root.read("y", as: Float.self)) { error in
            XCTAssertEqual("\(error)", "\(path):/y: cannot open dataset: no such dataset")
        }
        XCTAssertThrowsError(try root.group("generator")) { error in
            XCTAssertEqual("\(error)", "\(path):/generator: cannot open group: no such group")
        }
        XCTAssertThrowsError(try root.attribute("name", as: Int64.self)) { error in
            XCTAssertTrue("\(error)".contains("expected a numeric attribute"), "\(error)")
        }
        XCTAssertThrowsError(try root.stringAttribute("step")) { error in
            XCTAssertTrue("\(error)".contains("/@step: cannot read attribute: no such attribute"), "\(error)")
        }
        XCTAssertThrowsError(try root.write([Float](repeating: 0, count: 5), shape: [2, 2], to: "z")) { error in
            XCTAssertTrue("\(error)".contains("shape [2, 2] does not hold 5 values"), "\(error)")
        }
    }

    func testReadOnlyFileRefusesWrites() throws {
        let path = scratch.file("read-only.h5")
        _ = try HDF5File.create(path)
        let root = try HDF5File.open(path).root
        XCTAssertThrowsError(try root.createGroup("g")) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path):/g: cannot create group"), "\(error)")
        }
    }

    func testAtomicWriteLeavesTheGoodFileWhenTheWriterFails() throws {
        struct Interrupted: Error {}
        let path = scratch.file("checkpoint.h5")
        try HDF5File.writeAtomically(path) { try $0.root.write([Float(1), 2], shape: [2], to: "good") }
        XCTAssertThrowsError(try HDF5File.writeAtomically(path) { file in
            try file.root.write([Float(9)], shape: [1], to: "half")
            throw Interrupted()
        })
        XCTAssertEqual(try HDF5File.open(path).root.read("good", as: Float.self).values, [1, 2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), ["checkpoint.h5"], "no partial file is left")
    }

    func testAtomicWriteIntoMissingDirectoryIsNamed() {
        let path = scratch.file("absent/checkpoint.h5")
        XCTAssertThrowsError(try HDF5File.writeAtomically(path) { _ in }) { error in
            XCTAssertEqual("\(error)", "\(path): cannot create file: directory \(scratch.file("absent")): no such directory")
        }
    }

    /// The library loaded at run time is the one the module was compiled against (doctor reports
    /// it), and it is new enough for the checkpoint format (1.10: SWMR-free, Fletcher32 filters).
    func testLibraryVersionIsTheHeadersAndAtLeast1_10() {
        XCTAssertEqual(HDF5File.libraryVersion, HDF5File.headerVersion)
        let parts = HDF5File.libraryVersion.split(separator: ".").compactMap { Int($0) }
        XCTAssertEqual(parts.count, 3, HDF5File.libraryVersion)
        XCTAssertFalse(parts.lexicographicallyPrecedes([1, 10]), "HDF5 \(HDF5File.libraryVersion) is older than 1.10")
    }
}
