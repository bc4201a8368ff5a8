import XCTest
@testable import Distributed

/// The collectives in a world of one: the test process itself, started without mpirun.
final class SingleProcessTests: XCTestCase {
    func testWorldOfOneWithoutMpirun() throws {
        let world = try MPIRuntime.world()
        XCTAssertEqual(world.rank, 0)
        XCTAssertEqual(world.size, 1)
        XCTAssertEqual(try world.nodeLocal().size, 1)
    }

    func testReductionsOfOneRankAreIdentity() throws {
        let world = try MPIRuntime.world()
        for op in ReductionOp.allCases {
            XCTAssertEqual(try world.allReduce(Float(2.5), op: op), 2.5)
            XCTAssertEqual(try world.allReduce(Double(-1), op: op), -1)
            XCTAssertEqual(try world.allReduce(Int32(7), op: op), 7)
            XCTAssertEqual(try world.allReduce(Int64(1) << 40, op: op), 1 << 40)
        }
    }

    func testBroadcastAndGatherOfOneRank() throws {
        let world = try MPIRuntime.world()
        var values: [Double] = [1, 2, 3]
        try world.broadcast(&values)
        XCTAssertEqual(values, [1, 2, 3])
        XCTAssertEqual(try world.broadcast(string: "grey bird"), "grey bird")
        XCTAssertEqual(try world.broadcast(bytes: []), [])
        XCTAssertEqual(try world.allGather([Int64(4), 5]), [4, 5])
        XCTAssertEqual(try world.allGather(string: "only"), ["only"])
    }

    func testFailedCallThrowsWithTheLibrarysMessage() throws {
        let world = try MPIRuntime.world()
        var values: [Float] = [1]
        XCTAssertThrowsError(try world.broadcast(&values, root: 5)) { error in
            guard let error = error as? MPIError else { return XCTFail("expected MPIError, got \(error)") }
            XCTAssertEqual(error.function, "MPI_Bcast")
            XCTAssertTrue(error.message.lowercased().contains("root"), error.message)
            XCTAssertTrue("\(error)".contains("MPI_Bcast failed"), "\(error)")
        }
    }
}
