import Datasets
import Foundation
import HDF5
import Models

/// What a checkpoint records of a run, referring to the live networks and optimizers.
public struct TrainingSnapshot {

    public var configuration: TrainingConfiguration
    public var step: Int
    public var worldSize: Int
    /// Kernel threads per rank (`Kernels.threads`): with the world size, what a bit-exact continuation must repeat.
    public var threadsPerRank: Int
    public var players: [Player]
    public var sampler: EpochSampler
    /// The fixed latent batch `[N, latent]` the sample grid is drawn from.
    public var gridLatent: Tensor
    public var grid: Picture
    /// The generator's moving average, stored as `/generator_ema`; nil when the run keeps none.
    public var generatorAverage: Layer?
    /// Set for `best.h5`: the evaluation that made this checkpoint the best so far.
    public var best: BestCheckpoint?
    /// The data set's `Dataset.fingerprint()`, checked on `--resume`; nil records none.
    public var dataFingerprint: String?

    public init(configuration: TrainingConfiguration, step: Int, worldSize: Int, threadsPerRank: Int, players: [Player],
                sampler: EpochSampler, gridLatent: Tensor, grid: Picture, generatorAverage: Layer? = nil) {
        (self.configuration, self.step, self.worldSize, self.threadsPerRank) = (configuration, step, worldSize, threadsPerRank)
        (self.players, self.sampler, self.gridLatent, self.grid, self.generatorAverage) = (players, sampler, gridLatent, grid, generatorAverage)
    }
}

extension TrainingSnapshot {
    /// Writes the checkpoint atomically: a crash leaves either the old file or the whole new one.
    public func write(to path: String) throws {
        try HDF5File.writeAtomically(path) { file in
            let root = file.root
            try root.setAttribute("format", CheckpointFormat.name)
            try root.setAttribute("format_version", CheckpointFormat.version)
            try root.setAttribute("step", Int64(step))
            try root.setAttribute("preset", configuration.preset.rawValue)
            try root.setAttribute("config", try configuration.json())
            try root.setAttribute("world_size", Int64(worldSize))
            try root.setAttribute("threads_per_rank", Int64(threadsPerRank))
            try root.setAttribute("created", ISO8601DateFormatter().string(from: Date()))
            try best?.write(into: root)

            let optimizers = try root.createGroup("optimizer")
            for player in players {
                LongWork.progressed()
                try NetworkState.write(player.network, into: try root.createGroup(player.name))
                try Self.write(player.optimizer, of: player.network, into: try optimizers.createGroup(player.name))
            }
            if let generatorAverage {
                try NetworkState.write(generatorAverage, into: try root.createGroup(CheckpointFormat.generatorAverage))
            }

            let rng = try root.createGroup("rng")
            try rng.setAttribute("seed", Int64(bitPattern: configuration.seed))
            try rng.setAttribute("scheme", "counter-based streams keyed by (seed, purpose, step, sample index); no other state")
            let samplerGroup = try root.createGroup("sampler")
            try samplerGroup.setAttribute("epoch", Int64(sampler.epoch))
            try samplerGroup.setAttribute("position", Int64(sampler.position))
            try samplerGroup.setAttribute("global_batch", Int64(sampler.globalBatch))
            try samplerGroup.setAttribute("dataset_count", Int64(sampler.datasetCount))
            if let dataFingerprint { try samplerGroup.setAttribute("data_fingerprint", dataFingerprint) }

            let samples = try root.createGroup("samples")
            try samples.write(gridLatent.scalars, shape: gridLatent.shape, to: "latent")
            let image = try samples.write(grid.pixels, shape: grid.shape, to: "grid")
            try image.setAttribute("CLASS", "IMAGE")
            try image.setAttribute("IMAGE_VERSION", "1.2")
            try image.setAttribute("IMAGE_SUBCLASS", grid.channels == 1 ? "IMAGE_GRAYSCALE" : "IMAGE_TRUECOLOR")
            if grid.channels == 3 { try image.setAttribute("INTERLACE_MODE", "INTERLACE_PIXEL") }
        }
    }

    private static func write(_ optimizer: Adam, of network: Layer, into group: HDF5Group) throws {
        try group.setAttribute("step", Int64(optimizer.stepCount))
        try group.setAttribute("lr", Double(optimizer.learningRate))
        try group.setAttribute("beta1", Double(optimizer.beta1))
        try group.setAttribute("beta2", Double(optimizer.beta2))
        try group.setAttribute("eps", Double(optimizer.epsilon))
        try group.setAttribute("weight_decay", Double(optimizer.weightDecay))
        for ((name, _), (first, second)) in zip(network.parameterNames, zip(optimizer.firstMoments, optimizer.secondMoments)) {
            let moments = try group.createGroup(name)
            try moments.write(first.scalars, shape: first.shape, to: "exp_avg")
            try moments.write(second.scalars, shape: second.shape, to: "exp_avg_sq")
        }
    }
}

extension Layer {
    /// The state names of the trainable parameters, in `parameters` order.
    var parameterNames: [(String, Parameter)] {
        state.compactMap { if case .parameter(let parameter) = $0.entry { ($0.name, parameter) } else { nil } }
    }
}
