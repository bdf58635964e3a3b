// Typed socket options: the key type (`SocketOption`), its phantom scope and
// access types, how each Swift value type travels through getsockopt(2) and
// setsockopt(2) (`SocketOptionValue`), the get/set of any scope on a
// `Descriptor`, and the protocols that carry the scopes (their per-scope
// get/set is generated: Generated/SocketOptionAccess.swift).
// The keys themselves are generated (Generated/SocketOptionKeys.swift, one per
// row of specs/options.spec). Every call goes through the syscall table
// (`Syscall.getsockopt` / `Syscall.setsockopt`), so tests can inject errors.
// Nothing here allocates, except reading a `String` value.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

// MARK: - Key

/// Phantom types naming which sockets accept an option: a key of scope
/// ``OptionScope/TCP`` is accepted by ``TCPConfigurable`` sockets only, so
/// `unixConn.setOption(.noDelay, to: true)` does not compile.
public enum OptionScope {
    /// Socket-level options (`SOL_SOCKET`), accepted by every ``Socket``.
    public enum Socket {}
    /// IPv4 options (`IPPROTO_IP`), accepted by ``IPConfigurable`` sockets.
    public enum IP {}
    /// IPv6 options (`IPPROTO_IPV6`), accepted by ``IPConfigurable`` sockets.
    public enum IPv6 {}
    /// TCP options (`IPPROTO_TCP`), accepted by ``TCPConfigurable`` sockets.
    public enum TCP {}
    /// UDP options (`IPPROTO_UDP`), accepted by ``UDPConfigurable`` sockets.
    public enum UDP {}
    /// SCTP options (`IPPROTO_SCTP`), accepted by ``SCTPConfigurable`` sockets.
    public enum SCTP {}
}

/// An access type whose keys can be read with `option(_:)`.
public protocol ReadableOptionAccess {}

/// An access type whose keys can be written with `setOption(_:to:)`.
public protocol WritableOptionAccess {}

/// Phantom types saying whether an option can be read, written or both.
public enum OptionAccess {
    /// The option can be read and written.
    public enum ReadWrite: ReadableOptionAccess, WritableOptionAccess {}
    /// The option can only be read (such as `SO_ERROR` or `TCP_INFO`).
    public enum ReadOnly: ReadableOptionAccess {}
    /// The option can only be written (such as `IP_ADD_MEMBERSHIP`).
    public enum WriteOnly: WritableOptionAccess {}
}

/// How the kernel expresses an option's value, so that a Swift value in Swift
/// units (a `Duration`, an `Int` of bytes) can be converted.
public enum OptionUnit: Hashable, Sendable {
    /// No unit: a flag, a number, a string or a structure.
    case none
    /// A C `int` number of bytes.
    case bytes
    /// A C `int` count.
    case count
    /// A C `int` of whole seconds.
    case seconds
    /// A C `int` of milliseconds.
    case milliseconds
    /// A C `int` of microseconds.
    case microseconds
    /// A `struct timeval` (seconds and microseconds).
    case timeval
}

/// A typed socket-option key: the option's level and name, and the unit in
/// which the kernel expresses its value, with the Swift value type, the
/// sockets that accept it (`Scope`, one of ``OptionScope``'s types) and
/// whether it can be read or written (`Access`, one of ``OptionAccess``'s
/// types) as type parameters.
///
/// Every option of the specs is a generated static property, so keys are
/// written as implicit members:
///
/// ```swift
/// try conn.setOption(.noDelay, to: true)
/// let size = try conn.option(.receiveBufferSize)
/// try listener.setOption(.deferAccept, to: .seconds(2))
/// ```
///
/// Define a key for an option the specs lack with ``init(level:name:unit:)``.
public struct SocketOption<Scope, Value: SocketOptionValue, Access>: Sendable, Hashable {
    /// The `level` argument of getsockopt(2)/setsockopt(2), such as `IPPROTO_TCP`.
    public let level: CInt
    /// The `optname` argument, such as `TCP_NODELAY`.
    public let name: CInt
    /// How the kernel expresses the value.
    public let unit: OptionUnit

    /// A key for the option `name` at `level`, whose value the kernel
    /// expresses in `unit`.
    @inlinable
    public init(level: CInt, name: CInt, unit: OptionUnit = .none) {
        self.level = level
        self.name = name
        self.unit = unit
    }
}

// MARK: - Values

