import Checkpoints
import ArgumentParser
import Diagnostics
import Foundation
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
