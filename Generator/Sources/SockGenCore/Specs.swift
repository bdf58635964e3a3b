// Stage 0: read the declarative specs (specs/*.spec). Every mistake is reported
// as `specs/FILE:LINE: message`.

/// A failure of the generator, with a message that names the place to fix.
public struct GeneratorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A position in a spec file, kept so that later stages can point at it.
public struct SpecLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }
}

/// One translation unit: headers parsed together, once per architecture.
public struct HeaderUnit: Sendable {
    public var name: String
    public var doc: String
    public var includes: [String]
    public var location: SpecLocation
}

/// A group of constants selected from the headers.
public struct ConstantGroup: Sendable {
    public var name: String
    public var unit: String
    public var doc: String
    /// Defining headers, matched as path suffixes (`asm/socket.h`).
    public var from: [String]
    public var prefixes: [String]
    public var names: [String]
    public var exclude: Set<String>
    public var require: [String]
    /// When set, a function of this name mapping a value back to its C name
    /// is emitted (for example `errnoName(_:)`).
    public var lookup: String?
    public var location: SpecLocation

    /// Whether `name`, defined in `file`, belongs to this group.
    public func selects(_ name: String, definedIn file: String) -> Bool {
        guard !exclude.contains(name) else { return false }
        guard from.contains(where: { file.hasSuffix("/" + $0) || file == $0 }) else { return false }
        return names.contains(name) || prefixes.contains(where: { name.hasPrefix($0) })
    }
}

/// A C structure to mirror in Swift.
public struct StructSpec: Sendable {
    public var cName: String
    public var swiftName: String
    public var unit: String
    public var doc: String
    public var location: SpecLocation
}

/// The value type of a socket option, with its unit.
public enum OptionType: Sendable, Hashable {
    case bool, int, count, uint, bytes, seconds, milliseconds, microseconds, timeval, string
    case structure(String)
    case address(String)

    static let spellings = "bool, int, count, uint, bytes, seconds, milliseconds, microseconds, timeval, string, struct:NAME, address:NAME"

    init?(spec: String) {
        switch spec {
        case "bool": self = .bool
        case "int": self = .int
        case "count": self = .count
        case "uint": self = .uint
        case "bytes": self = .bytes
        case "seconds": self = .seconds
        case "milliseconds": self = .milliseconds
        case "microseconds": self = .microseconds
        case "timeval": self = .timeval
        case "string": self = .string
        default:
            if spec.hasPrefix("struct:"), spec.count > 7 { self = .structure(String(spec.dropFirst(7))) }
            else if spec.hasPrefix("address:"), spec.count > 8 { self = .address(String(spec.dropFirst(8))) }
            else { return nil }
        }
    }

    /// The C structure tag for struct-valued options.
    public var structName: String? {
        switch self {
        case .structure(let name), .address(let name): return name
        default: return nil
        }
    }

    public var spelling: String {
        switch self {
        case .bool: "bool"
        case .int: "int"
        case .count: "count"
        case .uint: "uint"
        case .bytes: "bytes"
        case .seconds: "seconds"
        case .milliseconds: "milliseconds"
        case .microseconds: "microseconds"
        case .timeval: "timeval"
        case .string: "string"
        case .structure(let name): "struct:\(name)"
        case .address(let name): "address:\(name)"
        }
    }

    /// The case of the runtime's `OptionUnit` that the key carries.
    public var unit: String {
        switch self {
        case .count: "count"
        case .bytes: "bytes"
        case .seconds: "seconds"
        case .milliseconds: "milliseconds"
        case .microseconds: "microseconds"
        case .timeval: "timeval"
        default: "none"
        }
    }
}

/// Get, set or both.
public struct OptionAccess: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let get = OptionAccess(rawValue: 1)
    public static let set = OptionAccess(rawValue: 2)
}

/// Which sockets accept an option: the runtime's `OptionScope` phantom types,
/// derived from the option's level.
public enum OptionScope: String, Sendable, Hashable, CaseIterable {
    case socket = "Socket", ip = "IP", ipv6 = "IPv6", tcp = "TCP", udp = "UDP", sctp = "SCTP"

