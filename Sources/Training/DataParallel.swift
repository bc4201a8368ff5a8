import Checkpoints
import Dispatch
import Distributed
import Models

/// What makes N ranks train one model: the same starting state everywhere, gradients averaged
/// over the ranks, and BatchNorm statistics over the global batch.
final class DataParallel: GradientReduction {
    let world: Communicator
    /// Time spent in gradient all-reduces, and the sizes (bytes) of those all-reduces.
    private(set) var allReduceSeconds = 0.0
    private(set) var allReduceSizes: Set<Int> = []
    /// Every phase's gradients in one message; kept between steps, as it is as large as a network.
    private var fusedGradients: [Float] = []
    /// Told where this rank waits, so a rank stuck in a collective says which one.
    var watchdog: Watchdog?
    /// Each parameter's network, by name, for the watchdog's messages.
    private var networkNames: [ObjectIdentifier: String] = [:]

    init(world: Communicator) {
        self.world = world
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

    /// Averages the gradients of `parameters` over the ranks in one fused all-reduce.
    func reduce(_ parameters: [Parameter]) throws {
        guard world.size > 1 else { return }
        let total = parameters.reduce(0) { $0 + $1.gradient.count }
        if fusedGradients.count < total { fusedGradients = [Float](repeating: 0, count: total) }
        try fusedGradients.withUnsafeMutableBufferPointer { buffer in
            var offset = 0
            for parameter in parameters {
                parameter.gradient.scalars.withUnsafeBufferPointer { gradient in
                    _ = UnsafeMutableBufferPointer(rebasing: buffer[offset..<offset + gradient.count]).update(fromContentsOf: gradient)
                }
                offset += parameter.gradient.count
            }
            let started = DispatchTime.now()
            let networks = Set(parameters.compactMap { networkNames[ObjectIdentifier($0)] }).sorted().joined(separator: " and ")
            try waiting(in: "the all-reduce of the \(networks.isEmpty ? "network" : networks)'s gradients") {
                try world.allReduce(UnsafeMutableBufferPointer(rebasing: buffer[0..<total]), op: .sum)
            }
            allReduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            let scale = 1 / Float(world.size)
            offset = 0
            for parameter in parameters {
                parameter.gradient.scalars.withUnsafeMutableBufferPointer { gradient in
                    for index in gradient.indices { gradient[index] = buffer[offset + index] * scale }
                }
                offset += parameter.gradient.count
            }
        }
        allReduceSizes.insert(total * MemoryLayout<Float>.size)
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
                    world.endingJobOnError { try world.allReduce(&sums, op: .sum) }
                }
            }
        }
    }
}
