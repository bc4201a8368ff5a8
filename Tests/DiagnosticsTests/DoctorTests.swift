import TestSupport
import XCTest
@testable import Diagnostics
import Distributed
import Models

final class DoctorTests: XCTestCase {
    func testReportsOkOnOneRankInProcess() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var printed: [String] = []
        Kernels.threads = 1
        let passed = try Doctor(world: try MPIRuntime.world(), outputDirectory: scratch.path).run { printed.append($0) }
        XCTAssertTrue(passed, printed.joined())
        let report = try XCTUnwrap(printed.first)
        XCTAssertTrue(report.contains("1 rank on 1 host"), report)
        XCTAssertEqual(report.split(separator: "\n").last, "ok", report)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [], "the check cleans up its file")
    }

    func testGemmMatchesNaiveLoop() {
        XCTAssertNil(Doctor.checkGemm())
    }

    func testRankRanges() {
        XCTAssertEqual(Doctor.ranges([0, 1, 2, 5, 7, 8]), "0-2, 5, 7-8")
        XCTAssertEqual(Doctor.ranges([3]), "3")
        XCTAssertEqual(Doctor.ranges([]), "")
    }

    func testDoctorOnTwoRanks() throws { try checkHealthy(ranks: 2) }
    func testDoctorOnFourRanks() throws { try checkHealthy(ranks: 4) }

    func testBrokenHDF5CheckNamesTheFailureAndEndsEveryRank() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let notADirectory = scratch.file("plain-file")
        XCTAssertTrue(FileManager.default.createFile(atPath: notADirectory, contents: Data()))
        let result = try Subprocess.mpirun(ranks: 4, "launcher", ["doctor", "--output-dir", notADirectory], timeout: 120)
        XCTAssertFalse(result.timedOut, "a rank was left hanging")
        XCTAssertNotEqual(result.status, 0)
        let output = result.standardOutput
        XCTAssertTrue(output.contains("hdf5          FAILED on rank 0-3"), output)
        XCTAssertTrue(output.contains("\(notADirectory): not a directory"), output)
        XCTAssertTrue(output.contains("all-reduce    ok"), output)
        XCTAssertTrue(output.hasSuffix("FAILED: 1 of 6 checks\n"), output)
    }

    func testUsageErrorIsPrintedOnce() throws {
        let result = try Subprocess.mpirun(ranks: 2, "launcher", ["doctor", "--threads", "0"], timeout: 60)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.standardError.components(separatedBy: "--threads must be at least 1").count - 1, 1, result.standardError)
    }

    private func checkHealthy(ranks n: Int) throws {
        let result = try Subprocess.mpirun(ranks: n, "launcher", ["doctor"])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        let output = result.standardOutput
        XCTAssertEqual(output.components(separatedBy: "LearnedLoss doctor").count - 1, 1, "printed once: \(output)")
        XCTAssertTrue(output.contains("\(n) ranks on 1 host"), output)
        XCTAssertTrue(output.contains("1 per rank") || n == 1, "threads shared among ranks: \(output)")
        for check in ["all-reduce", "broadcast", "all-gather", "gemm", "convolution", "hdf5"] {
            XCTAssertTrue(output.contains(check.padding(toLength: 14, withPad: " ", startingAt: 0) + "ok"), "\(check): \(output)")
        }
        XCTAssertTrue(output.hasSuffix("\nok\n"), output)
    }
}
