import Datasets
import Foundation
import HDF5
import TestSupport
import XCTest

/// A data set larger than a rank should hold: 8-bit HDF5 images are read as batches need them.
final class StreamedDataTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    /// 256 MB of 16×16 gray images, in chunks of `chunkBytes`.
    func write(_ name: String, chunkBytes: Int) throws -> String {
        let (count, size) = (1 << 20, 256)
        let pixels = [UInt8](repeating: 128, count: count * size)
        let path = scratch.file(name)
        try HDF5File.writeAtomically(path) { file in
            try file.root.write(pixels, shape: [count, 1, 16, 16], to: "images", chunkBytes: chunkBytes).setAttribute("layout", "NCHW")
        }
        return path
    }

    /// The peak resident memory a 2-rank, 2-step dcgan run on `data` reports, in MB, and its output.
    func peakOfTraining(on data: String, run: String) throws -> (megabytes: Double, output: String) {
        let result = try Subprocess.mpirun(ranks: 2, "launcher", ["train", "--preset", "dcgan", "--data", data, "--steps", "2", "--batch-size", "8",
                                                                 "--tensorboard", "false", "--run-dir", scratch.file(run)])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        let figure = try XCTUnwrap(result.standardOutput.firstMatch(of: /peak resident memory (\d+) MB/), result.standardOutput)
        return (try XCTUnwrap(Double(figure.1)), result.standardOutput)
    }

    func testA256MBFileTrainsInLessMemoryThanItsSizeAndOneInLargeChunksIsLoadedWhole() throws {
        let streamed = try peakOfTraining(on: write("streamed.h5", chunkBytes: Dataset.streamedChunkBytes), run: "streamed")
        XCTAssertLessThan(streamed.megabytes, 256, "each rank holds a batch and HDF5's 4 MiB cache, not the file")
        let large = try write("large-chunks.h5", chunkBytes: 16 << 20)
        let loaded = try peakOfTraining(on: large, run: "loaded")
        XCTAssertTrue(loaded.output.contains("\(large):/images is stored in chunks of 16384 KiB, too large to read an image at a time: "
                                             + "loading all 256 MiB"), loaded.output)
        XCTAssertGreaterThan(loaded.megabytes, streamed.megabytes + 200, "the same data loaded whole")
    }
}
