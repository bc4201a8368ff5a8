import Checkpoints
import HDF5
import XCTest

/// Every difference between two checkpoints: datasets value for value, and attributes,
/// except those that name when or where a run was (`created`, `run-dir` inside `config`).
enum CheckpointComparison {
    static func differences(_ lhs: String, _ rhs: String) throws -> [String] {
        var found: [String] = []
        try compare(HDF5File.open(lhs).root, HDF5File.open(rhs).root, path: "", into: &found)
        return found
    }

    private static func compare(_ a: HDF5Group, _ b: HDF5Group, path: String, into found: inout [String]) throws {
        let (names, otherNames) = (try a.childNames(), try b.childNames())
        if names != otherNames { found.append("\(path)/: children \(names) vs \(otherNames)") }
        try compareAttributes(a, b, path: path.isEmpty ? "/" : path, into: &found)
        for name in names where otherNames.contains(name) {
            if a.isGroup(name) {
                try compare(try a.group(name), try b.group(name), path: "\(path)/\(name)", into: &found)
            } else {
                let (x, y) = (try a.read(name, as: Double.self), try b.read(name, as: Double.self))
                if x.shape != y.shape { found.append("\(path)/\(name): shape \(x.shape) vs \(y.shape)"); continue }
                if let index = x.values.indices.first(where: { x.values[$0].bitPattern != y.values[$0].bitPattern }) {
                    found.append("\(path)/\(name)[\(index)]: \(x.values[index]) vs \(y.values[index])")
                }
                try compareAttributes(try a.dataset(name), try b.dataset(name), path: "\(path)/\(name)", into: &found)
            }
        }
    }

    /// Both sides' attributes: one only the right-hand file has is a difference too.
    private static func compareAttributes(_ a: HDF5Object, _ b: HDF5Object, path: String, into found: inout [String]) throws {
        let (names, otherNames) = (try a.attributeNames(), try b.attributeNames())
        for name in otherNames where !names.contains(name) { found.append("\(path)@\(name): (missing) vs present") }
        for name in names where name != "created" {
            let (x, y): (String, String)
            if let first = try? a.stringAttribute(name) {
                (x, y) = (first, (try? b.stringAttribute(name)) ?? "(missing)")
            } else {
                (x, y) = ("\(try a.attribute(name, as: Double.self))", (try? b.attribute(name, as: Double.self)).map { "\($0)" } ?? "(missing)")
            }
            let comparable = name == "config" ? withoutRunDirectory : { $0 }
            if comparable(x) != comparable(y) { found.append("\(path)@\(name): \(x) vs \(y)") }
        }
    }

    private static func withoutRunDirectory(_ json: String) -> String {
        json.replacingOccurrences(of: #""run-dir":"[^"]*""#, with: "", options: .regularExpression)
    }
}
