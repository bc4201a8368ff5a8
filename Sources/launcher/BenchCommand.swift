import Checkpoints
import ArgumentParser
import Diagnostics
import Foundation
import Metrics
import Models
import Training

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time full adversarial iterations of a preset on random data.",
        discussion: """
            One iteration is what training does per step: a discriminator update on a real and a \
            generated batch, then a generator update through the frozen discriminator, with both Adam \
            steps. The warm-up iterations are not timed. Reports images per second, the matrix-product \
            work per image and the fraction of cblas_sgemm's peak (measured in the same run) it \
            reaches, peak resident memory, and memory growth after the warm-up.

              launcher bench --preset dcgan28 --batch-size 64 --threads 1

            With --inception FILE it times the FID Inception's pool3 features instead (docs/fid.md): \
            random colour images of --resolution pixels (default 32), resized to 299×299 as every input is.

              launcher bench --inception pt_inception-2015-12-05.safetensors --batch-size 16 --threads 1
            """
    )

    @Option(help: "The networks to time: \(Benchmark.presets.map(\.rawValue).joined(separator: ", ")).")
    var preset: Preset = .dcgan28

    @Option(help: "Samples per iteration.")
    var batchSize = 64

    @Option(help: "Timed iterations.")
    var iterations = 20

    @Option(help: "Untimed iterations first.")
    var warmup = 3

    @Option(help: "Threads for oneDNN's kernels (and OpenBLAS's).")
    var threads = 1

    @Option(help: ArgumentHelp("The side of the random images, for dcgan (a power of two from 16; default 64), sngan (32, 64 or 128; default 32) "
                               + "and pix2pix (a power of two from 32; default 256).", valueName: "pixels"))
    var resolution: Int?

    @Option(help: ArgumentHelp("The channels of the random images, for dcgan and sngan, and of pix2pix's random inputs and targets (1 or 3; default 3).",
                               valueName: "1|3"))
    var channels: Int?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Time the FID Inception's features with these weights (safetensors) instead of a preset's iteration.",
                               valueName: "file.safetensors"))
    var inception: String?

    func validate() throws {
        for (flag, value, minimum) in [("--batch-size", batchSize, 1), ("--iterations", iterations, 1), ("--warmup", warmup, 0), ("--threads", threads, 1)]
        where value < minimum {
            throw ValidationError("\(flag) must be at least \(minimum), got \(value)")
        }
        var configuration = TrainingConfiguration.defaults(for: preset)
        (configuration.resolution, configuration.channels) = (resolution, channels)
        do { try configuration.validate(data: false) } catch { throw ValidationError("\(error)") }
        guard Benchmark.presets.contains(preset) else {
            throw ValidationError("--preset \(preset.rawValue): the benchmark times the G and D iteration of \(Benchmark.presets.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        if let inception { return try timeInception(inception) }
        var options = Benchmark.Options()
        (options.preset, options.batchSize, options.iterations, options.warmup, options.threads) = (preset, batchSize, iterations, warmup, threads)
        (options.resolution, options.channels) = (resolution, channels)
        let result = try Benchmark(options: options).run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("""
            \(result.preset), batch \(result.batchSize), \(result.threads) thread\(result.threads == 1 ? "" : "s"), \(result.iterations) iterations
              images/s            \(String(format: "%.1f", result.imagesPerSecond))
              ms/iteration        \(String(format: "%.1f", result.millisecondsPerIteration))
              kernels             \(result.kernels)
              convolutions        \(result.convolutionImplementations.isEmpty ? "none" : result.convolutionImplementations.joined(separator: ", "))
              data path           \(result.dataPathImagesPerSecond.map { String(format: "%.0f images/s (batches read from 8-bit HDF5, every augmentation)", $0) } ?? "none: generated points")
              work                \(String(format: "%.1f", result.megaflopsPerSample)) MFLOP per image (matrix products and convolutions)
              rate                \(String(format: "%.1f", result.gigaflopsPerSecond)) GFLOP/s (sgemm peak here: \(String(format: "%.1f", result.sgemmPeakGigaflopsPerSecond)))
              peak memory         \(String(format: "%.0f", result.peakResidentMegabytes)) MB resident
              growth after warm-up \(String(format: "%+.1f", result.residentGrowthMegabytes)) MB
            """)
    }
}

extension Preset: ExpressibleByArgument {}

extension BenchCommand {
    /// Features per second of the FID Inception on random images, the warm-up untimed.
    func timeInception(_ path: String) throws {
        Kernels.threads = threads
        let network = try InceptionFID(weights: path)
        let side = resolution ?? 32
        let images = Tensor(shape: [batchSize, 3, side, side]) { Float(($0 &* 2_654_435_761) % 1000) / 500 - 1 }
        for _ in 0..<warmup { _ = network.features(images) }
        let started = DispatchTime.now()
        for _ in 0..<iterations { _ = network.features(images) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        let rate = Double(batchSize * iterations) / seconds
        print(String(format: "FID Inception, %d×%d colour images resized to 299×299, batch %d, %d thread%@: %.2f images/s (%.2f per thread)",
                     side, side, batchSize, threads, threads == 1 ? "" : "s", rate, rate / Double(threads)))
    }
}
