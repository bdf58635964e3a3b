#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An error number reported by the kernel (`errno`), thrown by the generated
/// option accessors.
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

/// Reads an `int`-sized socket option. The corresponding C function is `getsockopt`.
@inlinable
public func socketOptionInt32(
    _ fd: CInt, level: CInt, name: CInt
) throws(SockErrno) -> CInt {
    var value: CInt = 0
    var length = socklen_t(MemoryLayout<CInt>.size)
    guard getsockopt(fd, level, name, &value, &length) == 0 else { throw .current }
    return value
}

/// Writes an `int`-sized socket option. The corresponding C function is `setsockopt`.
@inlinable
public func setSocketOptionInt32(
    _ fd: CInt, level: CInt, name: CInt, _ value: CInt
) throws(SockErrno) {
    var value = value
    guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<CInt>.size)) == 0 else {
        throw .current
    }
}

/// Reads a structure-valued socket option into `value` and returns the number
/// of bytes the kernel filled, which is smaller than the structure when the
/// running kernel is older than the headers the bindings came from (the
/// remaining bytes keep their previous contents). The corresponding C function
/// is `getsockopt`.
@inlinable
public func socketOptionValue<Value: BitwiseCopyable>(
    _ fd: CInt, level: CInt, name: CInt, into value: inout Value
) throws(SockErrno) -> Int {
    var length = socklen_t(MemoryLayout<Value>.size)
    let result = withUnsafeMutableBytes(of: &value) { buffer in
        getsockopt(fd, level, name, buffer.baseAddress, &length)
    }
    guard result == 0 else { throw .current }
    return Int(length)
}

/// Writes a structure-valued socket option. The corresponding C function is `setsockopt`.
@inlinable
public func setSocketOptionValue<Value: BitwiseCopyable>(
    _ fd: CInt, level: CInt, name: CInt, _ value: Value
) throws(SockErrno) {
    var value = value
    let result = withUnsafeBytes(of: &value) { buffer in
        setsockopt(fd, level, name, buffer.baseAddress, socklen_t(buffer.count))
    }
    guard result == 0 else { throw .current }
}

/// Reads a string-valued socket option (such as `TCP_CONGESTION`) into
/// `buffer` and returns the length of the string without its terminating NUL.
/// The corresponding C function is `getsockopt`.
@inlinable
public func socketOptionString(
    _ fd: CInt, level: CInt, name: CInt, into buffer: UnsafeMutableRawBufferPointer
) throws(SockErrno) -> Int {
    var length = socklen_t(buffer.count)
    guard getsockopt(fd, level, name, buffer.baseAddress, &length) == 0 else { throw .current }
    // A plain loop: the generic `firstIndex(of:)` allocates in debug builds.
    let filled = min(Int(length), buffer.count)
    var index = 0
    while index < filled, buffer[index] != 0 { index += 1 }
    return index
}

/// Writes a string-valued socket option (such as `TCP_CONGESTION`); `value`
/// is passed without a terminating NUL. The corresponding C function is `setsockopt`.
@inlinable
public func setSocketOptionString(
    _ fd: CInt, level: CInt, name: CInt, _ value: String
) throws(SockErrno) {
    var value = value
    let result = value.withUTF8 { bytes in
        setsockopt(fd, level, name, bytes.baseAddress, socklen_t(bytes.count))
    }
    guard result == 0 else { throw .current }
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
