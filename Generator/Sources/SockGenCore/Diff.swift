// `make kernel-diff`: what changed between two header sets, in the terms of
// the specs: constants, structure fields, and which options became available.

public struct KernelDiff {
    public var from: ArchModel
    public var to: ArchModel
    public var fromLabel: String
    public var toLabel: String
    public var specs: Specs

    public init(from: ArchModel, to: ArchModel, fromLabel: String, toLabel: String, specs: Specs) {
        self.from = from
        self.to = to
        self.fromLabel = fromLabel
        self.toLabel = toLabel
        self.specs = specs
    }

    /// A readable report; "no differences" when the models agree.
    public func report() -> String {
        var out = "Kernel header diff for \(to.arch): \(fromLabel) -> \(toLabel)\n"
        var sections = 0

        let added = to.constants.keys.filter { from.constants[$0] == nil }.sorted()
        let removed = from.constants.keys.filter { to.constants[$0] == nil }.sorted()
        let changed = to.constants.keys.filter { name in
            guard let old = from.constants[name], let new = to.constants[name] else { return false }
            return old.value != new.value || old.type != new.type
        }.sorted()
        if !added.isEmpty {
            sections += 1
            out += "\nConstants added (\(added.count)):\n"
            for name in added { out += "  + \(name) = \(to.constants[name]!.literal) (\(to.constants[name]!.type.rawValue), [\(to.constants[name]!.group)])\n" }
        }
        if !removed.isEmpty {
            sections += 1
            out += "\nConstants removed (\(removed.count)):\n"
            for name in removed { out += "  - \(name) = \(from.constants[name]!.literal)\n" }
        }
        if !changed.isEmpty {
            sections += 1
            out += "\nConstants changed (\(changed.count)):\n"
            for name in changed {
                let old = from.constants[name]!, new = to.constants[name]!
                out += "  ~ \(name): \(old.literal) (\(old.type.rawValue)) -> \(new.literal) (\(new.type.rawValue))\n"
            }
        }

        for spec in specs.structs.sorted(by: { $0.cName < $1.cName }) {
            let old = from.records[spec.cName], new = to.records[spec.cName]
            guard old != new else { continue }
            sections += 1
            out += "\nstruct \(spec.cName) (\(spec.swiftName)):\n"
            guard let old, let new else {
                out += old == nil ? "  added: \(new!.size) bytes\n" : "  removed\n"
                continue
            }
            if old.size != new.size || old.alignment != new.alignment {
                out += "  size \(old.size) -> \(new.size) bytes, alignment \(old.alignment) -> \(new.alignment)\n"
            }
            // Members of anonymous unions are compared by their own names
            // (they all share the union's empty name).
            let oldEntries = entries(old), newEntries = entries(new)
            let oldFields = Dictionary(oldEntries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let newFields = Dictionary(newEntries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for entry in newEntries where oldFields[entry.name] == nil {
                out += "  + \(entry.text)\n"
            }
            for entry in oldEntries where newFields[entry.name] == nil {
                out += "  - \(entry.text)\n"
            }
            for entry in newEntries {
                guard let previous = oldFields[entry.name], previous.identity != entry.identity else { continue }
                out += "  ~ \(previous.text) -> \(entry.text)\n"
            }
        }

        let newlyAvailable = specs.options.filter { to.constants[$0.option] != nil && from.constants[$0.option] == nil }
        let gone = specs.options.filter { to.constants[$0.option] == nil && from.constants[$0.option] != nil }
        if !newlyAvailable.isEmpty || !gone.isEmpty {
            sections += 1
            out += "\nOptions of specs/options.spec:\n"
            for option in newlyAvailable { out += "  + \(option.option) (SocketOption.\(option.swiftName)) is defined only by the new headers\n" }
            for option in gone { out += "  - \(option.option) (SocketOption.\(option.swiftName)) is no longer defined\n" }
        }
        if sections == 0 { out += "\nno differences in the constants, structures and options of the specs\n" }
        return out
    }

    /// The fields of `record` as the diff compares them: by name, with the
    /// members of anonymous unions in place of the unions.
    func entries(_ record: Record) -> [(name: String, text: String, identity: String)] {
        record.fields.flatMap { field -> [(name: String, text: String, identity: String)] in
            if field.name.isEmpty, case .union(_, _, let members) = field.type {
                return members.filter { !$0.name.isEmpty }.map { member in
                    let text = "\(member.name) (byte \(field.bitOffset / 8 + member.byteOffset), \(member.size) bytes, in an anonymous union)"
                    return (member.name, text, text + "\(member.type)")
                }
            }
            return [(field.name, describe(field), describe(field) + "\(field.type)")]
        }
    }

    func describe(_ field: Field) -> String {
        let place = field.bitWidth.map { "bit \(field.bitOffset), \($0) bits" } ?? "byte \(field.bitOffset / 8), \(field.size) bytes"
        return "\(field.name) (\(place))"
    }
}
