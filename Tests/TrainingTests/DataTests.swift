import Datasets
import Foundation
import HDF5
import Models
import TestSupport
import XCTest
@testable import Training

final class DataTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    /// An IDX file of `count` images of 2×3 pixels, pixel value = image index·10 + position.
    func writeIDX(count: Int, to path: String, truncateBy: Int = 0) throws {
        var bytes: [UInt8] = [0, 0, 0x08, 3]
        for dimension in [count, 2, 3] { bytes += [0, 0, 0, UInt8(dimension)] }
        for image in 0..<count { bytes += (0..<6).map { UInt8(image * 10 + $0) } }
        try Data(bytes.dropLast(truncateBy)).write(to: URL(fileURLWithPath: path))
    }

    func testIDXPlainAndGzipped() throws {
        let plain = scratch.file("images-idx3-ubyte")
        try writeIDX(count: 4, to: plain)
        try gzip(plain)
        for path in [plain, plain + ".gz"] {
            let dataset = try Dataset.images(at: path)
            XCTAssertEqual(dataset.count, 4)
            XCTAssertEqual(dataset.sampleShape, [1, 2, 3])
            let batch = try dataset.batch([2, 0])
            XCTAssertEqual(batch.shape, [2, 1, 2, 3])
            assertClose(batch.scalars, ((20..<26).map { $0 } + (0..<6).map { $0 }).map { Float($0) / 127.5 - 1 }, rtol: 1e-6, "pixels scaled to [-1, 1]")
        }
    }

    func testFashionMNISTFromTheDebianPackage() throws {
        let path = FashionMNIST.trainingImages
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "dataset-fashion-mnist is not installed")
        let dataset = try Dataset.images(at: path)
        XCTAssertEqual(dataset.count, 60_000)
        XCTAssertEqual(dataset.sampleShape, [1, 28, 28])
        let batch = try dataset.batch(0..<16)
        XCTAssertEqual(batch.scalars.min(), -1)
        XCTAssertEqual(batch.scalars.max(), 1)
    }

    func testHDF5Images() throws {
        let path = scratch.file("images.h5")
        do {
            let file = try HDF5File.create(path)
            try file.root.write((0..<24).map { UInt8($0 * 10) }, shape: [2, 1, 3, 4], to: "images")
        }
        let dataset = try Dataset.images(at: path)
        XCTAssertEqual(dataset.sampleShape, [1, 3, 4])
        XCTAssertEqual(try dataset.batch([1]).scalars.first, Float(120) / 127.5 - 1)
        XCTAssertThrowsError(try dataset.require(sampleShape: [1, 28, 28], for: "--preset dcgan28")) { error in
            XCTAssertEqual("\(error)", "\(path): --preset dcgan28 needs samples of shape [1, 28, 28], the file holds [1, 3, 4]")
        }
    }

    func testBadImageFilesAreNamed() throws {
        let missing = scratch.file("absent.gz")
        XCTAssertThrowsError(try Dataset.images(at: missing)) { XCTAssertEqual("\($0)", "\(missing): no such file") }
        let text = scratch.file("notes.txt")
        try "not pixels".write(toFile: text, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Dataset.images(at: text)) { XCTAssertTrue("\($0)".hasPrefix("\(text): not an IDX file"), "\($0)") }
        let short = scratch.file("short-idx3-ubyte")
        try writeIDX(count: 3, to: short, truncateBy: 5)
        XCTAssertThrowsError(try Dataset.images(at: short)) {
            XCTAssertEqual("\($0)", "\(short): IDX header promises 18 bytes ([3, 2, 3]), the file holds 13")
        }
    }

    /// Headers whose sizes overflow or exceed what the file can hold, and a gzip bomb, are refused
    /// by name before their data is read past the header's promise, each at a peak of at most 16 MB
    /// above where the process stood (the bomb inflates to 64 MB; it reached 2.6 GB before).
    func testHostileIDXHeadersAndGzipBombsAreRefusedBeforeTheyCostMemory() throws {
        func header(_ dimensions: [UInt32]) -> [UInt8] {
            [0, 0, 0x08, UInt8(dimensions.count)] + dimensions.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        }
        // The measure itself sees memory: 64 MB written, then freed, shows.
        let seen = PeakMemory.growth { _ = [UInt8](repeating: 1, count: 64 << 20).reduce(0, &+) }
        XCTAssertGreaterThan(seen, 48, "PeakMemory saw \(seen) MB of a 64 MB array")
        let overflowing = scratch.file("overflow-idx3-ubyte")
        try Data(header([1 << 31, 1 << 31, 1 << 31]) + [1, 2, 3]).write(to: URL(fileURLWithPath: overflowing))
        PeakMemory.assertRefused(within: 16, "an IDX header of 2^93 bytes", { _ = try Dataset.images(at: overflowing) }) {
            XCTAssertEqual("\($0)", "\(overflowing): IDX header promises more than \(Int.max) bytes ([2147483648, 2147483648, 2147483648]), the file holds 3")
        }
        // 10^12 bytes promised by a gzip file of a few dozen bytes: refused without reading.
        let huge = scratch.file("huge-idx3-ubyte")
        try Data(header([1_000_000, 1000, 1000])).write(to: URL(fileURLWithPath: huge))
        try gzip(huge)
        PeakMemory.assertRefused(within: 16, "a gzipped IDX header of 10^12 bytes", { _ = try Dataset.images(at: huge + ".gz") }) {
            XCTAssertTrue("\($0)".hasPrefix("\(huge).gz: IDX header promises 1000000000000 bytes ([1000000, 1000, 1000]), more than a gzip file of"), "\($0)")
        }
        // A bomb: the header promises 100 images of 28×28, the stream inflates to 64 MB of zeros.
        let bomb = scratch.file("bomb-idx3-ubyte")
        try Data(header([100, 28, 28]) + [UInt8](repeating: 0, count: 64 << 20)).write(to: URL(fileURLWithPath: bomb))
        try gzip(bomb)
        PeakMemory.assertRefused(within: 16, "a gzip bomb of 64 MB as IDX images", { _ = try Dataset.images(at: bomb + ".gz") }) {
            XCTAssertEqual("\($0)", "\(bomb).gz: IDX header promises 78400 bytes ([100, 28, 28]), the file holds more (it inflates past the header's size)")
        }
        let labels = scratch.file("bomb-idx1-ubyte")
        try Data(header([10]) + [UInt8](repeating: 0, count: 1 << 20)).write(to: URL(fileURLWithPath: labels))
        try gzip(labels)
        PeakMemory.assertRefused(within: 16, "a gzip bomb of 1 MB as IDX labels", { _ = try Labels.idx(at: labels + ".gz") }) {
            XCTAssertEqual("\($0)", "\(labels).gz: IDX header promises 10 bytes ([10]), the file holds more (it inflates past the header's size)")
        }
    }

    /// Gzips `path` to `path.gz`, keeping it.
    func gzip(_ path: String) throws {
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-kf", path]
        try gzip.run()
        gzip.waitUntilExit()
        XCTAssertEqual(gzip.terminationStatus, 0, "gzip \(path)")
    }

    func testMixturesMatchPacGAN() throws {
        XCTAssertEqual(MixtureOfGaussians.grid.modes.count, 25)
        XCTAssertTrue(MixtureOfGaussians.grid.modes.contains([-4, 4]))
        XCTAssertEqual(MixtureOfGaussians.ring.modes.count, 8)
        XCTAssertEqual(MixtureOfGaussians.ring.modes[2][1], 1, accuracy: 1e-6)
        let points = MixtureOfGaussians.grid.sample(count: 2000, seed: 4, name: "grid")
        let again = MixtureOfGaussians.grid.sample(count: 2000, seed: 4, name: "grid")
        XCTAssertEqual(try points.batch(0..<2000), try again.batch(0..<2000), "generated from the seed alone")
        let batch = try points.batch(0..<2000)
        for index in 0..<2000 {
            let (x, y) = (batch.scalars[2 * index], batch.scalars[2 * index + 1])
            let nearest = MixtureOfGaussians.grid.modes.map { ($0[0] - x) * ($0[0] - x) + ($0[1] - y) * ($0[1] - y) }.min()!
            XCTAssertLessThan(nearest.squareRoot(), 0.05 * 5, "every point lies near a mode")
        }
    }

    func testBatchSplitGivesWholePacksAsEvenlyAsTheyGo() throws {
        for (batch, ranks, pack, counts) in [(100, 2, 1, [50, 50]), (100, 2, 4, [52, 48]), (100, 4, 4, [28, 24, 24, 24]),
                                             (20, 3, 1, [7, 7, 6]), (12, 3, 4, [4, 4, 4])] {
            let split = try BatchSplit(batchSize: batch, ranks: ranks, pack: pack)
            let rows = (0..<ranks).map(split.rows(of:))
            XCTAssertEqual(rows.map(\.count), counts, "\(batch) over \(ranks) in packs of \(pack)")
            XCTAssertEqual(rows.flatMap { Array($0) }, Array(0..<batch), "the ranks' rows are the batch, in order")
            let scales = (0..<ranks).map(split.lossScale(of:))
            for (scale, count) in zip(scales, counts) {
                XCTAssertEqual(scale * Float(batch) / Float(ranks), Float(count), accuracy: 1e-4, "the weight is the share over the mean share")
            }
            XCTAssertEqual(scales.reduce(0, +), Float(ranks), accuracy: 1e-6, "the weights average to 1")
        }
        XCTAssertEqual(try BatchSplit(batchSize: 100, ranks: 4).lossScale(of: 3), 1, "exactly 1 for an even split")
        XCTAssertThrowsError(try BatchSplit(batchSize: 10, ranks: 1, pack: 4)) {
            XCTAssertEqual("\($0)", "--batch-size 10 is not a whole number of packs of 4; use a multiple of 4")
        }
        XCTAssertThrowsError(try BatchSplit(batchSize: 12, ranks: 4, pack: 4)) {
            XCTAssertEqual("\($0)", "--batch-size 12 leaves some of the 4 ranks without a pack of 4; use at least 16")
        }
        XCTAssertThrowsError(try BatchSplit(batchSize: 3, ranks: 4)) {
            XCTAssertEqual("\($0)", "--batch-size 3 leaves some of the 4 ranks without a sample; use at least 4")
        }
    }

    func testSamplerOrderDoesNotDependOnTheWorldSize() throws {
        var single = try EpochSampler(seed: 9, datasetCount: 103, globalBatch: 20)
        var pairs = (0..<2).map { _ in try! EpochSampler(seed: 9, datasetCount: 103, globalBatch: 20) }
        var triples = (0..<3).map { _ in try! EpochSampler(seed: 9, datasetCount: 103, globalBatch: 20) }
        let (even, uneven) = (try BatchSplit(batchSize: 20, ranks: 2), try BatchSplit(batchSize: 20, ranks: 3))
        var seen = [Int]()
        for _ in 0..<12 {  // 5 batches an epoch: crosses two epoch boundaries
            let whole = Array(single.next())
            XCTAssertEqual((0..<2).flatMap { pairs[$0].next(rows: even.rows(of: $0)) }, whole)
            XCTAssertEqual((0..<3).flatMap { triples[$0].next(rows: uneven.rows(of: $0)) }, whole)
            seen += whole
        }
        XCTAssertEqual(Set(seen.prefix(100)).count, 100, "an epoch visits distinct samples")
        XCTAssertEqual(single.epoch, 2)
        XCTAssertEqual(single.position, 2)
        var resumed = try EpochSampler(seed: 9, datasetCount: 103, globalBatch: 20, epoch: 2, position: 2)
        XCTAssertEqual(resumed.next(), single.next())
        XCTAssertThrowsError(try EpochSampler(seed: 1, datasetCount: 10, globalBatch: 64))
    }

    func testGridAndScatterPictures() throws {
        let images = Tensor(shape: [3, 1, 2, 2], scalars: [-1, 1, 0, 1, -1, -1, -1, -1, 1, 1, 1, 1])
        let grid = Picture.grid(of: images, columns: 2)
        XCTAssertEqual(grid.width, 2 * 4 + 2)
        XCTAssertEqual(grid.height, 2 * 4 + 2)
        XCTAssertEqual(grid.pixels[2 * grid.width + 2], 0)
        XCTAssertEqual(grid.pixels[2 * grid.width + 3], 255)
        let path = scratch.file("grid.png")
        try grid.writePNG(to: path)
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8)
        XCTAssertEqual(Array(header), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let plot = Picture.scatter(of: Tensor(shape: [1, 2], scalars: [0, 0]), modes: [[1, 1]], extent: 2, size: 101)
        XCTAssertEqual(plot.pixels[50 * 101 + 50], 0, "the sample at the centre")
        XCTAssertThrowsError(try grid.writePNG(to: scratch.file("absent/grid.png")))
    }
}
