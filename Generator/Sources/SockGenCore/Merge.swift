// Stage 2: merge the per-architecture models. What is identical on every
// target goes into shared declarations; what differs (or is missing somewhere)
// is kept per architecture and emitted under `#if arch(...)`.

/// A value that is either the same on every architecture or differs.
public enum ArchVariant<Value: Equatable & Sendable>: Sendable {
    case shared(Value)
    /// Architecture name → value, for the architectures that have it.
    case perArch([(arch: String, value: Value)])
}

/// The merged model of all targets.
public struct MergedModel: Sendable {
    /// Architectures in generation order.
    public var arches: [String]
    public var constants: [(name: String, variant: ArchVariant<Constant>)]
    public var records: [(name: String, variant: ArchVariant<Record>)]
    public var models: [ArchModel]

    public init(models: [ArchModel]) {
        self.models = models
        arches = models.map(\.arch)
        constants = Self.merge(models.map { ($0.arch, $0.constants) })
        records = Self.merge(models.map { ($0.arch, $0.records) })
    }

    /// Merges keyed values; keys come out sorted so the output is stable.
    static func merge<Value: Equatable & Sendable>(_ perArch: [(String, [String: Value])]) -> [(name: String, variant: ArchVariant<Value>)] {
        var keys = Set<String>()
        for (_, values) in perArch { keys.formUnion(values.keys) }
        return keys.sorted().map { key in
            let present = perArch.compactMap { arch, values in values[key].map { (arch: arch, value: $0) } }
            if present.count == perArch.count, let first = present.first, present.allSatisfy({ $0.value == first.value }) {
                return (key, .shared(first.value))
            }
            return (key, .perArch(present))
        }
    }

    public var sharedConstantCount: Int {
        constants.filter { if case .shared = $0.variant { true } else { false } }.count
    }
}

extension Record {
    /// Layout equality ignores where the header came from.
    public static func == (lhs: Record, rhs: Record) -> Bool {
        lhs.cName == rhs.cName && lhs.size == rhs.size && lhs.alignment == rhs.alignment
            && lhs.fields == rhs.fields && lhs.flexibleMembers == rhs.flexibleMembers
    }
}
