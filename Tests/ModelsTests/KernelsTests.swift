import Foundation
import Models
import TestSupport
import XCTest

/// The process-wide kernel settings: one thread count for both libraries, and the work counter
/// that `launcher bench` reports.
final class KernelsTests: XCTestCase {
    func testThreadsAreSetForOpenBLASAndOneDNNTogether() {
        let before = Kernels.threads
        defer { Kernels.threads = before }
        for threads in [1, 2] {
            Kernels.threads = threads
            XCTAssertEqual(BLAS.threads, threads)
            XCTAssertEqual(DNNL.threads, threads)
        }
    }

    /// Forward, backward data and backward weights each do 2·N·Cin·Cout·k²·OH·OW operations.
    func testConvolutionWorkIsCountedPerPass() {
        var random = Sample.stream
        let layer = Conv2d(16, 32, kernel: 4, stride: 2, padding: 1, random: &random)
        let tape = Tape()
        let x = tape.variable(Sample.tensor([3, 16, 8, 8], seed: 31), requiresGradient: true)
        let before = Kernels.floatOperations
        let y = layer(x)
        let forward = Kernels.floatOperations - before
        XCTAssertEqual(forward, 2 * 3 * 16 * 32 * 16 * 4 * 4)
        tape.backward(from: y.mean())
        XCTAssertEqual(Kernels.floatOperations - before, 3 * forward)
        let implementations = Kernels.convolutionImplementations(in: [layer, Linear(2, 2, random: &random)])
        XCTAssertEqual(implementations.count, 1, "\(implementations)")
        XCTAssertTrue(implementations[0].contains(":"), "oneDNN names its kernels kind:isa, got \(implementations)")
    }

    /// A bit-exact resume needs oneDNN to repeat itself: the same step twice, on two threads,
    /// gives the same bits (backward weights is where a threaded reduction could reorder sums).
    func testConvolutionStepsRepeatBitForBitOnTwoThreads() {
        let before = Kernels.threads
        defer { Kernels.threads = before }
        Kernels.threads = 2
        func step() -> [[Float]] {
            var random = Sample.stream
            let network = Sequential([
                Conv2d(64, 128, kernel: 4, stride: 2, padding: 1, random: &random), BatchNorm(128), LeakyReLU(slope: 0.2),
                ConvTranspose2d(128, 64, kernel: 4, stride: 2, padding: 1, random: &random), Flatten(), Linear(64 * 14 * 14, 1, random: &random),
            ])
            let tape = Tape()
            let x = tape.variable(Sample.tensor([16, 64, 14, 14], seed: 32), requiresGradient: true)
            tape.backward(from: network(x).mean())
            return network.parameters.map(\.gradient.scalars) + [x.gradient!.scalars]
        }
        let first = step(), second = step()
        XCTAssertEqual(first.count, second.count)
        for (index, (a, b)) in zip(first, second).enumerated() {
            XCTAssertTrue(a == b, "gradient \(index) differs between two identical steps on 2 threads")
        }
    }

    /// The instruction set oneDNN reports is one this CPU has, and the best it has among those
    /// LearnedLoss names, unless the environment caps it.
    func testInstructionSetFollowsTheCPUFlags() throws {
        let environment = ProcessInfo.processInfo.environment
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let isa = DNNL.instructionSet
        if !flags.contains("avx512f") { XCTAssertFalse(isa.hasPrefix("avx512"), "\(isa) on a CPU without AVX-512") }
        if !flags.contains("avx512_bf16") { XCTAssertFalse(isa.contains("bf16"), "\(isa) on a CPU without AVX512_BF16") }
        guard environment["ONEDNN_MAX_CPU_ISA"] == nil && environment["DNNL_MAX_CPU_ISA"] == nil else { return }
        if flags.contains("avx512_bf16") && flags.contains("avx512_vnni") {
            XCTAssertTrue(isa.hasPrefix("avx512_core_bf16") || isa.hasPrefix("avx512_core_amx"), isa)
        } else if flags.contains("avx512f") && flags.contains("avx512bw") {
            XCTAssertTrue(isa.hasPrefix("avx512_core"), isa)
        } else if flags.contains("avx2") {
            XCTAssertTrue(isa.hasPrefix("avx2"), isa)
        }
        XCTAssertEqual(DNNL.version.split(separator: ".").compactMap { Int($0) }.count, 3, DNNL.version)
    }
}
