// An IPv6 socket address: the kernel's `sockaddr_in6` as a Swift value.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// An IPv6 socket address (address, port, scope id and flow information): the
/// kernel's `sockaddr_in6`, 28 bytes, held by value.
///
/// No class, no heap: creating one, reading or changing its fields, handing it
/// to the kernel and decoding it from the kernel never allocate. The port and
/// flow information are read and written in host byte order; the stored
/// structure keeps the kernel's network byte order.
///
/// The scope id is the index of the network interface a link-local address
/// belongs to. Its text form is the zone: `[fe80::1%eth0]:80`. Parsing
/// accepts an interface name (looked up with `if_nametoindex`) or a number;
/// printing uses the interface name when `if_indextoname` knows the index and
/// the number otherwise.
///
/// ```swift
/// let local = SockaddrInet6(address: .loopback, port: 443)
/// let linkLocal = try SockaddrInet6("[fe80::1%lo]:80")
/// print(linkLocal.scopeID)     // the index of lo, typically 1
/// print(linkLocal)             // "[fe80::1%lo]:80"
/// ```
///
/// This is the Go reference's `SockaddrInet6`; `NewSockaddrInet6(addr, port,
/// zone)` is ``init(address:port:scopeID:flowInfo:)``, `Addr`/`SetAddr` is
/// ``address``, `Port`/`SetPort` is ``port``, `ScopeID`/`SetScopeID` is
/// ``scopeID``, `Family` is ``family-property`` and `Raw` is ``withSockaddrPointer(_:)``.
public struct SockaddrInet6: SocketAddress, BitwiseCopyable {
    /// The kernel structure, always with `sin6_family == AF_INET6`.
    @usableFromInline
    internal var _raw: RawSockaddrInet6

    /// `AF_INET6`.
    @inlinable
    public static var family: CInt { SockBindings.AF_INET6 }

    /// Creates an address from an IP address, a port, a scope id (interface
    /// index, 0 for none) and flow information, all in host byte order.
    @inlinable
    public init(address: IPv6Address = .any, port: UInt16 = 0, scopeID: UInt32 = 0, flowInfo: UInt32 = 0) {
        _raw = RawSockaddrInet6()
        _raw.sin6_family = UInt16(truncatingIfNeeded: SockBindings.AF_INET6)
        _raw.sin6_port = port.bigEndian
        _raw.sin6_flowinfo = flowInfo.bigEndian
        _raw.sin6_addr = address.in6Addr
        _raw.sin6_scope_id = scopeID
    }

    /// Wraps a kernel `sockaddr_in6`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` unless
    ///   `raw.sin6_family` is `AF_INET6`.
    @inlinable
    public init(_ raw: RawSockaddrInet6) throws(SockError) {
        guard CInt(raw.sin6_family) == SockBindings.AF_INET6 else { throw .addressFamilyNotSupported }
        _raw = raw
    }

    /// Parses `"[address]:port"` or `"[address%zone]:port"`, such as
    /// `"[::1]:443"`, `"[2001:db8::1]:80"`, `"[::ffff:192.0.2.1]:80"` or
    /// `"[fe80::1%eth0]:80"`.
    ///
    /// The brackets and the port are required. A zone is an interface name
    /// (its index is looked up with `if_nametoindex`, the only system call
    /// parsing makes) or a decimal scope id. Host names are not resolved here;
    /// use ``resolve(host:port:)``. Parsing does not allocate.
    ///
    /// - Throws: ``SockError/invalidParameter``, with `errnoCode` `ERANGE` for
    ///   a port above 65535, `ENODEV` for a zone that names no interface, and
    ///   `EINVAL` for any other malformed text (empty, missing brackets or
    ///   port, a bad address, an empty zone, …).
    public init(_ string: String) throws(SockError) {
        let bytes = string.utf8.span
        let (host, port) = try splitBracketedHostPort(bytes, 0 ..< bytes.count)
        let (address, scope) = try parseIPv6WithZone(bytes, host)
        self.init(address: address, port: port, scopeID: scope)
    }

    /// Creates an address from an address text with an optional zone and a
    /// port, such as `SockaddrInet6(ip: "fe80::1%eth0", port: 80)`. No
    /// brackets; host names are not resolved.
    ///
    /// - Throws: ``SockError/invalidParameter`` as ``init(_:)-(String)``.
    public init(ip: String, port: UInt16) throws(SockError) {
        let bytes = ip.utf8.span
        let (address, scope) = try parseIPv6WithZone(bytes, 0 ..< bytes.count)
        self.init(address: address, port: port, scopeID: scope)
    }

