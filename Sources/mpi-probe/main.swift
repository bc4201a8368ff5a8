import Distributed
#if canImport(Glibc)
import Glibc
#endif

// Runs the collectives under mpirun and prints one line per rank, for the
// multi-process tests to check:  rank=R size=N key=value ...
// `mpi-probe abort` makes the last rank abort while the others wait in a barrier;
// `mpi-probe stall` makes it never check in.

let world: Communicator
do { world = try MPIRuntime.world() } catch { writeToStandardError("\(error)\n"); exit(2) }

if CommandLine.arguments.dropFirst().first == "abort" {
    if world.rank == world.size - 1 { world.abort(code: 7, message: "probe abort from the last rank") }
    try world.barrier()
    print("rank=\(world.rank) passed the barrier")
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "stall" {
    // The last rank never checks in; rank 0 must name it and the job must end.
    do {
        if world.rank == world.size - 1 { sleep(600) }
        try world.checkIn("step 7", timeout: 2)
        print("rank=\(world.rank) checked in")
    } catch {
        world.abort(code: 4, message: "\(error)")
    }
    exit(0)
}

do {
    let rank = world.rank
    let sumFloat = try world.allReduce(Float(rank + 1), op: .sum)
    let sumDouble = try world.allReduce(Double(rank) * 0.5, op: .sum)
    let maxInt32 = try world.allReduce(Int32(rank * 10), op: .max)
    let minInt64 = try world.allReduce(Int64(100 - rank), op: .min)
    var vector: [Float] = [Float(rank), 1, -Float(rank)]
    try world.allReduce(&vector, op: .sum)

    var broadcastValues: [Int64] = rank == 0 ? [42, -7, 1 << 40] : [0, 0, 0]
    try world.broadcast(&broadcastValues)
    let text = try world.broadcast(string: rank == 0 ? "from root ünïcode" : "")
    let gathered = try world.allGather([Int32(rank), Int32(rank * rank)])
    let names = try world.allGather(string: String(repeating: "r", count: rank + 1))
    // Rank r gives r copies of r: rank 0 gives none, as a rank with no share of an evaluation does.
    let varying = try world.allGather(varying: [Float](repeating: Float(rank), count: rank)).flatMap { $0 }
    let local = try world.nodeLocal()

    print([
        "rank=\(rank)", "size=\(world.size)",
        "sumFloat=\(sumFloat)", "sumDouble=\(sumDouble)", "maxInt32=\(maxInt32)", "minInt64=\(minInt64)",
        "vector=\(vector.map { "\($0)" }.joined(separator: ","))",
        "broadcast=\(broadcastValues.map(String.init).joined(separator: ","))",
        "text=\(text.split(separator: " ").joined(separator: "_"))",
        "gathered=\(gathered.map(String.init).joined(separator: ","))",
        "names=\(names.joined(separator: ","))",
        "varying=\(varying.map { String(Int($0)) }.joined(separator: ","))",
        "localSize=\(local.size)",
    ].joined(separator: " "))
} catch {
    world.abort(code: 3, message: "\(error)")
}
