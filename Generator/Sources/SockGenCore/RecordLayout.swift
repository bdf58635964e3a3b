// Plans how a C structure becomes a Swift structure with the same bytes:
// stored properties where Swift's natural layout matches C, explicit padding,
// byte storage with accessors for bitfields, packed (misaligned) fields and
// unions. Shared by the emitter and the layout-test emitter.

/// One stored property of the Swift mirror.
struct StoredProperty: Equatable {
    var name: String
    var swiftType: String
    var zero: String
    var offset: Int
    var alignment: Int
    /// True for properties the user should not touch (padding, raw storage).
    var isStorage: Bool
}

/// A computed property over byte storage.
enum ComputedProperty: Equatable {
    /// A bitfield: `bitOffset` relative to the first byte of `storage`.
    case bitfield(name: String, swiftType: String, signed: Bool, storage: String, storageBytes: Int,
                  bitOffset: Int, width: Int, absoluteBitOffset: Int)
    /// A field at an offset Swift cannot align (packed structures).
    case unaligned(name: String, swiftType: String, storage: String, offset: Int)
    /// A member of a union, reinterpreting the union's storage.
    case unionMember(name: String, swiftType: String, storage: String, storageType: String)
    /// A union member smaller than the union or not at its start (a field of
    /// an anonymous structure inside the union, or a narrower scalar): read
    /// and written at `offset` bytes into the union's storage, which starts
    /// at `absoluteOffset` in the structure.
    case unionPart(name: String, swiftType: String, storage: String, offset: Int, absoluteOffset: Int,
                   size: Int, isInteger: Bool)
}

/// The Swift layout of one C structure for one architecture.
struct SwiftLayout: Equatable {
    var cName: String
    var swiftName: String
    var size: Int
    var alignment: Int
    var stored: [StoredProperty]
    var computed: [ComputedProperty]
    var containsPointers: Bool
    var flexibleMembers: [String]
}

/// Maps C types to Swift spellings using the struct names of the specs.
struct TypeNamer {
    var swiftNames: [String: String]   // C tag -> Swift name

    func swiftType(_ type: FieldType, context: String) throws(GeneratorError) -> String {
        switch type {
        case .integer(let integer, let size):
            return integerSpelling(integer, size: size)
        case .record(let tag):
            guard let name = swiftNames[tag] else {
                throw GeneratorError("\(context) has type struct \(tag), which is not declared in specs/structs.spec; add it there")
            }
            return name
        case .array(let element, let count):
            return "InlineArray<\(count), \(try swiftType(element, context: context))>"
        case .pointer(.some(.record(let tag))):
            if let name = swiftNames[tag] { return "UnsafeMutablePointer<\(name)>?" }
            return "UnsafeMutableRawPointer?"
        case .pointer:
            return "UnsafeMutableRawPointer?"
        case .union(let size, let alignment, _):
            return "InlineArray<\(size / alignment), UInt\(alignment * 8)>"
        }
    }

    func zero(_ type: FieldType) -> String {
        switch type {
        case .integer(.bool, _): "false"
        case .integer: "0"
        case .record: ".init()"
        case .array(let element, _): ".init(repeating: \(zero(element)))"
        case .pointer: "nil"
        case .union: ".init(repeating: 0)"
        }
    }

    func integerSpelling(_ integer: CIntegerType, size: Int) -> String {
        switch integer {
        case .char: "CChar"
        case .bool: "Bool"
        case .long: "CLong"
        case .unsignedLong: "CUnsignedLong"
        default: (integer.isSigned ? "Int" : "UInt") + String(size * 8)
        }
    }
}

private func containsPointer(_ type: FieldType) -> Bool {
    switch type {
    case .pointer: true
    case .array(let element, _): containsPointer(element)
    case .union(_, _, let members): members.contains { containsPointer($0.type) }
    default: false
    }
}

let swiftKeywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "func", "import", "init", "inout", "internal",
    "let", "operator", "private", "protocol", "public", "static", "struct", "subscript", "typealias", "var",
    "break", "case", "continue", "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in",
    "repeat", "return", "switch", "where", "while", "as", "catch", "false", "is", "nil", "rethrows", "super",
    "self", "Self", "throw", "throws", "true", "try", "Type", "Protocol",
]

/// Escapes a C identifier that is a Swift keyword.
func identifier(_ name: String) -> String { swiftKeywords.contains(name) ? "`\(name)`" : name }

