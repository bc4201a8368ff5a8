import Dispatch
import Distributed
import Models

extension DataParallel: GradientReduction {
    /// Starts averaging the gradients of `parameters`: in buckets on the reduction thread as the
    /// backward pass completes them, or in one fused all-reduce after it.
    func start(_ parameters: [Parameter]) -> any GradientsInFlight {
        guard world.size > 1 else { return SingleProcess() }
        if let reductionThread {
            return OverlappedGradients(parallel: self, thread: reductionThread, parameters: parameters)
        }
        return FusedGradients(parallel: self, parameters: parameters)
    }

    /// Throws the failure of a BatchNorm all-reduce during the phase, if there was one.
    func checkBatchNorm() throws {
        if let batchNormFailure { throw batchNormFailure }
    }

    /// Runs `wait` with the watchdog told it waits for `parameters`' all-reduce, adding its time
    /// to `allReduceSeconds`.
    func timingAllReduce(of parameters: [Parameter], _ wait: () throws -> Void) throws {
        let started = DispatchTime.now()
        try waiting(in: "the all-reduce of the \(networks(of: parameters))'s gradients", wait)
        allReduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
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
    static let rankOrderedSummation: ReductionThread.Summation = { communicator, values throws(MPIError) in
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
}

/// A phase's gradients in one all-reduce after its backward pass (`--bucket-mb 0`, or an MPI
/// without `MPI_THREAD_MULTIPLE`).
final class FusedGradients: GradientsInFlight {
    private unowned let parallel: DataParallel
    private let parameters: [Parameter]
    var watched: [Parameter] { [] }

    init(parallel: DataParallel, parameters: [Parameter]) { (self.parallel, self.parameters) = (parallel, parameters) }

    func finished(_ parameters: [Parameter]) {}

    /// Averages every gradient now; nothing is left travelling.
    func sendRest() throws -> Bool {
        try parallel.checkBatchNorm()
        let (world, parameters) = (parallel.world, self.parameters)
        let total = parameters.reduce(0) { $0 + $1.gradient.count }
        if parallel.fusedGradients.count < total { parallel.fusedGradients = [Float](repeating: 0, count: total) }
        try parallel.fusedGradients.withUnsafeMutableBufferPointer { buffer in
            DataParallel.pack(parameters, into: buffer)
            try parallel.timingAllReduce(of: parameters) {
                let gradients = UnsafeMutableBufferPointer(rebasing: buffer[0..<total])
                if parallel.exact {
                    _ = gradients.update(fromContentsOf: try DataParallel.rankOrderedSum(Array(gradients), over: world))
                } else {
                    try world.allReduce(gradients, op: .sum)
                }
            }
            DataParallel.unpackMeans(buffer, into: parameters, ranks: world.size)
        }
        parallel.allReduceSizes.insert(total * MemoryLayout<Float>.size)
        return false
    }

    func wait() {}
}

/// A phase's gradients reduced in buckets while its backward pass runs, as DDP does: parameters
/// join the open bucket as the pass completes their gradients (the last layers first), and a full
/// bucket starts its all-reduce on the reduction thread. The buckets form in the same order on
/// every rank, since every rank runs the same pass. Under `--exact` a parameter's shard gradients
/// are combined when it completes, and its bucket is summed in rank order (`summation`).
final class OverlappedGradients: GradientsInFlight {
    let watched: [Parameter]
    private unowned let parallel: DataParallel
    private let thread: ReductionThread
    private let bucketBytes: Int
    private let summation: ReductionThread.Summation?
    private var open: [Parameter] = []
    private var openBytes = 0
    private var started: [(reduction: PendingAllReduce, parameters: [Parameter])] = []

    init(parallel: DataParallel, thread: ReductionThread, parameters: [Parameter]) {
        (self.parallel, self.thread, watched) = (parallel, thread, parameters)
        bucketBytes = parallel.bucketBytes
        summation = parallel.exact ? DataParallel.rankOrderedSummation : nil
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
    /// their order; the buckets travel on.
    func sendRest() throws -> Bool {
        try parallel.checkBatchNorm()
        let reached = Set((started.flatMap(\.parameters) + open).map(ObjectIdentifier.init))
        open += watched.filter { !reached.contains(ObjectIdentifier($0)) }
        startOpenBucket()
        parallel.allReduceSizes.insert(watched.reduce(0) { $0 + $1.gradient.count } * MemoryLayout<Float>.size)
        return true
    }

    /// Waits for every bucket and puts the means back into the gradients.
    func wait() throws {
        try parallel.timingAllReduce(of: watched) {
            for (reduction, parameters) in started {
                try reduction.wait()
                DataParallel.unpackMeans(reduction.values, into: parameters, ranks: parallel.world.size)
            }
        }
        started = []
    }
}
