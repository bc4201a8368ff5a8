import Foundation

/// An error every rank of the job knows about: rank 0 reports it once and every rank exits
/// with a failure status, with no abort needed.
public struct JobFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Communicator {
    /// Runs `body` on every rank; if it throws on any rank, every rank throws a `JobFailure`
    /// with the first failing rank's message, so no rank goes on to wait for the others.
    public func agree<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        var message = ""
        do { result = try body() } catch { message = "\(error)" }
        let messages = try allGather(string: message)
        if let first = messages.firstIndex(where: { !$0.isEmpty }) {
            let everyRank = messages.allSatisfy { !$0.isEmpty }
            throw JobFailure(everyRank || size == 1 ? messages[first] : "rank \(first): \(messages[first])")
        }
        return result!
    }

    /// Runs `body` on `root` only and shares its outcome: on failure every rank throws a `JobFailure`
    /// with the root's message; on success the root's returned text reaches every rank.
    public func onRoot(_ root: Int = 0, _ body: () throws -> String) throws -> String {
        var text = "", failed: Int32 = 0
        if rank == root {
            do { text = try body() } catch { text = "\(error)"; failed = 1 }
        }
        var flag = [failed]
        try broadcast(&flag, root: root)
        let shared = try broadcast(string: text, root: root)
        if flag[0] != 0 { throw JobFailure(shared) }
        return shared
    }
}

extension Communicator {
    /// `onRoot` for any Codable value: runs `body` on `root` only and returns its result on every rank.
    public func valueFromRoot<T: Codable>(_ root: Int = 0, _ body: () throws -> T) throws -> T {
        let text = try onRoot(root) { String(decoding: try JSONEncoder().encode([try body()]), as: UTF8.self) }
        return try JSONDecoder().decode([T].self, from: Data(text.utf8))[0]
    }
}