    /// The scope of options at `level` (a constant name), or nil.
    public init?(level: String) {
        switch level {
        case "SOL_SOCKET": self = .socket
        case "IPPROTO_IP", "SOL_IP": self = .ip
        case "IPPROTO_IPV6", "SOL_IPV6": self = .ipv6
        case "IPPROTO_TCP", "SOL_TCP": self = .tcp
        case "IPPROTO_UDP", "SOL_UDP": self = .udp
        case "IPPROTO_SCTP", "SOL_SCTP": self = .sctp
        default: return nil
        }
    }

    /// Whether one socket type can see options of both scopes (so their
    /// names must differ): every socket sees `Socket`; every IP socket sees
    /// both `IP` and `IPv6`.
    func overlaps(_ other: OptionScope) -> Bool {
        self == other || self == .socket || other == .socket
            || Set([self, other]) == [.ip, .ipv6]
    }

    /// How doc comments name the scope's options ("the TCP option").
    public var docName: String {
        switch self {
        case .socket: "socket-level"
        case .ip: "IPv4"
        default: rawValue
        }
    }
}

/// A `carrier Scope Protocol example` line of options.spec: the socket type
/// or protocol whose `option(_:)` / `setOption(_:to:)` accept the scope's
/// keys (emitted into `Sources/Sock/Generated/SocketOptionAccess.swift`).
public struct ScopeCarrier: Sendable {
    public var scope: OptionScope
    /// The Swift type the methods extend, such as `TCPConfigurable`.
    public var type: String
    /// A readable key of the scope that the doc comments show.
    public var example: String
    public var location: SpecLocation
}

/// One row of the option table.
public struct OptionSpec: Sendable {
    public var level: String
    public var option: String
    public var type: OptionType
    public var access: OptionAccess
    public var scope: OptionScope
    /// The Swift key name (lowerCamelCase).
    public var swiftName: String
    public var minimumKernel: String
    public var doc: String
    public var location: SpecLocation
}

/// One typed Swift value of `types.spec`: a struct of C `int` raw values.
public struct TypeSpec: Sendable {
    public struct Member: Sendable {
        public var cName: String
        public var swiftName: String
        public var doc: String
        public var location: SpecLocation
    }
    public var name: String
    /// `OptionSet` (values combine) or a plain value.
    public var isOptionSet: Bool
    public var doc: String
    public var members: [Member]
    public var location: SpecLocation
}

/// All specs of one `specs/` directory.
public struct Specs: Sendable {
    public var units: [HeaderUnit]
    public var groups: [ConstantGroup]
    public var structs: [StructSpec]
    public var options: [OptionSpec]
    /// Per scope, the type whose get/set methods accept its keys, in
    /// `OptionScope.allCases` order.
    public var carriers: [ScopeCarrier] = []
    public var types: [TypeSpec] = []

    public func unit(named name: String) -> HeaderUnit? { units.first { $0.name == name } }

    /// Reads `headers.spec`, `constants.spec`, `structs.spec` and `options.spec`
    /// from `directory` and checks them for internal consistency.
    public static func load(directory: String, displayPrefix: String = "specs") throws(GeneratorError) -> Specs {
        func read(_ name: String) throws(GeneratorError) -> SpecFile {
            try SpecFile(path: directory + "/" + name, displayName: displayPrefix + "/" + name)
        }
        let units = try parseUnits(read("headers.spec"))
        let groups = try parseGroups(read("constants.spec"), units: units)
        let structs = try parseStructs(read("structs.spec"), units: units)
        let (options, carriers) = try parseOptions(read("options.spec"), structs: structs)
        // types.spec is optional, so that a specs directory without typed values still loads.
        let typesPath = directory + "/types.spec"
        let types = readTextFile(typesPath) == nil ? [] : try parseTypes(read("types.spec"))
        return Specs(units: units, groups: groups, structs: structs, options: options, carriers: carriers, types: types)
    }
}

/// A spec file split into meaningful lines (comments and blanks removed).
struct SpecFile {
    var displayName: String
    var lines: [(number: Int, text: String)]

    init(path: String, displayName: String) throws(GeneratorError) {
        guard let contents = readTextFile(path) else {
            throw GeneratorError("\(displayName): cannot read the spec file (\(path))")
        }
        self.init(contents: contents, displayName: displayName)
    }