    /// Decodes a kernel-filled address, clamping `length` to `buffer.count`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` when the family is
    ///   not `AF_INET6`; ``SockError/invalidParameter`` when fewer than 24
    ///   bytes (everything up to the scope id) are valid.
    @inlinable
    public init(decoding buffer: UnsafeRawBufferPointer, length: socklen_t) throws(SockError) {
        _raw = RawSockaddrInet6()
        try decodeFixedSockaddr(
            buffer, length: length, family: SockBindings.AF_INET6,
            minimumLength: MemoryLayout<RawSockaddrInet6>.offset(of: \.sin6_scope_id)!, into: &_raw)
    }

    /// The kernel structure (`sockaddr_in6`), port, flow information and
    /// address in network byte order.
    @inlinable
    public var raw: RawSockaddrInet6 { _raw }

    /// `AF_INET6`.
    @inlinable
    public var family: CInt { SockBindings.AF_INET6 }

    /// The length of a `sockaddr_in6`: 28 bytes.
    @inlinable
    public var length: socklen_t { socklen_t(MemoryLayout<RawSockaddrInet6>.size) }

    /// The IP address.
    @inlinable
    public var address: IPv6Address {
        get { IPv6Address(_raw.sin6_addr) }
        set { _raw.sin6_addr = newValue.in6Addr }
    }

    /// The port, in host byte order.
    @inlinable
    public var port: UInt16 {
        get { UInt16(bigEndian: _raw.sin6_port) }
        set { _raw.sin6_port = newValue.bigEndian }
    }

    /// The scope id: the index of the interface a link-local address belongs
    /// to, or 0.
    @inlinable
    public var scopeID: UInt32 {
        get { _raw.sin6_scope_id }
        set { _raw.sin6_scope_id = newValue }
    }

    /// The flow information (traffic class and flow label), in host byte
    /// order.
    @inlinable
    public var flowInfo: UInt32 {
        get { UInt32(bigEndian: _raw.sin6_flowinfo) }
        set { _raw.sin6_flowinfo = newValue.bigEndian }
    }

    /// The zone text of ``scopeID``: the interface's name when the system knows
    /// the index (`if_indextoname`), otherwise the number; nil when the scope
    /// id is 0.
    public var zone: String? {
        guard scopeID != 0 else { return nil }
        var text = AddressText()
        text.appendZone(scopeID)
        return text.makeString()
    }

    /// Calls `body` with a pointer to the `sockaddr_in6` and its length (28).
    @inlinable
    public func withSockaddrPointer<Result: ~Copyable, Failure: Error>(
        _ body: (UnsafePointer<RawSockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try withRawSockaddr(_raw, length: length, body)
    }

    /// `"[address]:port"` with the address in RFC 5952 canonical form, and
    /// `"[address%zone]:port"` when the scope id is not 0 (see ``zone``).
    /// ``init(_:)-(String)`` parses it back. It allocates nothing beyond the returned
    /// string; with a scope id it asks the kernel for the interface name.
    public var description: String {
        var text = AddressText()
        text.append(AddressByte.openBracket)
        text.append(address)
        if scopeID != 0 {
            text.append(AddressByte.percent)
            text.appendZone(scopeID)
        }
        text.append(AddressByte.closeBracket)
        text.append(AddressByte.colon)
        text.appendDecimal(UInt32(port))
        return text.makeString()
    }

    /// Equal when the addresses, ports, scope ids and flow information are
    /// equal.
    @inlinable
    public static func == (lhs: SockaddrInet6, rhs: SockaddrInet6) -> Bool {
        lhs.address == rhs.address && lhs._raw.sin6_port == rhs._raw.sin6_port
            && lhs._raw.sin6_scope_id == rhs._raw.sin6_scope_id
            && lhs._raw.sin6_flowinfo == rhs._raw.sin6_flowinfo
    }

    /// Hashes the address, port, scope id and flow information.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(address)
        hasher.combine(_raw.sin6_port)
        hasher.combine(_raw.sin6_scope_id)
        hasher.combine(_raw.sin6_flowinfo)
    }
}
