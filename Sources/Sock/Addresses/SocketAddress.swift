// The socket-address protocol, and the family-agnostic address value.
//
// Go's reference has one interface, `Sockaddr` (`Raw()` + `Family()`), and
// boxes every address in it. In Swift an existential (`any SocketAddress`)
// would heap-allocate a `sockaddr_in6` or `sockaddr_un`, which are too big for
// its inline buffer. So:
//
// - generic code takes `some SocketAddress` (or `<Address: SocketAddress>`)
//   and is specialised: no box, no allocation, the address stays on the stack;
// - code that does not know the family ahead of time (`getsockname` on any
//   socket, Go's `DecodeSockaddr`) gets an `AnySocketAddress`, an enum whose
//   payload is stored inline (112 bytes), not a box.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// A socket address that can be handed to the kernel and decoded from what
/// the kernel returns, without allocation.
///
/// Conforming types are plain values holding the kernel's own structure
/// (``SockaddrInet4``, ``SockaddrInet6``, ``SockaddrUnix``) or any of them
/// (``AnySocketAddress``). Use the protocol as a generic constraint, not as an
/// existential, so the address is never boxed:
///
/// ```swift
/// func bind(_ fd: CInt, to address: some SocketAddress) -> CInt {
///     address.withSockaddrPointer { pointer, length in
///         Glibc.bind(fd, UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self), length)
///     }
/// }
/// ```
///
/// This is the Go reference's `Sockaddr` interface: ``withSockaddrPointer(_:)``
/// is its `Raw()`, ``family`` its `Family()`.
public protocol SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address family: `AF_INET`, `AF_INET6` or `AF_UNIX`.
    var family: CInt { get }

    /// The exact number of bytes of the address the kernel must read (the
    /// `socklen_t` argument of `bind`, `connect` and `sendto`).
    var length: socklen_t { get }

    /// Calls `body` with a pointer to the address in the kernel's layout and
    /// its exact length, for `bind`, `connect`, `sendto` and the like.
    ///
    /// The pointer is valid only during `body`. Nothing is copied to the heap;
    /// errors thrown by `body` pass through unchanged (typed throws).
    func withSockaddrPointer<Result: ~Copyable, Failure: Error>(
        _ body: (UnsafePointer<RawSockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result

    /// Decodes an address the kernel wrote into `buffer` (from `accept`,
    /// `recvfrom`, `recvmsg`, `getsockname` or `getpeername`).
    ///
    /// - Parameters:
    ///   - buffer: The whole storage the kernel was given (typically a
    ///     `RawSockaddrAny`).
    ///   - length: The length the kernel reported. It is clamped to
    ///     `buffer.count`: the kernel reports the address's full length even
    ///     when it did not fit (and for a 108-byte Unix path reports one byte
    ///     more than `sockaddr_un` holds), so it is never trusted beyond the
    ///     storage.
    /// - Throws: ``SockError/addressFamilyNotSupported`` when the family is not
    ///   this type's; ``SockError/invalidParameter`` when the length is too
    ///   short for the family.
    init(decoding buffer: UnsafeRawBufferPointer, length: socklen_t) throws(SockError)
}

extension SocketAddress {
    /// Decodes an address the kernel wrote into `storage`, a
    /// `sockaddr_storage`, reporting `length` bytes (clamped to the storage's
    /// 128 bytes), as the buffer-based `init(decoding:length:)` does.
    ///
    /// This is the Go reference's `DecodeSockaddr` for a known family.
    @inlinable
    public init(decoding storage: RawSockaddrAny, length: socklen_t) throws(SockError) {
        self = try withUnsafeBytes(of: storage) { (buffer) throws(SockError) -> Self in
            try Self(decoding: buffer, length: length)
        }
    }
}

/// The number of valid bytes: the kernel's length, clamped to the storage.
@inlinable
internal func clampedLength(_ length: socklen_t, _ buffer: UnsafeRawBufferPointer) -> Int {
    Swift.min(Int(length), buffer.count)
}

/// The `sa_family` of the first bytes of `buffer`, or throws when fewer than
/// two bytes are valid.
@inlinable
internal func decodedFamily(_ buffer: UnsafeRawBufferPointer, valid: Int) throws(SockError) -> CInt {
    guard valid >= MemoryLayout<UInt16>.size else { throw .invalidParameter }
    return CInt(buffer.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
}

/// Copies the first `count` valid bytes of `buffer` over a zeroed `Raw`.
@inlinable
internal func copyPrefix<Raw: BitwiseCopyable>(
    _ buffer: UnsafeRawBufferPointer, count: Int, into raw: inout Raw
) {
    let count = Swift.min(count, MemoryLayout<Raw>.size)
    withUnsafeMutableBytes(of: &raw) { destination in
        destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
    }
}

/// Decodes a kernel-filled address of a fixed-size layout (`sockaddr_in`,
/// `sockaddr_in6`) into `raw`, a zeroed structure: clamps `length` to
/// `buffer.count`, requires the family `family`
/// (``SockError/addressFamilyNotSupported``) and at least `minimumLength`
/// valid bytes (``SockError/invalidParameter``), and copies the valid bytes.
@inlinable
internal func decodeFixedSockaddr<Raw: BitwiseCopyable>(
    _ buffer: UnsafeRawBufferPointer, length: socklen_t, family: CInt, minimumLength: Int, into raw: inout Raw
) throws(SockError) {
    let valid = clampedLength(length, buffer)
    guard try decodedFamily(buffer, valid: valid) == family else {
        throw .addressFamilyNotSupported
    }
    guard valid >= minimumLength else { throw .invalidParameter }
    copyPrefix(buffer, count: valid, into: &raw)
}

/// Calls `body` with `raw` seen as a `sockaddr`.
@inlinable
internal func withRawSockaddr<Raw: BitwiseCopyable, Result: ~Copyable, Failure: Error>(
    _ raw: Raw, length: socklen_t,
    _ body: (UnsafePointer<RawSockaddr>, socklen_t) throws(Failure) -> Result
) throws(Failure) -> Result {
    try withUnsafePointer(to: raw) { (pointer) throws(Failure) -> Result in
        try pointer.withMemoryRebound(to: RawSockaddr.self, capacity: 1) { (sockaddr) throws(Failure) -> Result in
            try body(sockaddr, length)
        }
    }
}

// MARK: - AnySocketAddress

/// A socket address of any supported family: IPv4, IPv6 or Unix.
///
/// Use it where the family is only known at run time, such as the local
/// address of an arbitrary socket. It is an enum with the address stored
/// inline (no box, no allocation), and is itself a ``SocketAddress``.
///
/// ```swift
/// var storage = RawSockaddrAny()
/// var length = socklen_t(MemoryLayout<RawSockaddrAny>.size)
/// getsockname(fd, &storage, &length)   // via a pointer cast
/// switch try AnySocketAddress(decoding: storage, length: length) {
/// case .inet4(let a): print("IPv4", a.port)
/// case .inet6(let a): print("IPv6", a.scopeID)
/// case .unix(let a):  print("Unix", a.path)
/// }
/// ```
///
/// Decoding is the Go reference's `DecodeSockaddr`.
public enum AnySocketAddress: SocketAddress, BitwiseCopyable {
    /// An IPv4 address (`AF_INET`).
    case inet4(SockaddrInet4)
    /// An IPv6 address (`AF_INET6`).
    case inet6(SockaddrInet6)
    /// A Unix-domain address (`AF_UNIX`).
    case unix(SockaddrUnix)

    /// Parses an IP socket address: `"1.2.3.4:80"` as IPv4, or
    /// `"[::1]:443"` / `"[fe80::1%eth0]:80"` as IPv6.
    ///
    /// Unix addresses are not parsed here (every string is a valid path); use
    /// ``SockaddrUnix/init(path:)``.
    ///
    /// - Throws: ``SockError/invalidParameter`` as ``SockaddrInet4/init(_:)-(String)``
    ///   and ``SockaddrInet6/init(_:)-(String)`` do.
    public init(_ string: String) throws(SockError) {
        let bytes = string.utf8.span
        if bytes.count > 0 && bytes[0] == AddressByte.openBracket {
            self = .inet6(try SockaddrInet6(string))
        } else {
            self = .inet4(try SockaddrInet4(string))
        }
    }

    /// Decodes an address of any supported family (the Go reference's
    /// `DecodeSockaddr`), clamping `length` to `buffer.count`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` for a family other
    ///   than `AF_INET`, `AF_INET6` and `AF_UNIX`;
    ///   ``SockError/invalidParameter`` for a length too short for its family.
    @inlinable
    public init(decoding buffer: UnsafeRawBufferPointer, length: socklen_t) throws(SockError) {
        let family = try decodedFamily(buffer, valid: clampedLength(length, buffer))
        switch family {
        case SockBindings.AF_INET: self = .inet4(try SockaddrInet4(decoding: buffer, length: length))
        case SockBindings.AF_INET6: self = .inet6(try SockaddrInet6(decoding: buffer, length: length))
        case SockBindings.AF_UNIX: self = .unix(try SockaddrUnix(decoding: buffer, length: length))
        default: throw .addressFamilyNotSupported
        }
    }

    /// The address family of the stored address.
    @inlinable
    public var family: CInt {
        switch self {
        case .inet4(let address): address.family
        case .inet6(let address): address.family
        case .unix(let address): address.family
        }
    }

    /// The exact length of the stored address.
    @inlinable
    public var length: socklen_t {
        switch self {
        case .inet4(let address): address.length
        case .inet6(let address): address.length
        case .unix(let address): address.length
        }
    }

    /// Calls `body` with the stored address in the kernel's layout and its
    /// exact length.
    @inlinable
    public func withSockaddrPointer<Result: ~Copyable, Failure: Error>(
        _ body: (UnsafePointer<RawSockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        switch self {
        case .inet4(let address): try address.withSockaddrPointer(body)
        case .inet6(let address): try address.withSockaddrPointer(body)
        case .unix(let address): try address.withSockaddrPointer(body)
        }
    }

    /// The port of an IPv4 or IPv6 address, or nil for a Unix address.
    @inlinable
    public var port: UInt16? {
        switch self {
        case .inet4(let address): address.port
        case .inet6(let address): address.port
        case .unix: nil
        }
    }

    /// The stored address's text: `1.2.3.4:80`, `[::1]:443`, or the Unix path.
    public var description: String {
        switch self {
        case .inet4(let address): address.description
        case .inet6(let address): address.description
        case .unix(let address): address.description
        }
    }
}
