import Checkpoints
import Dispatch
import Distributed
import Models

/// What makes N ranks train one model: the same starting state everywhere, gradients averaged
/// over the ranks, and BatchNorm statistics over the global batch.
final class DataParallel: GradientReduction {
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
    private(set) var allReduceSeconds = 0.0
    private(set) var allReduceSizes: Set<Int> = []
    /// DDP's default, for the presets that do not choose their own. On the two-host harness at
    /// 1 Gbit/s (benchmarks/README.md) a phase's buckets travel while the next phase computes what
    /// does not need the update; 25 MiB (one bucket per phase) waited as little as 1 MiB.
    static let defaultBucketMegabytes: Float = 25

    /// The buckets of the backward pass under way, when they are reduced during it.
    private var overlapped: OverlappedGradients?
    /// Every phase's gradients in one message; kept between steps, as it is as large as a network.
    private var fusedGradients: [Float] = []
    /// Told where this rank waits, so a rank stuck in a collective says which one.
    var watchdog: Watchdog?
    /// Each parameter's network, by name, for the watchdog's messages.
    private var networkNames: [ObjectIdentifier: String] = [:]

    /// Where the buckets are reduced; nil without `MPI_THREAD_MULTIPLE`, when the gradients go in
    /// one message after the backward pass whatever `--bucket-mb` says.
    private let reductionThread: ReductionThread?

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
        var tensors: [(get: () -> Tensor, set: (Tensor) -> Void)] = []
        var counters: [Counter] = []
        for network in players.map(\.network) + networks {
            for (_, entry) in network.state {
                switch entry {
                case .parameter(let parameter): tensors.append(({ parameter.value }, { parameter.value = $0 }))
                case .buffer(let buffer): tensors.append(({ buffer.value }, { buffer.value = $0 }))
                case .counter(let counter): counters.append(counter)
                }
            }
        }
        // One message for all floats: parameters and buffers, then each optimizer's moments.
        var flat = tensors.flatMap { $0.get().scalars }
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
        for tensor in tensors { tensor.set(take(tensor.get().shape)) }
        for (counter, value) in zip(counters, integers) { counter.value = value }
        for (index, player) in players.enumerated() {
            let shapes = player.optimizer.parameters.map(\.value.shape)
            let first = shapes.map(take), second = shapes.map(take)
            try player.optimizer.restore(stepCount: Int(integers[counters.count + index]), firstMoments: first, secondMoments: second)
        }
    }

    func overlapping(_ parameters: [Parameter]) -> (any BackwardObserver)? {
        guard let reductionThread else { return nil }
        overlapped = OverlappedGradients(thread: reductionThread, worldSize: world.size, parameters: parameters, bucketBytes: bucketBytes,
                                         summation: exact ? Self.rankOrderedSummation : nil)
        return overlapped
    }

    /// Averages the gradients of `parameters` over the ranks: starts the last of the buckets begun
    /// during the backward pass and returns what waits for them, or reduces every gradient in one
    /// fused all-reduce now.
    func reduce(_ parameters: [Parameter]) throws -> GradientsInFlight? {
        guard world.size > 1 else { return nil }
        if let overlapped {
            self.overlapped = nil
            overlapped.startRest()
            allReduceSizes.insert(parameters.reduce(0) { $0 + $1.gradient.count } * MemoryLayout<Float>.size)
            let what = "the all-reduce of the \(networks(of: parameters))'s gradients"
            return GradientsInFlight { [self] in
                let started = DispatchTime.now()
                try waiting(in: what) { try overlapped.finish() }
                allReduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            }
        }
        let total = parameters.reduce(0) { $0 + $1.gradient.count }
        if fusedGradients.count < total { fusedGradients = [Float](repeating: 0, count: total) }
        try fusedGradients.withUnsafeMutableBufferPointer { buffer in
            Self.pack(parameters, into: buffer)
            let started = DispatchTime.now()
            try waiting(in: "the all-reduce of the \(networks(of: parameters))'s gradients") {
                let gradients = UnsafeMutableBufferPointer(rebasing: buffer[0..<total])
                if exact {
                    _ = gradients.update(fromContentsOf: try Self.rankOrderedSum(Array(gradients), over: world))
                } else {
                    try world.allReduce(gradients, op: .sum)
                }
            }
            allReduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            Self.unpackMeans(buffer, into: parameters, ranks: world.size)
        }
        allReduceSizes.insert(total * MemoryLayout<Float>.size)
        return nil
    }

    /// The sum of every rank's `values` as `pairwiseSum` adds parts, in rank order, with the traffic
    /// of an all-reduce: chunk r of every rank's values goes to rank r (all-to-all), which adds its
    /// chunks in that tree, and every rank gathers the chunks' sums back.
    static func rankOrderedSum<Scalar: MPIScalar & AdditiveArithmetic>(_ values: [Scalar], over communicator: Communicator) throws(MPIError) -> [Scalar] {
        let ranks = communicator.size
        let chunk = (values.count + ranks - 1) / ranks
        let received = try communicator.allToAll(values + [Scalar](repeating: .zero, count: chunk * ranks - values.count))
        let sums = pairwiseSum((0..<ranks).map { Array(received[$0 * chunk..<($0 + 1) * chunk]) })
        return Array(try communicator.allGather(sums).prefix(values.count))
    }

    /// `rankOrderedSum` in place, for buckets on the reduction thread.
    private static let rankOrderedSummation: ReductionThread.Summation = { communicator, values throws(MPIError) in
        let sums = try rankOrderedSum(Array(values), over: communicator)
        _ = values.update(fromContentsOf: sums)
    }

    /// Copies the gradients of `parameters` into `buffer`, one after another.
    static func pack(_ parameters: [Parameter], into buffer: UnsafeMutableBufferPointer<Float>) {
        var offset = 0
        for parameter in parameters {
            parameter.gradient.scalars.withUnsafeBufferPointer { gradient in
                _ = UnsafeMutableBufferPointer(rebasing: buffer[offset..<offset + gradient.count]).update(fromContentsOf: gradient)
            }
            offset += parameter.gradient.count
        }
    }

    /// Sets the gradients of `parameters` to the sums `pack` laid out in `buffer`, over `ranks`.
    static func unpackMeans(_ buffer: UnsafeMutableBufferPointer<Float>, into parameters: [Parameter], ranks: Int) {
        let scale = 1 / Float(ranks)
        var offset = 0
        for parameter in parameters {
            parameter.gradient.scalars.withUnsafeMutableBufferPointer { gradient in
                for index in gradient.indices { gradient[index] = buffer[offset + index] * scale }
            }
            offset += parameter.gradient.count
        }
    }

    private func networks(of parameters: [Parameter]) -> String {
        let names = Set(parameters.compactMap { networkNames[ObjectIdentifier($0)] }).sorted().joined(separator: " and ")
        return names.isEmpty ? "network" : names
    }

    /// What one bare `MPI_Allreduce` of each size the step used takes, summed (the mean of
    /// `repeats` calls each): the step's communication with nothing else around it.
    func rawAllReduceSeconds(repeats: Int = 10) throws -> Double {
        var total = 0.0
        for bytes in allReduceSizes.sorted() {
            var buffer = [Float](repeating: 1, count: bytes / MemoryLayout<Float>.size)
            try world.barrier()
            let started = DispatchTime.now()
            for _ in 0..<repeats { try world.allReduce(&buffer, op: .sum) }
            total += Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9 / Double(repeats)
        }
        return total
    }

    /// Makes every BatchNorm of `network` normalise with the statistics of the global batch.
    func synchronizeBatchNorm(in network: Layer) {
        guard world.size > 1 else { return }
        let world = self.world
        for case let layer as BatchNorm in network.allLayers {
            layer.crossReplicaSum = { [unowned self] sums in
                // A failed collective here cannot be thrown through the layer; end the job instead.
                waiting(in: "the all-reduce of BatchNorm(\(layer.features))'s batch statistics") {
                    world.endingJobOnError {
                        if exact { sums = try Self.rankOrderedSum(sums, over: world) } else { try world.allReduce(&sums, op: .sum) }
                    }
                }
            }
        }
    }
}

