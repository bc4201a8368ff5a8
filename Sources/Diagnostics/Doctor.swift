import Checkpoints
import Distributed
import Foundation
import HDF5
import Models

/// `launcher doctor`: describes the MPI, oneDNN, OpenBLAS and HDF5 a job would run on, then
/// checks that each works on every rank.
///
/// Every rank runs every check; failures are gathered so rank 0 can name the ranks
/// that failed, and every rank returns the same verdict, so no rank is left waiting.
public struct Doctor {
    let world: Communicator
    let outputDirectory: String

    /// - Parameter outputDirectory: where each rank writes and reads back its small HDF5 file.
    /// Reports and checks the kernels with the threads the program set (`Kernels.threads`).
    public init(world: Communicator, outputDirectory: String) {
        self.world = world
        self.outputDirectory = outputDirectory
    }

    /// Prints the report from rank 0 and returns whether every check passed on every rank.
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws(MPIError) -> Bool {
        Watchdog.process?.mark("gathering every rank's environment")
        let report = try environmentReport()

        let checks: [(name: String, run: () throws(MPIError) -> String?)] = [
            ("all-reduce", checkAllReduce),
            ("broadcast", checkBroadcast),
            ("all-gather", checkAllGather),
            ("gemm", { Doctor.checkGemm() }),
            ("convolution", { Doctor.checkConvolution() }),
            ("hdf5", { self.checkHDF5() }),
        ]
        var lines = report
        var failed = 0
        for check in checks {
            Watchdog.process?.mark("running the doctor's \(check.name) check")
            let failures = try world.allGather(string: try check.run() ?? "")
            let failing = failures.indices.filter { !failures[$0].isEmpty }
            if failing.isEmpty {
                lines.append(Doctor.row(check.name, "ok"))
            } else {
                failed += 1
                // Messages differ only by rank-specific paths as a rule; the first one explains them all.
                lines.append(Doctor.row(check.name, "FAILED on rank \(Doctor.ranges(failing))"))
                lines.append(Doctor.row("", "rank \(failing[0]): \(failures[failing[0]])"))
            }
        }
        lines.append(failed == 0 ? "ok" : "FAILED: \(failed) of \(checks.count) checks")
        if world.rank == 0 { output(lines.joined(separator: "\n")) }
        Watchdog.process?.mark("finished the doctor's checks")
        return failed == 0
    }

    private func environmentReport() throws(MPIError) -> [String] {
        let hosts = try world.allGather(string: MPIRuntime.processorName)
        let threadCounts = try world.allGather([Int64(Kernels.threads)])
        let cores = try world.allGather(string: BLAS.coreName)
        let instructionSets = try world.allGather(string: DNNL.instructionSet)
        var byHost: [String: [Int]] = [:]
        for (rank, host) in hosts.enumerated() { byHost[host, default: []].append(rank) }
        let hostLines = byHost.sorted { $0.value[0] < $1.value[0] }
            .map { "\($0.key): \($0.value.count) rank\($0.value.count == 1 ? "" : "s") (\(Doctor.ranges($0.value)))" }
        return [
            "LearnedLoss doctor",
            Doctor.row("MPI", "\(MPIRuntime.libraryVersion) (MPI \(MPIRuntime.standardVersion))"),
            Doctor.row("world", "\(world.size) rank\(world.size == 1 ? "" : "s") on \(byHost.count) host\(byHost.count == 1 ? "" : "s")"),
        ] + hostLines.map { Doctor.row("  host", $0) } + [
            Doctor.row("OpenBLAS", BLAS.configuration),
            Doctor.row("  core type", Doctor.summary(cores)),
            Doctor.row("oneDNN", "\(DNNL.version) (convolutions)"),
            Doctor.row("  ISA", Doctor.summary(instructionSets)),
            Doctor.row("  threads", Doctor.summary(threadCounts.map(String.init)) + " per rank, OpenBLAS and oneDNN each"),
            Doctor.row("HDF5", HDF5File.libraryVersion),
            "checks",
        ]
    }

    private func checkAllReduce() throws(MPIError) -> String? {
        let n = world.size, r = world.rank
        var problems: [String] = []
        let triangle = n * (n - 1) / 2
        if try world.allReduce(Float(r), op: .sum) != Float(triangle) { problems.append("Float sum") }
        if try world.allReduce(Double(r), op: .sum) != Double(triangle) { problems.append("Double sum") }
        if try world.allReduce(Int32(r), op: .max) != Int32(n - 1) { problems.append("Int32 max") }
        if try world.allReduce(Int64(r) - 5, op: .min) != -5 { problems.append("Int64 min") }
        var vector = (0..<1000).map { Float($0 * (r + 1)) }
        try world.allReduce(&vector, op: .sum)
        if vector != (0..<1000).map({ Float($0 * n * (n + 1) / 2) }) { problems.append("Float vector sum") }
        return problems.isEmpty ? nil : "wrong result for " + problems.joined(separator: ", ")
    }

