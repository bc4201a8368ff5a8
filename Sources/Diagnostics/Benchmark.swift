import Checkpoints
import Datasets
import Foundation
import HDF5
import Models
import Training

/// `launcher bench`: full adversarial iterations of a preset on random data, timed after a warm-up.
public struct Benchmark {
    public struct Options: Sendable {
        public var preset: Preset = .dcgan28
        public var batchSize = 64
        public var iterations = 20
        public var warmup = 3
        public var threads = 1
        /// The image side and channels, for a preset that builds its networks for the data's (dcgan,
        /// sngan; pix2pix's inputs and targets alike).
        public var resolution: Int?, channels: Int?
        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var preset: String
        public var batchSize: Int
        public var iterations: Int
        public var threads: Int
        public var imagesPerSecond: Double
        public var millisecondsPerIteration: Double
        /// The work of matrix products and convolutions per iteration and per sample, in MFLOP.
        public var megaflopsPerSample: Double
        /// The rate of that work over the whole iteration time, in GFLOP/s.
        public var gigaflopsPerSecond: Double
        /// The matrix product's own rate (oneDNN's sgemm) on a large square product, same threads,
        /// measured in the same run: a yardstick for the machine.
        public var sgemmPeakGigaflopsPerSecond: Double
        /// The kernel libraries and what they run on this CPU, for example
        /// "oneDNN 2.6.3 (avx512_core_bf16), OpenBLAS Cooperlake".
        public var kernels: String
        /// Images per second of the data path alone, for image presets: batches of random samples
        /// assembled from 8-bit pixels in memory, with every augmentation `--augment` offers and
        /// its per-sample draws; nil for the 2-D presets.
        public var dataPathImagesPerSecond: Double?
        /// The oneDNN implementations the preset's convolutions chose (none for the 2-D presets).
        public var convolutionImplementations: [String]
        public var peakResidentMegabytes: Double
        /// Resident memory at the end minus after the warm-up: steady-state training should not grow.
        public var residentGrowthMegabytes: Double
    }

    /// The presets whose iteration is one G and one D update, which the benchmark times (with
    /// the preset's objective, its R1 penalty if it has one, and one D update per iteration).
    public static let presets = Preset.allCases.filter(\.trainsOneDiscriminator)

    let options: Options
    public init(options: Options) { self.options = options }

    public func run(progress: (String) -> Void = { _ in }) throws -> Result {
        Kernels.threads = options.threads
        var configuration = TrainingConfiguration.defaults(for: options.preset)
        (configuration.resolution, configuration.channels) = (options.resolution, options.channels)
        // One D update per iteration, whatever the preset trains with.
        configuration.discriminatorSteps = 1
        var random = RandomStream(seed: 1, purpose: .bench)
        let (networks, step) = configuration.makeTraining(random: &random)
        let batch = options.batchSize
        let real = random.uniform(shape: [batch] + configuration.sampleShape, low: -1, high: 1)
        func iterate() throws {
            _ = try step.iterate(nextBatch: { real }, noise: { _, _ in random.normal(shape: [batch, options.preset.latentSize]) })
        }

        for _ in 0..<options.warmup { try iterate() }
        let residentAfterWarmup = ResidentMemory.megabytes
        let operationsBefore = Kernels.floatOperations
        let start = DispatchTime.now()
        for index in 0..<options.iterations {
            try iterate()
            progress("iteration \(index + 1)/\(options.iterations)")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let dataPath: Double? = options.preset.takesImages ? try Benchmark.dataPathRate(sampleShape: configuration.sampleShape, batch: batch) : nil
        let operations = Double(Kernels.floatOperations - operationsBefore) / Double(options.iterations)
        return Result(
            preset: options.preset.rawValue, batchSize: batch, iterations: options.iterations, threads: options.threads,
            imagesPerSecond: Double(batch * options.iterations) / seconds,
            millisecondsPerIteration: seconds * 1000 / Double(options.iterations),
            megaflopsPerSample: operations / Double(batch) / 1e6,
            gigaflopsPerSecond: operations * Double(options.iterations) / seconds / 1e9,
            sgemmPeakGigaflopsPerSecond: Benchmark.sgemmPeak(),
            kernels: Kernels.summary,
            dataPathImagesPerSecond: dataPath,
            convolutionImplementations: Kernels.convolutionImplementations(in: networks),
            peakResidentMegabytes: ResidentMemory.peakMegabytes,
            residentGrowthMegabytes: ResidentMemory.megabytes - residentAfterWarmup)
    }

    /// Images per second of assembling `batch` random samples of 1,024 random 8-bit images of
    /// `sampleShape`, read a batch per call from an HDF5 file chunked as `launcher dataset` writes
    /// it (in the page cache by then), and augmenting them with every DiffAugment transform, draws included.
    static func dataPathRate(sampleShape: [Int], batch: Int, batches: Int = 10) throws -> Double {
        var random = RandomStream(seed: 3, purpose: .bench)
        let pixels = (0..<1024 * sampleShape.reduce(1, *)).map { _ in UInt8(random.integer(below: 256)) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("learnedloss-bench-\(getpid()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try HDF5File.create(path).root.write(pixels, shape: [1024] + sampleShape, to: "images", chunkBytes: Dataset.streamedChunkBytes)
            .setAttribute("layout", "NCHW")
        let dataset = try Dataset.images(at: path)
        let augment = DiffAugment(Set(DiffAugment.Transform.allCases))
        let start = DispatchTime.now()
        for step in 0..<batches {
            let images = try dataset.batch((0..<batch).map { _ in random.integer(below: dataset.count) })
            let draws = RandomStream.normalRows(seed: 3, purpose: .augmentReal, keys: (0..<batch).map { [UInt64(step), 0, UInt64($0)] },
                                                width: DiffAugment.drawsPerSample)
            _ = augment(Variable(images), draws: draws, real: true)
        }
        return Double(batch * batches) / (Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
    }

    /// The best of a few 1024³ `Kernels.gemm` calls, in GFLOP/s.
    static func sgemmPeak(size: Int = 1024, repeats: Int = 5) -> Double {
        var random = RandomStream(seed: 2, purpose: .sgemmPeak)
        let a = random.normal(count: size * size), b = random.normal(count: size * size)
        var c = [Float](repeating: 0, count: size * size)
        var best = 0.0
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            Kernels.gemm(m: size, n: size, k: size, a: a, lda: size, b: b, ldb: size, c: &c, ldc: size)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            best = max(best, 2 * pow(Double(size), 3) / seconds / 1e9)
        }
        return best
    }
}