/// A Swift type that can be the value of a socket option: it knows how to read
/// itself with getsockopt(2) and write itself with setsockopt(2), in the unit
/// of the key. Conforming types: `Bool`, `Int`, `UInt32`, `Duration`,
/// `String`, and the generated structures (``SocketOptionStruct``).
///
/// Both requirements receive the descriptor number while the caller keeps the
/// descriptor open; they call the kernel through Sock's syscall table.
public protocol SocketOptionValue {
    /// Reads the option `name` at `level` of the socket `fd`, expressed in
    /// `unit`. The corresponding C function is `getsockopt`.
    static func readOption(from fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) -> Self

    /// Writes `self` as the option `name` at `level` of the socket `fd`,
    /// expressed in `unit`; a value the unit cannot express throws
    /// ``SockError/invalidParameter`` and writes nothing. The corresponding C
    /// function is `setsockopt`.
    func writeOption(to fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError)
}

/// A C structure that is an option's value, read and written byte for byte.
/// The generated structures conform (Generated/Exports.swift).
public protocol SocketOptionStruct: SocketOptionValue, BitwiseCopyable {
    /// Creates a value whose bytes are all zero.
    init()
}

extension SocketOptionStruct {
    /// Reads the structure; bytes a kernel older than the bindings' headers
    /// does not fill stay zero (use `option(_:into:)` to learn how many it
    /// filled). The corresponding C function is `getsockopt`.
    public static func readOption(from fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) -> Self {
        var value = Self()
        _ = try readRawOption(fd, level, name, into: &value)
        return value
    }

    /// Writes the structure. The corresponding C function is `setsockopt`.
    public func writeOption(to fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) {
        try writeRawOption(fd, level, name, self)
    }
}

/// getsockopt(2) into the bytes of `value`; returns how many the kernel filled.
@inline(__always)
internal func readRawOption<Value: BitwiseCopyable>(
    _ fd: CInt, _ level: CInt, _ name: CInt, into value: inout Value
) throws(SockError) -> Int {
    var length = socklen_t(MemoryLayout<Value>.size)
    let result = withUnsafeMutableBytes(of: &value) { bytes in
        Syscall.getsockopt(fd, level, name, bytes.baseAddress, &length)
    }
    _ = try result.mapped()
    return Int(length)
}

/// setsockopt(2) with the bytes of `value`.
@inline(__always)
internal func writeRawOption<Value: BitwiseCopyable>(
    _ fd: CInt, _ level: CInt, _ name: CInt, _ value: Value
) throws(SockError) {
    var value = value
    let result = withUnsafeBytes(of: &value) { bytes in
        Syscall.setsockopt(fd, level, name, bytes.baseAddress, socklen_t(bytes.count))
    }
    _ = try result.mapped()
}

/// A C `int` option value.
@inline(__always)
internal func readIntOption(_ fd: CInt, _ level: CInt, _ name: CInt) throws(SockError) -> CInt {
    var value: CInt = 0
    _ = try readRawOption(fd, level, name, into: &value)
    return value
}

extension Bool: SocketOptionValue {
    /// Reads a C `int` flag: any value other than 0 is `true`. The
    /// corresponding C function is `getsockopt`.
    public static func readOption(from fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) -> Bool {
        try readIntOption(fd, level, name) != 0
    }

    /// Writes a C `int` 1 or 0. The corresponding C function is `setsockopt`.
    public func writeOption(to fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) {
        try writeRawOption(fd, level, name, self ? 1 as CInt : 0)
    }
}

extension Int: SocketOptionValue {
    /// Reads a C `int`. The corresponding C function is `getsockopt`.
    public static func readOption(from fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) -> Int {
        Int(try readIntOption(fd, level, name))
    }

    /// Writes a C `int`. Sizes and counts (units ``OptionUnit/bytes`` and
    /// ``OptionUnit/count``) must not be negative.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a value outside C `int`'s
    ///   range, or a negative size or count; nothing is written.
    ///
    /// The corresponding C function is `setsockopt`.
    public func writeOption(to fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) {
        guard let value = CInt(exactly: self) else { throw .invalidParameter }
        if value < 0 && (unit == .bytes || unit == .count) { throw .invalidParameter }
        try writeRawOption(fd, level, name, value)
    }
}

extension UInt32: SocketOptionValue {
    /// Reads a C `unsigned int`. The corresponding C function is `getsockopt`.
    public static func readOption(from fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) -> UInt32 {
        UInt32(bitPattern: try readIntOption(fd, level, name))
    }

    /// Writes a C `unsigned int`. The corresponding C function is `setsockopt`.
    public func writeOption(to fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) {
        try writeRawOption(fd, level, name, self)
    }
}