/// A phase's gradients reduced in buckets while its backward pass runs, as DDP does: parameters
/// join the open bucket as the pass completes their gradients (the last layers first), and a full
/// bucket starts its all-reduce on the reduction thread. The buckets form in the same order on
/// every rank, since every rank runs the same pass. Under `--exact` a parameter's shard gradients
/// are combined when it completes, and its bucket is summed in rank order (`summation`).
final class OverlappedGradients: BackwardObserver {
    let watched: [Parameter]
    private let thread: ReductionThread
    private let worldSize: Int
    private let bucketBytes: Int
    private let summation: ReductionThread.Summation?
    private var open: [Parameter] = []
    private var openBytes = 0
    private var started: [(reduction: PendingAllReduce, parameters: [Parameter])] = []

    init(thread: ReductionThread, worldSize: Int, parameters: [Parameter], bucketBytes: Int, summation: ReductionThread.Summation?) {
        (self.thread, self.worldSize, self.watched, self.bucketBytes, self.summation) = (thread, worldSize, parameters, bucketBytes, summation)
    }

    func finished(_ parameters: [Parameter]) {
        for parameter in parameters {
            parameter.combineShardGradients()
            open.append(parameter)
            openBytes += parameter.gradient.count * MemoryLayout<Float>.size
        }
        if openBytes >= bucketBytes { startOpenBucket() }
    }

    private func startOpenBucket() {
        guard !open.isEmpty else { return }
        let parameters = open
        let reduction = thread.startSum(count: parameters.reduce(0) { $0 + $1.gradient.count }, summation: summation) {
            DataParallel.pack(parameters, into: $0)
        }
        started.append((reduction, parameters))
        (open, openBytes) = ([], 0)
    }

    /// Starts what is left, and the parameters the pass never reached (their gradients are 0), in
    /// their order.
    func startRest() {
        let reached = Set((started.flatMap(\.parameters) + open).map(ObjectIdentifier.init))
        open += watched.filter { !reached.contains(ObjectIdentifier($0)) }
        startOpenBucket()
    }

    /// Waits for every bucket and puts the means back into the gradients.
    func finish() throws {
        for (reduction, parameters) in started {
            try reduction.wait()
            DataParallel.unpackMeans(reduction.values, into: parameters, ranks: worldSize)
        }
        started = []
    }
}
