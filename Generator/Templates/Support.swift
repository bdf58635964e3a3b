#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An error number reported by the kernel (`errno`).
///
/// It is a plain value: throwing it with typed throws never allocates.
/// The runtime (`Sock`) maps it to its semantic error cases.
@frozen
public struct SockErrno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public var rawValue: CInt

    /// Wraps an `errno` value.
    @inlinable
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// The `errno` value of the calling thread, read right after a failed call.
    @inlinable
    public static var current: SockErrno { SockErrno(rawValue: errno) }

    /// The C library's message for this error number, for example
    /// "Connection refused" (allocates; not for hot paths).
    public var description: String {
        guard let message = strerror(rawValue) else { return "errno \(rawValue)" }
        return "\(String(cString: message)) (errno \(rawValue))"
    }
}

// MARK: - Layout helpers used by the generated structures

/// Reads `width` bits at `offset` (allocation order) of a bitfield storage unit.
@inlinable
func _sockgenLoadBits<let count: Int>(
    _ storage: InlineArray<count, UInt8>, offset: Int, width: Int, bigEndian: Bool
) -> UInt64 {
    var word: UInt64 = 0
    for index in 0..<count {
        let byte = UInt64(storage[bigEndian ? index : count - 1 - index])
        word = (word << 8) | byte
    }
    let shift = bigEndian ? count * 8 - offset - width : offset
    let mask: UInt64 = width >= 64 ? ~0 : (1 << UInt64(width)) - 1
    return (word >> UInt64(shift)) & mask
}

/// Writes the low `width` bits of `value` at `offset` of a bitfield storage
/// unit; higher bits of `value` are dropped, as in C.
@inlinable
func _sockgenStoreBits<let count: Int>(
    _ storage: inout InlineArray<count, UInt8>, _ value: UInt64, offset: Int, width: Int, bigEndian: Bool
) {
    var word: UInt64 = 0
    for index in 0..<count {
        let byte = UInt64(storage[bigEndian ? index : count - 1 - index])
        word = (word << 8) | byte
    }
    let shift = UInt64(bigEndian ? count * 8 - offset - width : offset)
    let mask: UInt64 = (width >= 64 ? ~0 : (1 << UInt64(width)) - 1) << shift
    word = (word & ~mask) | ((value << shift) & mask)
    for index in 0..<count {
        storage[bigEndian ? count - 1 - index : index] = UInt8(truncatingIfNeeded: word)
        word >>= 8
    }
}

/// Sign-extends the low `width` bits of `raw`.
@inlinable
func _sockgenSignExtend(_ raw: UInt64, width: Int) -> Int64 {
    let unused = UInt64(64 - width)
    return Int64(bitPattern: raw << unused) >> unused
}

/// Reads a value stored at an unaligned offset (packed structures).
@inlinable
func _sockgenLoadUnaligned<let count: Int, Value: BitwiseCopyable>(
    _ storage: InlineArray<count, UInt8>, as type: Value.Type
) -> Value {
    var storage = storage
    return withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: Value.self) }
}

/// Writes a value at an unaligned offset (packed structures).
@inlinable
func _sockgenStoreUnaligned<let count: Int, Value: BitwiseCopyable>(
    _ storage: inout InlineArray<count, UInt8>, _ value: Value
) {
    withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: value, as: Value.self) }
}

/// Reads a union member that starts `offset` bytes into the union's storage
/// or is narrower than it (fields of an anonymous structure inside a union).
@inlinable
func _sockgenLoadPart<Storage: BitwiseCopyable, Value: BitwiseCopyable>(
    _ storage: Storage, offset: Int, as type: Value.Type
) -> Value {
    withUnsafeBytes(of: storage) { $0.loadUnaligned(fromByteOffset: offset, as: Value.self) }
}

/// Writes a union member at `offset` bytes into the union's storage,
/// leaving the other bytes alone.
@inlinable
func _sockgenStorePart<Storage: BitwiseCopyable, Value: BitwiseCopyable>(
    _ storage: inout Storage, _ value: Value, offset: Int
) {
    withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: value, toByteOffset: offset, as: Value.self) }
}
