/// The dense, 1-based position of a record in a log, assigned at append.
public struct SequenceNumber: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The number, from 1.
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }

    /// The next sequence number.
    public var next: SequenceNumber { SequenceNumber(rawValue + 1) }
}