    private func checkBroadcast() throws(MPIError) -> String? {
        var values = world.rank == 0 ? (0..<257).map { Double($0) / 3 } : [Double](repeating: -1, count: 257)
        try world.broadcast(&values)
        let text = try world.broadcast(string: world.rank == 0 ? "learned loss ✓" : "")
        if values != (0..<257).map({ Double($0) / 3 }) { return "numbers differ from rank 0's" }
        if text != "learned loss ✓" { return "string differs from rank 0's" }
        return nil
    }

    private func checkAllGather() throws(MPIError) -> String? {
        let gathered = try world.allGather([Int32(world.rank), Int32(-world.rank)])
        let expected = (0..<world.size).flatMap { [Int32($0), Int32(-$0)] }
        return gathered == expected ? nil : "got \(gathered), expected \(expected)"
    }

    /// `cblas_sgemm` against a naive triple loop on a shape that is not a multiple of any block size.
    static func checkGemm() -> String? {
        let m = 67, n = 45, k = 131
        let a = (0..<m * k).map { Float(sin(Double($0) * 0.37)) }
        let b = (0..<k * n).map { Float(cos(Double($0) * 0.11)) }
        var c = [Float](repeating: 0, count: m * n)
        Kernels.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                worst = max(worst, abs(Double(c[i * n + j]) - sum) / max(1, abs(sum)))
            }
        }
        return worst < 1e-4 ? nil : "cblas_sgemm differs from the naive product by \(worst) (relative)"
    }

    /// oneDNN's convolution (in its blocked layout: 16 channels in, 32 out) against the
    /// definition summed in Double, on a shape that is not a multiple of any block size.
    static func checkConvolution() -> String? {
        var random = RandomStream(seed: 3, purpose: "doctor")
        let (batch, inChannels, outChannels, height, width, kernel) = (2, 16, 32, 9, 7, 3)
        let layer = Conv2d(inChannels, outChannels, kernel: kernel, stride: 2, padding: 1, random: &random)
        let x = random.normal(shape: [batch, inChannels, height, width])
        let y = layer(Variable(x)).value.converted(to: .plain)
        let (outHeight, outWidth) = (y.shape[2], y.shape[3])
        let weights = layer.weight.value.scalars
        var worst = 0.0
        for n in 0..<batch {
            for o in 0..<outChannels {
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        var sum = Double(layer.bias!.value.scalars[o])
                        for c in 0..<inChannels {
                            for ky in 0..<kernel {
                                for kx in 0..<kernel {
                                    let (iy, ix) = (oy * 2 - 1 + ky, ox * 2 - 1 + kx)
                                    guard (0..<height).contains(iy), (0..<width).contains(ix) else { continue }
                                    sum += Double(x.scalars[((n * inChannels + c) * height + iy) * width + ix])
                                        * Double(weights[((o * inChannels + c) * kernel + ky) * kernel + kx])
                                }
                            }
                        }
                        let got = Double(y.scalars[((n * outChannels + o) * outHeight + oy) * outWidth + ox])
                        worst = max(worst, abs(got - sum) / max(1, abs(sum)))
                    }
                }
            }
        }
        return worst < 1e-4 ? nil : "oneDNN's convolution differs from the definition by \(worst) (relative)"
    }

    private func checkHDF5() -> String? {
        let path = (outputDirectory as NSString).appendingPathComponent("doctor-\(getpid())-rank\(world.rank).h5")
        let values = (0..<120).map { Float($0) * 0.25 - 7 }
        do {
            try HDF5File.writeAtomically(path) { file in
                let group = try file.root.createGroup("check")
                try group.write(values, shape: [2, 3, 20], to: "values")
                try group.setAttribute("rank", Int64(world.rank))
            }
            defer { unlink(path) }
            let group = try HDF5File.open(path).root.group("check")
            let back = try group.read("values", as: Float.self)
            guard back.shape == [2, 3, 20], back.values == values else { return "\(path): read back different values" }
            guard try group.attribute("rank", as: Int64.self) == Int64(world.rank) else { return "\(path): read back a different attribute" }
            return nil
        } catch {
            return "\(error)"
        }
    }

    private static func row(_ label: String, _ value: String) -> String {
        "  " + label.padding(toLength: 14, withPad: " ", startingAt: 0) + value
    }

    /// "x" when every rank agrees, otherwise each rank's value.
    private static func summary(_ values: [String]) -> String {
        Set(values).count == 1 ? values[0] : values.enumerated().map { "rank \($0.offset): \($0.element)" }.joined(separator: ", ")
    }

    /// Sorted ranks as compact ranges: [0, 1, 2, 5] -> "0-2, 5".
    static func ranges(_ ranks: [Int]) -> String {
        var parts: [String] = []
        var start = ranks.first ?? 0, previous = start
        for rank in ranks.dropFirst() + [Int.min] {
            if rank == previous + 1 { previous = rank; continue }
            parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
            start = rank; previous = rank
        }
        return ranks.isEmpty ? "" : parts.joined(separator: ", ")
    }
}
