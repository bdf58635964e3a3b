// An IPv4 socket address: the kernel's `sockaddr_in` as a Swift value.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// An IPv4 socket address (address and port): the kernel's `sockaddr_in`,
/// 16 bytes, held by value.
///
/// No class, no heap: creating one, reading or changing its port or address,
/// handing it to the kernel and decoding it from the kernel never allocate.
/// The port is read and written in host byte order; the stored structure
/// keeps the kernel's network byte order.
///
/// ```swift
/// var address = SockaddrInet4(address: .loopback, port: 8080)
/// address.port = 8081
/// let parsed = try SockaddrInet4("192.0.2.1:443")
/// print(parsed)            // "192.0.2.1:443"
/// ```
///
/// This is the Go reference's `SockaddrInet4`; `NewSockaddrInet4(addr, port)`
/// is ``init(address:port:)``, `Addr`/`SetAddr` is ``address``,
/// `Port`/`SetPort` is ``port``, `Family` is ``family-property`` and `Raw` is
/// ``withSockaddrPointer(_:)``.
public struct SockaddrInet4: SocketAddress, BitwiseCopyable {
    /// The kernel structure, always with `sin_family == AF_INET`.
    @usableFromInline
    internal var _raw: RawSockaddrInet4

    /// `AF_INET`.
    @inlinable
    public static var family: CInt { SockBindings.AF_INET }

    /// Creates an address from an IP address and a port (host byte order).
    @inlinable
    public init(address: IPv4Address = .any, port: UInt16 = 0) {
        _raw = RawSockaddrInet4()
        _raw.sin_family = UInt16(truncatingIfNeeded: SockBindings.AF_INET)
        _raw.sin_port = port.bigEndian
        _raw.sin_addr = address.inAddr
    }

    /// Wraps a kernel `sockaddr_in`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` unless
    ///   `raw.sin_family` is `AF_INET`.
    @inlinable
    public init(_ raw: RawSockaddrInet4) throws(SockError) {
        guard CInt(raw.sin_family) == SockBindings.AF_INET else { throw .addressFamilyNotSupported }
        _raw = raw
        _raw.sin_zero = .init(repeating: 0)
    }

    /// Parses `"a.b.c.d:port"`, such as `"127.0.0.1:8080"`.
    ///
    /// The address is a dotted quad (see ``IPv4Address/init(_:)-(String)``); the port is
    /// required and must be 0...65535. Host names are not resolved here; use
    /// ``resolve(host:port:)``. Parsing does not allocate.
    ///
    /// - Throws: ``SockError/invalidParameter``, with `errnoCode` `ERANGE` for
    ///   a port above 65535 and `EINVAL` for any other malformed text (empty,
    ///   no port, a bad octet, …).
    public init(_ string: String) throws(SockError) {
        let bytes = string.utf8.span
        let (host, port) = try splitHostPort(bytes, 0 ..< bytes.count)
        self.init(address: try parseIPv4(bytes, host), port: port)
    }

    /// Creates an address from a dotted-quad address text and a port, such as
    /// `SockaddrInet4(ip: "127.0.0.1", port: 80)`. Host names are not
    /// resolved.
    ///
    /// - Throws: ``SockError/invalidParameter`` as ``IPv4Address/init(_:)-(String)``.
    public init(ip: String, port: UInt16) throws(SockError) {
        self.init(address: try IPv4Address(ip), port: port)
    }

    /// Decodes a kernel-filled address, clamping `length` to `buffer.count`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` when the family is
    ///   not `AF_INET`; ``SockError/invalidParameter`` when fewer than 8 bytes
    ///   (family, port and address) are valid.
    @inlinable
    public init(decoding buffer: UnsafeRawBufferPointer, length: socklen_t) throws(SockError) {
        _raw = RawSockaddrInet4()
        try decodeFixedSockaddr(
            buffer, length: length, family: SockBindings.AF_INET,
            minimumLength: MemoryLayout<RawSockaddrInet4>.offset(of: \.sin_zero)!, into: &_raw)
        _raw.sin_zero = .init(repeating: 0)
    }

    /// The kernel structure (`sockaddr_in`), port and address in network byte
    /// order.
    @inlinable
    public var raw: RawSockaddrInet4 { _raw }

    /// `AF_INET`.
    @inlinable
    public var family: CInt { SockBindings.AF_INET }

    /// The length of a `sockaddr_in`: 16 bytes.
    @inlinable
    public var length: socklen_t { socklen_t(MemoryLayout<RawSockaddrInet4>.size) }

    /// The IP address.
    @inlinable
    public var address: IPv4Address {
        get { IPv4Address(_raw.sin_addr) }
        set { _raw.sin_addr = newValue.inAddr }
    }

    /// The port, in host byte order.
    @inlinable
    public var port: UInt16 {
        get { UInt16(bigEndian: _raw.sin_port) }
        set { _raw.sin_port = newValue.bigEndian }
    }

    /// Calls `body` with a pointer to the `sockaddr_in` and its length (16).
    @inlinable
    public func withSockaddrPointer<Result: ~Copyable, Failure: Error>(
        _ body: (UnsafePointer<RawSockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try withRawSockaddr(_raw, length: length, body)
    }

    /// `"a.b.c.d:port"`, which ``init(_:)-(String)`` parses back. It allocates nothing
    /// beyond the returned string (none at all up to 15 characters).
    public var description: String {
        var text = AddressText()
        text.append(address)
        text.append(AddressByte.colon)
        text.appendDecimal(UInt32(port))
        return text.makeString()
    }

    /// Equal when the addresses and ports are equal.
    @inlinable
    public static func == (lhs: SockaddrInet4, rhs: SockaddrInet4) -> Bool {
        lhs._raw.sin_addr.s_addr == rhs._raw.sin_addr.s_addr && lhs._raw.sin_port == rhs._raw.sin_port
    }

    /// Hashes the address and port.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(_raw.sin_addr.s_addr)
        hasher.combine(_raw.sin_port)
    }
}
