import Checkpoints
import Dispatch
import Distributed
import Models

/// What makes N ranks train one model: the same starting state everywhere (here), gradients
/// averaged over the ranks (GradientAveraging.swift), and BatchNorm statistics over the global
/// batch (SynchronizedBatchNorm.swift).
final class DataParallel {
    let world: Communicator
    /// The size of the buckets reduced on the reduction thread (`--bucket-mb`); 0 reduces a phase's
    /// gradients in one message after its backward pass.
    let bucketMegabytes: Float
    var bucketBytes: Int { Int(bucketMegabytes * 1_048_576) }
    /// Whether sums over the ranks follow rank order (`--exact`): the same tree on every run,
    /// whatever MPI's reduction algorithm.
    let exact: Bool
    /// Time this rank waited for gradient all-reduces (the communication that compute did not
    /// hide), and the sizes (bytes) of each phase's gradients.
    var allReduceSeconds = 0.0
    var allReduceSizes: Set<Int> = []
    /// DDP's default, for the presets that do not choose their own. On the two-host harness at
    /// 1 Gbit/s (benchmarks/README.md) a phase's buckets travel while the next phase computes what
    /// does not need the update; 25 MiB (one bucket per phase) waited as little as 1 MiB.
    static let defaultBucketMegabytes: Float = 25

    /// Every phase's gradients in one message; kept between steps, as it is as large as a network.
    var fusedGradients: [Float] = []
    /// Told where this rank waits, so a rank stuck in a collective says which one.
    var watchdog: Watchdog?
    /// Each parameter's network, by name, for the watchdog's messages.
    private var networkNames: [ObjectIdentifier: String] = [:]
    /// The first failed all-reduce of BatchNorm's statistics, which a layer cannot throw: the
    /// phase's gradient reduction throws it after the backward pass, ending the step.
    var batchNormFailure: Error?

    /// Where the buckets are reduced; nil without `MPI_THREAD_MULTIPLE`, when the gradients go in
    /// one message after the backward pass whatever `--bucket-mb` says.
    let reductionThread: ReductionThread?

    /// Collective over `world` (the reduction thread's communicator is made here).
    init(world: Communicator, bucketMegabytes: Float, exact: Bool = false) throws {
        self.world = world
        self.exact = exact
        reductionThread = world.size > 1 && bucketMegabytes > 0 ? try ReductionThread.start(world: world) : nil
        self.bucketMegabytes = reductionThread == nil ? 0 : bucketMegabytes
    }

    /// Names the networks whose gradients this reduces, for the watchdog's messages, and makes
    /// their BatchNorm layers normalise over the global batch.
    func register(_ networks: [(name: String, network: Layer)]) {
        networkNames = Dictionary(networks.flatMap { network in network.network.parameters.map { (ObjectIdentifier($0), network.name) } },
                                  uniquingKeysWith: { first, _ in first })
        for network in networks { synchronizeBatchNorm(in: network.network) }
    }

    /// Runs a collective with the watchdog told that this rank waits in `what`.
    func waiting<T>(in what: String, _ body: () throws -> T) rethrows -> T {
        watchdog?.mark("waiting in \(what)")
        defer { watchdog?.mark("computing") }
        return try body()
    }

    /// Makes every rank's parameters, buffers, counters and optimizer state equal to rank 0's, and
    /// those of `networks` that no optimizer trains (the generator's average).
    func broadcastFromRoot(_ players: [Player], networks: [Layer] = []) throws {
        guard world.size > 1 else { return }
        let entries = (players.map(\.network) + networks).flatMap { $0.state.map(\.entry) }
        let tensors = entries.filter { $0.tensor != nil }
        let counters = entries.compactMap { if case .counter(let counter) = $0 { counter } else { nil } }
        // One message for all floats: parameters and buffers, then each optimizer's moments.
        var flat = tensors.flatMap { $0.tensor!.scalars }
        for player in players {
            flat += player.optimizer.firstMoments.flatMap(\.scalars) + player.optimizer.secondMoments.flatMap(\.scalars)
        }
        try world.broadcast(&flat)
        var integers = counters.map(\.value) + players.map { Int64($0.optimizer.stepCount) }
        try world.broadcast(&integers)

        var offset = 0
        func take(_ shape: [Int]) -> Tensor {
            let count = shape.reduce(1, *)
            defer { offset += count }
            return Tensor(shape: shape, scalars: Array(flat[offset..<offset + count]))
        }
        for entry in tensors { entry.tensor = take(entry.tensor!.shape) }
        for (counter, value) in zip(counters, integers) { counter.value = value }
        for (index, player) in players.enumerated() {
            let shapes = player.optimizer.parameters.map(\.value.shape)
            let first = shapes.map(take), second = shapes.map(take)
            try player.optimizer.restore(stepCount: Int(integers[counters.count + index]), firstMoments: first, secondMoments: second)
        }
    }

    /// The names of the networks `parameters` belong to, for messages.
    func networks(of parameters: [Parameter]) -> String {
        let names = Set(parameters.compactMap { networkNames[ObjectIdentifier($0)] }).sorted().joined(separator: " and ")
        return names.isEmpty ? "network" : names
    }
}