    init(contents: String, displayName: String) {
        self.displayName = displayName
        var lines: [(Int, String)] = []
        for (index, raw) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var text = Substring(raw)
            if let hash = text.firstIndex(of: "#") { text = text[..<hash] }
            let trimmed = text.trimmingBlanks()
            if !trimmed.isEmpty { lines.append((index + 1, trimmed)) }
        }
        self.lines = lines
    }

    func location(_ line: Int) -> SpecLocation { SpecLocation(file: displayName, line: line) }

    func error(_ line: Int, _ message: String) -> GeneratorError {
        GeneratorError("\(displayName):\(line): \(message)")
    }

    /// INI-style sections: `[name]` followed by `key = value` lines.
    func sections() throws(GeneratorError) -> [(name: String, line: Int, entries: [String: (Int, String)])] {
        var result: [(String, Int, [String: (Int, String)])] = []
        var lastKey: String?
        for (number, text) in lines {
            if text.hasPrefix("[") {
                lastKey = nil
                guard text.hasSuffix("]"), text.count > 2 else { throw error(number, "malformed section header '\(text)'") }
                let name = String(text.dropFirst().dropLast())
                if result.contains(where: { $0.0 == name }) { throw error(number, "section [\(name)] appears twice") }
                result.append((name, number, [:]))
                continue
            }
            guard !result.isEmpty else { throw error(number, "expected a [section] before '\(text)'") }
            guard let equals = text.firstIndex(of: "=") else {
                // A continuation line: more words for the previous key.
                guard let key = lastKey, let (keyLine, value) = result[result.count - 1].2[key] else {
                    throw error(number, "expected 'key = value', found '\(text)'")
                }
                result[result.count - 1].2[key] = (keyLine, value + " " + text)
                continue
            }
            let key = text[..<equals].trimmingBlanks()
            let value = text[text.index(after: equals)...].trimmingBlanks()
            if result[result.count - 1].2[key] != nil { throw error(number, "key '\(key)' appears twice in this section") }
            result[result.count - 1].2[key] = (number, value)
            lastKey = key
        }
        return result
    }
}

private func words(_ text: String) -> [String] {
    text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
}

private func parseUnits(_ file: SpecFile) throws(GeneratorError) -> [HeaderUnit] {
    var units: [HeaderUnit] = []
    for (name, line, entries) in try file.sections() {
        for (key, (keyLine, _)) in entries where !["doc", "include"].contains(key) {
            throw file.error(keyLine, "unknown key '\(key)' (expected doc, include)")
        }
        guard let include = entries["include"], !words(include.1).isEmpty else {
            throw file.error(line, "unit [\(name)] has no 'include = ...' line")
        }
        units.append(HeaderUnit(name: name, doc: entries["doc"]?.1 ?? "", includes: words(include.1),
                                location: file.location(line)))
    }
    if units.isEmpty { throw file.error(1, "no translation unit declared") }
    return units
}

private func parseGroups(_ file: SpecFile, units: [HeaderUnit]) throws(GeneratorError) -> [ConstantGroup] {
    let keys: Set = ["tu", "doc", "from", "prefixes", "names", "exclude", "require", "lookup"]
    var groups: [ConstantGroup] = []
    for (name, line, entries) in try file.sections() {
        for (key, (keyLine, _)) in entries where !keys.contains(key) {
            throw file.error(keyLine, "unknown key '\(key)' (expected \(keys.sorted().joined(separator: ", ")))")
        }
        guard let unit = entries["tu"] else { throw file.error(line, "group [\(name)] has no 'tu = ...' line") }
        guard units.contains(where: { $0.name == unit.1 }) else {
            throw file.error(unit.0, "unknown translation unit '\(unit.1)' (declared in headers.spec: \(units.map(\.name).joined(separator: ", ")))")
        }
        guard let from = entries["from"], !words(from.1).isEmpty else {
            throw file.error(line, "group [\(name)] has no 'from = ...' line naming its defining headers")
        }
        let prefixes = words(entries["prefixes"]?.1 ?? "")
        let names = words(entries["names"]?.1 ?? "")
        if prefixes.isEmpty && names.isEmpty {
            throw file.error(line, "group [\(name)] selects nothing: give 'prefixes' or 'names'")
        }
        groups.append(ConstantGroup(
            name: name, unit: unit.1, doc: entries["doc"]?.1 ?? "", from: words(from.1),
            prefixes: prefixes, names: names, exclude: Set(words(entries["exclude"]?.1 ?? "")),
            require: words(entries["require"]?.1 ?? ""), lookup: entries["lookup"]?.1,
            location: file.location(line)))
    }
    return groups
}