extension Duration: SocketOptionValue {
    /// Reads a time in the key's unit: a C `int` of seconds, milliseconds or
    /// microseconds, or a `struct timeval`. The corresponding C function is
    /// `getsockopt`.
    public static func readOption(from fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) -> Duration {
        switch unit {
        case .timeval:
            var value = Timeval()
            _ = try readRawOption(fd, level, name, into: &value)
            return .seconds(Int64(value.tv_sec)) + .microseconds(Int64(value.tv_usec))
        case .milliseconds:
            return .milliseconds(try readIntOption(fd, level, name))
        case .microseconds:
            return .microseconds(try readIntOption(fd, level, name))
        default:
            return .seconds(try readIntOption(fd, level, name))
        }
    }

    /// Writes a time in the key's unit. The duration is rounded **up** to the
    /// unit (whole seconds, milliseconds or microseconds; microseconds for a
    /// `struct timeval`), so a positive duration never becomes 0, which many
    /// options read as "off" or "system default".
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative duration or
    ///   one too large for the C `int` of the unit; nothing is written.
    ///
    /// The corresponding C function is `setsockopt`.
    public func writeOption(to fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { throw .invalidParameter }
        switch unit {
        case .timeval:
            var microseconds = (attoseconds + 999_999_999_999) / 1_000_000_000_000
            var wholeSeconds = seconds
            if microseconds == 1_000_000 { microseconds = 0; wholeSeconds += 1 }
            var value = Timeval()
            guard let tvSeconds = type(of: value.tv_sec).init(exactly: wholeSeconds) else { throw .invalidParameter }
            value.tv_sec = tvSeconds
            value.tv_usec = type(of: value.tv_usec).init(microseconds)
            try writeRawOption(fd, level, name, value)
        default:
            let perSecond: Int64
            switch unit {
            case .milliseconds: perSecond = 1_000
            case .microseconds: perSecond = 1_000_000
            default: perSecond = 1
            }
            let attosecondsPerUnit = 1_000_000_000_000_000_000 / perSecond
            let (scaled, overflow) = seconds.multipliedReportingOverflow(by: perSecond)
            guard !overflow else { throw .invalidParameter }
            let (total, carry) = scaled.addingReportingOverflow((attoseconds + attosecondsPerUnit - 1) / attosecondsPerUnit)
            guard !carry, let value = CInt(exactly: total) else { throw .invalidParameter }
            try writeRawOption(fd, level, name, value)
        }
    }
}

