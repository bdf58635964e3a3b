// The model: what the headers say, per architecture, before any Swift is written.

/// A C integer type as clang reports it (canonical, without qualifiers).
public enum CIntegerType: String, Sendable, Hashable, Codable {
    case char = "char"
    case signedChar = "signed char"
    case unsignedChar = "unsigned char"
    case short = "short"
    case unsignedShort = "unsigned short"
    case int = "int"
    case unsignedInt = "unsigned int"
    case long = "long"
    case unsignedLong = "unsigned long"
    case longLong = "long long"
    case unsignedLongLong = "unsigned long long"
    case bool = "_Bool"

    /// The Swift spelling used for constants (`CInt`, `CUnsignedLong`, …).
    public var swiftAlias: String {
        switch self {
        case .char: "CChar"
        case .signedChar: "CSignedChar"
        case .unsignedChar: "CUnsignedChar"
        case .short: "CShort"
        case .unsignedShort: "CUnsignedShort"
        case .int: "CInt"
        case .unsignedInt: "CUnsignedInt"
        case .long: "CLong"
        case .unsignedLong: "CUnsignedLong"
        case .longLong: "CLongLong"
        case .unsignedLongLong: "CUnsignedLongLong"
        case .bool: "Bool"
        }
    }

    public var isSigned: Bool {
        switch self {
        case .char, .signedChar, .short, .int, .long, .longLong: true
        default: false
        }
    }
}

/// An integer constant: a macro or an enumerator.
public struct Constant: Sendable, Hashable, Codable {
    public var name: String
    public var group: String
    /// The value as clang evaluated it; for unsigned types the bit pattern.
    public var value: Int64
    public var unsigned: Bool
    public var type: CIntegerType
    /// The header that defines it, relative to its include directory.
    public var header: String

    /// The value as C source text (`-1`, `4294967295`).
    public var literal: String { unsigned ? String(UInt64(bitPattern: value)) : String(value) }
}

/// The type of a structure field.
public indirect enum FieldType: Sendable, Hashable, Codable {
    case integer(CIntegerType, size: Int)
    case record(String)                  // a named struct (C tag)
    case array(FieldType, count: Int)
    case pointer(FieldType?)             // nil: void or an unsupported pointee
    case union(size: Int, alignment: Int, members: [UnionMember])
}

/// One member of a union field.
public struct UnionMember: Sendable, Hashable, Codable {
    public var name: String
    public var type: FieldType
    public var size: Int
    /// Byte offset inside the union: non-zero for the fields of an anonymous
    /// structure inside the union (`union { u64 a; struct { u32 b, c; }; }`),
    /// nil for 0 (so models written before offsets existed still decode).
    public var offset: Int? = nil

    /// The byte offset inside the union.
    public var byteOffset: Int { offset ?? 0 }
    /// A zero-length or flexible array inside the union (`T name[0]`, `T name[]`,
    /// `__DECLARE_FLEX_ARRAY`): it takes no space and is not mirrored.
    public var isFlexible: Bool { size == 0 }
}

/// One field of a structure.
public struct Field: Sendable, Hashable, Codable {
    public var name: String
    public var type: FieldType
    /// Offset in bits from the start of the structure (allocation order).
    public var bitOffset: Int
    /// Size in bytes of the field's type.
    public var size: Int
    public var alignment: Int
    /// Width in bits for bitfields, nil otherwise.
    public var bitWidth: Int?
}

/// A structure with its exact layout.
public struct Record: Sendable, Equatable, Codable {
    public var cName: String
    public var size: Int
    public var alignment: Int
    public var fields: [Field]
    /// Flexible array members, which take no space and are not mirrored.
    public var flexibleMembers: [String]
    public var header: String
}

/// Everything read from one architecture's headers.
public struct ArchModel: Sendable, Codable {
    public var arch: String
    public var triple: String
    public var bigEndian: Bool
    public var pointerSize: Int
    public var constants: [String: Constant]
    public var records: [String: Record]
    /// Macros of the selected groups that are not integer constants (skipped).
    public var skipped: [String]
    /// `require`d constants these headers lack (only when requirements are
    /// relaxed, as for an older kernel tree given with KERNEL_HEADERS).
    public var missingRequired: [String] = []
}