private func parseStructs(_ file: SpecFile, units: [HeaderUnit]) throws(GeneratorError) -> [StructSpec] {
    var structs: [StructSpec] = []
    for (number, text) in file.lines {
        let columns = words(text)
        guard columns.count >= 4 else {
            throw file.error(number, "expected 'C-struct SwiftName unit doc...', found '\(text)'")
        }
        guard units.contains(where: { $0.name == columns[2] }) else {
            throw file.error(number, "unknown translation unit '\(columns[2])'")
        }
        if structs.contains(where: { $0.cName == columns[0] }) { throw file.error(number, "struct \(columns[0]) is listed twice") }
        if structs.contains(where: { $0.swiftName == columns[1] }) { throw file.error(number, "Swift name \(columns[1]) is used twice") }
        structs.append(StructSpec(cName: columns[0], swiftName: columns[1], unit: columns[2],
                                  doc: columns[3...].joined(separator: " "), location: file.location(number)))
    }
    return structs
}

private func parseOptions(_ file: SpecFile, structs: [StructSpec]) throws(GeneratorError) -> ([OptionSpec], [ScopeCarrier]) {
    var options: [OptionSpec] = []
    // `scope LEVEL Scope` lines add levels beyond the built-in ones.
    var extraScopes: [String: OptionScope] = [:]
    // `carrier Scope Type example` lines: which type's get/set accept the scope.
    var carriers: [OptionScope: ScopeCarrier] = [:]
    for (number, text) in file.lines {
        let columns = words(text)
        if columns.first == "carrier" {
            guard columns.count == 4, let scope = OptionScope(rawValue: columns[1]) else {
                throw file.error(number, "expected 'carrier Scope Type example' with Scope one of \(OptionScope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let first = columns[2].first, first.isUppercase, columns[2].allSatisfy({ $0.isLetter || $0.isNumber }) else {
                throw file.error(number, "carrier type '\(columns[2])' must be an UpperCamelCase Swift type name")
            }
            if let other = carriers[scope] {
                throw file.error(number, "scope \(scope.rawValue) already has a carrier line (\(other.location))")
            }
            carriers[scope] = ScopeCarrier(scope: scope, type: columns[2], example: columns[3], location: file.location(number))
            continue
        }
        if columns.first == "scope" {
            guard columns.count == 3, let scope = OptionScope(rawValue: columns[2]) else {
                throw file.error(number, "expected 'scope LEVEL Scope' with Scope one of \(OptionScope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            extraScopes[columns[1]] = scope
            continue
        }
        guard columns.count >= 7 else {
            throw file.error(number, "expected 'level option type access swiftName kernel doc...', found '\(text)'")
        }
        guard let scope = OptionScope(level: columns[0]) ?? extraScopes[columns[0]] else {
            throw file.error(number, "unknown level '\(columns[0])' (SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, their SOL_ spellings, or one named by an earlier 'scope LEVEL Scope' line)")
        }
        guard let type = OptionType(spec: columns[2]) else {
            throw file.error(number, "unknown option type '\(columns[2])' (\(OptionType.spellings))")
        }
        if let name = type.structName, !structs.contains(where: { $0.cName == name }) {
            throw file.error(number, "struct \(name) is not declared in structs.spec")
        }
        let access: OptionAccess
        switch columns[3] {
        case "get": access = .get
        case "set": access = .set
        case "both": access = [.get, .set]
        default: throw file.error(number, "unknown access '\(columns[3])' (get, set, both)")
        }
        let swiftName = columns[4]
        guard let first = swiftName.first, first.isLowercase, swiftName.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw file.error(number, "Swift name '\(swiftName)' must be lowerCamelCase letters and digits")
        }
        if let other = options.first(where: { $0.swiftName == swiftName && $0.scope.overlaps(scope) }) {
            throw file.error(number, other.scope == scope
                ? "Swift name \(swiftName) is used twice at level \(other.level)"
                : "Swift name \(swiftName) is also used at level \(other.level) (\(other.location)), and one socket sees both levels")
        }
        guard columns[5].first?.isNumber == true else {
            throw file.error(number, "minimum kernel '\(columns[5])' is not a version such as 4.18")
        }
        options.append(OptionSpec(level: columns[0], option: columns[1], type: type, access: access, scope: scope,
                                  swiftName: swiftName, minimumKernel: columns[5],
                                  doc: columns[6...].joined(separator: " "), location: file.location(number)))
    }
    // Carrier lines may stand anywhere: checked once every row is known.
    for scope in OptionScope.allCases {
        if carriers[scope] == nil, let row = options.first(where: { $0.scope == scope }) {
            throw file.error(row.location.line, "level \(row.level) has scope \(scope.rawValue), which has no 'carrier \(scope.rawValue) Type example' line naming the type whose option(_:) and setOption(_:to:) accept its keys")
        }
    }
    for carrier in carriers.values.sorted(by: { $0.location.line < $1.location.line }) {
        guard options.contains(where: { $0.scope == carrier.scope && $0.swiftName == carrier.example && $0.access.contains(.get) }) else {
            throw file.error(carrier.location.line, "example '\(carrier.example)' is not a readable key of scope \(carrier.scope.rawValue)")
        }
    }
    return (options, OptionScope.allCases.compactMap { carriers[$0] })
}

/// `types.spec`: `[TypeName]` sections with `kind` and `doc` keys, then
/// member lines `C_NAME swiftName doc...`.
private func parseTypes(_ file: SpecFile) throws(GeneratorError) -> [TypeSpec] {
    var types: [TypeSpec] = []
    for (number, text) in file.lines {
        if text.hasPrefix("[") {
            guard text.hasSuffix("]"), text.count > 2 else { throw file.error(number, "malformed section header '\(text)'") }
            let name = String(text.dropFirst().dropLast())
            guard let first = name.first, first.isUppercase, name.allSatisfy({ $0.isLetter || $0.isNumber }) else {
                throw file.error(number, "type name '\(name)' must be UpperCamelCase letters and digits")
            }
            if types.contains(where: { $0.name == name }) { throw file.error(number, "section [\(name)] appears twice") }
            types.append(TypeSpec(name: name, isOptionSet: false, doc: "", members: [], location: file.location(number)))
            continue
        }
        guard !types.isEmpty else { throw file.error(number, "expected a [TypeName] section before '\(text)'") }
        if let equals = text.firstIndex(of: "="), ["kind", "doc"].contains(text[..<equals].trimmingBlanks()) {
            let key = text[..<equals].trimmingBlanks()
            let value = text[text.index(after: equals)...].trimmingBlanks()
            switch key {
            case "kind":
                guard value == "values" || value == "options" else { throw file.error(number, "unknown kind '\(value)' (values, options)") }
                types[types.count - 1].isOptionSet = value == "options"
            case "doc": types[types.count - 1].doc = value
            default: break
            }
            continue
        }
        let columns = words(text)
        guard columns.count >= 3 else { throw file.error(number, "expected 'C_NAME swiftName doc...', found '\(text)'") }
        let swiftName = columns[1]
        guard let first = swiftName.first, first.isLowercase, swiftName.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw file.error(number, "Swift name '\(swiftName)' must be lowerCamelCase letters and digits")
        }
        if types[types.count - 1].members.contains(where: { $0.swiftName == swiftName }) {
            throw file.error(number, "Swift name \(swiftName) is used twice in [\(types[types.count - 1].name)]")
        }
        types[types.count - 1].members.append(.init(cName: columns[0], swiftName: swiftName,
                                                   doc: columns[2...].joined(separator: " "), location: file.location(number)))
    }
    for type in types where type.doc.isEmpty {
        throw GeneratorError("\(type.location): [\(type.name)] needs a doc = line")
    }
    return types
}

extension StringProtocol {
    func trimmingBlanks() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\r" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