func planLayout(_ record: Record, swiftName: String, namer: TypeNamer,
                records: [String: Record]) throws(GeneratorError) -> SwiftLayout {
    var stored: [StoredProperty] = []
    var computed: [ComputedProperty] = []
    var cursor = 0
    var hasPointers = false
    let context = "struct \(record.cName)"

    func pad(to offset: Int) throws(GeneratorError) {
        if offset < cursor { throw GeneratorError("\(context): field overlaps the previous one at byte \(offset)") }
        if offset > cursor {
            stored.append(StoredProperty(name: "_padding\(cursor)", swiftType: "InlineArray<\(offset - cursor), UInt8>",
                                         zero: ".init(repeating: 0)", offset: cursor, alignment: 1, isStorage: true))
            cursor = offset
        }
    }

    var index = 0
    let fields = record.fields
    while index < fields.count {
        let field = fields[index]
        if field.bitWidth != nil {
            var end = index
            while end < fields.count, fields[end].bitWidth != nil { end += 1 }
            let run = fields[index..<end].filter { ($0.bitWidth ?? 0) > 0 }
            index = end
            guard let first = run.first else { continue }
            let startByte = first.bitOffset / 8
            let endBit = run.map { $0.bitOffset + ($0.bitWidth ?? 0) }.max() ?? first.bitOffset
            let endByte = (endBit + 7) / 8
            try pad(to: startByte)
            let storage = "_bitfield\(startByte)"
            stored.append(StoredProperty(name: storage, swiftType: "InlineArray<\(endByte - startByte), UInt8>",
                                         zero: ".init(repeating: 0)", offset: startByte, alignment: 1, isStorage: true))
            cursor = endByte
            for bitfield in run where !bitfield.name.isEmpty {
                guard case .integer(let integer, let size) = bitfield.type else {
                    throw GeneratorError("\(context).\(bitfield.name): bitfield of a non-integer type")
                }
                computed.append(.bitfield(name: bitfield.name, swiftType: namer.integerSpelling(integer, size: size),
                                          signed: integer.isSigned, storage: storage, storageBytes: endByte - startByte,
                                          bitOffset: bitfield.bitOffset - startByte * 8, width: bitfield.bitWidth ?? 0,
                                          absoluteBitOffset: bitfield.bitOffset))
            }
            continue
        }
        index += 1
        guard field.bitOffset % 8 == 0 else { throw GeneratorError("\(context).\(field.name): not byte aligned") }
        let offset = field.bitOffset / 8
        let fieldContext = "\(context).\(field.name)"
        let swiftType = try namer.swiftType(field.type, context: fieldContext)
        hasPointers = hasPointers || containsPointer(field.type)
        if case .record(let tag) = field.type, let nested = records[tag] {
            hasPointers = hasPointers || nested.fields.contains { containsPointer($0.type) }
        }
        try pad(to: offset)
        if offset % field.alignment != 0 || field.alignment > record.alignment {
            // Packed: keep the bytes, read and write them unaligned.
            let storage = "_\(field.name)Bytes"
            stored.append(StoredProperty(name: storage, swiftType: "InlineArray<\(field.size), UInt8>",
                                         zero: ".init(repeating: 0)", offset: offset, alignment: 1, isStorage: true))
            computed.append(.unaligned(name: field.name, swiftType: swiftType, storage: storage, offset: offset))
        } else {
            // An anonymous union keeps its bytes in a storage property; its
            // members are reached by their own names, as in C.
            let storageName = field.name.isEmpty ? "_anonymous\(offset)" : field.name
            stored.append(StoredProperty(name: storageName, swiftType: swiftType, zero: namer.zero(field.type),
                                         offset: offset, alignment: field.alignment, isStorage: field.name.isEmpty))
            if case .union(_, _, let members) = field.type {
                for member in members where !member.isFlexible && !member.name.isEmpty {
                    let memberType = try namer.swiftType(member.type, context: "\(fieldContext).\(member.name)")
                    if member.size == field.size && member.byteOffset == 0 {
                        computed.append(.unionMember(name: member.name, swiftType: memberType,
                                                     storage: storageName, storageType: swiftType))
                    } else {
                        var isInteger = false
                        if case .integer = member.type { isInteger = true }
                        computed.append(.unionPart(name: member.name, swiftType: memberType, storage: storageName,
                                                   offset: member.byteOffset, absoluteOffset: offset + member.byteOffset,
                                                   size: member.size, isInteger: isInteger))
                    }
                }
            }
        }
        cursor = offset + field.size
    }
    try pad(to: record.size)
    let swiftAlignment = stored.map(\.alignment).max() ?? 1
    if swiftAlignment != record.alignment {
        throw GeneratorError("\(context): C alignment is \(record.alignment) but the Swift mirror would be aligned to \(swiftAlignment); this layout cannot be expressed")
    }
    let names = stored.map(\.name) + computed.map(\.name)
    if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
        throw GeneratorError("\(context): two members would both be called '\(duplicate)' in Swift")
    }
    return SwiftLayout(cName: record.cName, swiftName: swiftName, size: record.size, alignment: record.alignment,
                       stored: stored, computed: computed, containsPointers: hasPointers,
                       flexibleMembers: record.flexibleMembers)
}

extension ComputedProperty {
    var name: String {
        switch self {
        case .bitfield(let name, _, _, _, _, _, _, _), .unaligned(let name, _, _, _), .unionMember(let name, _, _, _),
             .unionPart(let name, _, _, _, _, _, _): name
        }
    }
}