extension String: SocketOptionValue {
    /// Reads a NUL-terminated string of at most 255 bytes (such as
    /// `TCP_CONGESTION` or `SO_BINDTODEVICE`). **Allocates** the `String`;
    /// `option(_:into:)` with a buffer does not. The corresponding C
    /// function is `getsockopt`.
    public static func readOption(from fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) -> String {
        var storage = InlineArray<256, UInt8>(repeating: 0)
        return try withUnsafeMutableBytes(of: &storage) { buffer throws(SockError) -> String in
            let count = try readStringOption(fd, level, name, into: buffer)
            return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    /// Writes the string's UTF-8 bytes (without a terminating NUL, which the
    /// kernel does not need). The corresponding C function is `setsockopt`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a string containing NUL.
    public func writeOption(to fd: CInt, level: CInt, name: CInt, unit: OptionUnit) throws(SockError) {
        var copy = self
        let result = copy.withUTF8 { bytes -> Result<CInt, SockErrno>? in
            if bytes.contains(0) { return nil }
            return Syscall.setsockopt(fd, level, name, bytes.baseAddress, socklen_t(bytes.count))
        }
        guard let result else { throw .invalidParameter }
        _ = try result.mapped()
    }
}

/// getsockopt(2) of a string into `buffer`; returns its length without the NUL.
internal func readStringOption(
    _ fd: CInt, _ level: CInt, _ name: CInt, into buffer: UnsafeMutableRawBufferPointer
) throws(SockError) -> Int {
    var length = socklen_t(buffer.count)
    _ = try Syscall.getsockopt(fd, level, name, buffer.baseAddress, &length).mapped()
    // A plain loop: the generic `firstIndex(of:)` allocates in debug builds.
    let filled = min(Int(length), buffer.count)
    var index = 0
    while index < filled, buffer[index] != 0 { index += 1 }
    return index
}

// MARK: - Get and set on a descriptor (any scope)

extension Descriptor {
    /// Reads the option `key`, of any scope: for callers holding a raw
    /// descriptor. Sockets offer the same, restricted to the scopes their
    /// kind accepts (``Socket/option(_:)``). Keys whose name exists in two
    /// scopes (such as `noDelay` at TCP and SCTP level) need their type
    /// spelled out here: `SocketOption<OptionScope.TCP, _, _>.noDelay`.
    ///
    /// - Throws: The kernel's error mapped to ``SockError`` (for example
    ///   ``SockError/Code/other`` with `ENOPROTOOPT` for an option the socket
    ///   does not have); ``SockError/closed`` after close.
    ///
    /// The corresponding C function is `getsockopt`.
    @inlinable
    public func option<Scope, Value, Access: ReadableOptionAccess>(
        _ key: SocketOption<Scope, Value, Access>
    ) throws(SockError) -> Value {
        try withFileDescriptor { fd throws(SockError) -> Value in
            try Value.readOption(from: fd, level: key.level, name: key.name, unit: key.unit)
        }
    }

    /// Writes the option `key`, of any scope, to `value` (see
    /// ``option(_:)``).
    ///
    /// - Throws: ``SockError/invalidParameter`` for a value the option's unit
    ///   cannot express (nothing is written); the kernel's error mapped to
    ///   ``SockError``; ``SockError/closed`` after close.
    ///
    /// The corresponding C function is `setsockopt`.
    @inlinable
    public func setOption<Scope, Value, Access: WritableOptionAccess>(
        _ key: SocketOption<Scope, Value, Access>, to value: Value
    ) throws(SockError) {
        try withFileDescriptor { fd throws(SockError) in
            try value.writeOption(to: fd, level: key.level, name: key.name, unit: key.unit)
        }
    }

    /// Reads a structure-valued option into `value` and returns how many bytes
    /// the kernel filled: a kernel older than the bindings' headers fills
    /// fewer than `MemoryLayout<Value>.size` (for `TCP_INFO`, for example),
    /// and the bytes past that keep their previous contents. Allocates nothing.
    /// The kernel sees `value` as it is, so fields an option takes as input
    /// (the association id of `SCTP_STATUS`, the peer address of
    /// `SCTP_GET_PEER_ADDR_INFO`) are set before the call.
    ///
    /// The corresponding C function is `getsockopt`.
    @discardableResult
    public func option<Scope, Value: SocketOptionStruct, Access: ReadableOptionAccess>(
        _ key: SocketOption<Scope, Value, Access>, into value: inout Value
    ) throws(SockError) -> Int {
        try withFileDescriptor { fd throws(SockError) -> Int in
            try readRawOption(fd, key.level, key.name, into: &value)
        }
    }

    /// Reads a string-valued option into `buffer` without allocating and
    /// returns the string's length in bytes (without a NUL). A 16-byte buffer
    /// holds any congestion-control or interface name.
    ///
    /// The corresponding C function is `getsockopt`.
    public func option<Scope, Access: ReadableOptionAccess>(
        _ key: SocketOption<Scope, String, Access>, into buffer: UnsafeMutableRawBufferPointer
    ) throws(SockError) -> Int {
        try withFileDescriptor { fd throws(SockError) -> Int in
            try readStringOption(fd, key.level, key.name, into: buffer)
        }
    }
}

// MARK: - Which sockets accept which scopes

// The get/set methods per scope (`option(_:)`, `setOption(_:to:)` and the two
// `option(_:into:)`) extend these protocols and `Socket`; they are generated
// from the `carrier` lines of specs/options.spec into
// Generated/SocketOptionAccess.swift, each forwarding to the `Descriptor`
// method of any scope above.

/// A socket of the IP family (TCP, UDP, SCTP, raw IP): accepts the IPv4
/// (``OptionScope/IP``) and IPv6 (``OptionScope/IPv6``) option keys besides
/// the socket-level ones.
public protocol IPConfigurable: Socket {}

/// A TCP socket (``TCPSocket``, ``TCPConn``, ``TCPListener``): accepts the
/// TCP option keys (``OptionScope/TCP``), such as
/// `try conn.setOption(.noDelay, to: true)`.
public protocol TCPConfigurable: IPConfigurable {}

/// A UDP socket (``UDPSocket``, ``UDPConn``): accepts the UDP option keys
/// (``OptionScope/UDP``), such as `.segmentSize`.
public protocol UDPConfigurable: IPConfigurable {}

/// An SCTP socket (``SCTPSocket``, ``SCTPConn``, ``SCTPListener``): accepts
/// the SCTP option keys (``OptionScope/SCTP``), such as
/// `try sctp.setOption(.noDelay, to: true)`.
public protocol SCTPConfigurable: IPConfigurable {}
