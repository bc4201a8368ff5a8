/// A dataset that cannot be used, naming the file or setting and what was expected.
public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
