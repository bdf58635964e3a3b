// The Go reference's address compatibility layer in Swift form: Go's
// net.IP / net.IPAddr (`IPAddress`), ResolveTCPAddr / ResolveUDPAddr /
// ResolveIPAddr / ResolveUnixAddr (`TCPNetwork`, `UDPNetwork`, `IPNetwork`,
// `UnixNetwork.resolve`), IP4AddressToBytes / IP6AddressToBytes, and the
// conversions between Go's net.*Addr values and Sockaddrs.
//
// Go needs conversions because it has two families of address types (the
// net package's heap-allocated TCPAddr/UDPAddr/UnixAddr and the reference's
// Sockaddr values). Sock has one: `SockaddrInet4`, `SockaddrInet6` and
// `SockaddrUnix` ARE the addresses (of TCP, UDP, SCTP and Unix endpoints
// alike), and `AnySocketAddress` holds any of them. What remains of the Go
// functions is converting between those, to and from text, and to a plain IP
// address: all here, all allocation-free except name resolution and text.
import SockBindings

// MARK: - IPAddress

/// An IP address of either family, with the IPv6 scope (zone): the role of
/// Go's `net.IP` and `net.IPAddr`.
///
/// A plain value (no heap): IPv4 is an ``IPv4Address``, IPv6 an
/// ``IPv6Address`` with its scope id (the interface index of a link-local
/// address's `%zone`, 0 for none).
///
/// ```swift
/// let a = try IPAddress("192.0.2.1")
/// let b = try IPAddress("fe80::1%lo")       // .ipv6(fe80::1, scopeID: 1)
/// let endpoint = AnySocketAddress(a, port: 443)
/// print(b)                                   // "fe80::1%lo"
/// ```
///
/// Go's `IPAddrFromTCPAddr`, `IPAddrFromUDPAddr` and `IPAddrFromSCTPAddr`
/// are ``AnySocketAddress/ipAddress``; `IP4AddressToBytes` and
/// `IP6AddressToBytes` are ``ipv4Bytes`` and ``ipv6Bytes``.
public enum IPAddress: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// An IPv4 address.
    case ipv4(IPv4Address)
    /// An IPv6 address and its scope id (the zone's interface index; 0 for
    /// none).
    case ipv6(IPv6Address, scopeID: UInt32)

    /// Parses an IP address: a dotted quad (`"192.0.2.1"`), or an IPv6
    /// address with an optional zone (`"2001:db8::1"`, `"fe80::1%eth0"`,
    /// `"fe80::1%2"`). Brackets and ports are not accepted (see
    /// ``AnySocketAddress/init(_:)`` for `"host:port"` text); names are not
    /// resolved (see ``IPNetwork/resolve(_:)``). Parsing does not allocate.
    ///
    /// - Throws: ``SockError/invalidParameter`` for malformed text (`ENODEV`
    ///   for an unknown zone interface).
    public init(_ string: String) throws(SockError) {
        let bytes = string.utf8.span
        if firstIndex(of: AddressByte.colon, in: bytes, 0 ..< bytes.count) != nil {
            let (address, scopeID) = try parseIPv6WithZone(bytes, 0 ..< bytes.count)
            self = .ipv6(address, scopeID: scopeID)
        } else {
            self = .ipv4(try parseIPv4(bytes, 0 ..< bytes.count))
        }
    }

    /// An IPv6 address without a zone.
    @inlinable
    public init(_ address: IPv6Address) {
        self = .ipv6(address, scopeID: 0)
    }

    /// An IPv4 address.
    @inlinable
    public init(_ address: IPv4Address) {
        self = .ipv4(address)
    }

    /// `AF_INET` or `AF_INET6`.
    @inlinable
    public var family: CInt {
        switch self {
        case .ipv4: SockBindings.AF_INET
        case .ipv6: SockBindings.AF_INET6
        }
    }

    /// The four bytes of an IPv4 address, or of the IPv4 address inside an
    /// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`); `nil` for any other IPv6
    /// address.
    ///
    /// This is the Go reference's `IP4AddressToBytes` (which returns four
    /// zero bytes where this returns `nil`). From text:
    /// `try IPAddress("192.0.2.1").ipv4Bytes`.
    @inlinable
    public var ipv4Bytes: InlineArray<4, UInt8>? {
        switch self {
        case .ipv4(let address): address.bytes
        case .ipv6(let address, _): address.ipv4Mapped?.bytes
        }
    }

    /// The sixteen bytes of an IPv6 address, or of the IPv4-mapped form
    /// (`::ffff:a.b.c.d`) of an IPv4 address.
    ///
    /// This is the Go reference's `IP6AddressToBytes`. From text:
    /// `try IPAddress("2001:db8::1").ipv6Bytes`.
    @inlinable
    public var ipv6Bytes: InlineArray<16, UInt8> {
        switch self {
        case .ipv4(let address): IPv6Address(ipv4Mapped: address).bytes
        case .ipv6(let address, _): address.bytes
        }
    }

    /// Whether this is the unspecified address (`0.0.0.0` or `::`).
    @inlinable
    public var isUnspecified: Bool {
        switch self {
        case .ipv4(let address): address.isUnspecified
        case .ipv6(let address, _): address.isUnspecified
        }
    }

    /// Whether this is a loopback address (`127.0.0.0/8` or `::1`).
    @inlinable
    public var isLoopback: Bool {
        switch self {
        case .ipv4(let address): address.isLoopback
        case .ipv6(let address, _): address.isLoopback
        }
    }

    /// `"192.0.2.1"`, `"2001:db8::1"`, or `"fe80::1%eth0"` with a zone
    /// (the interface's name when the system knows it, else its index).
    /// ``init(_:)-(String)`` parses it back.
    public var description: String {
        var text = AddressText()
        switch self {
        case .ipv4(let address):
            text.append(address)
        case .ipv6(let address, let scopeID):
            text.append(address)
            if scopeID != 0 {
                text.append(AddressByte.percent)
                text.appendZone(scopeID)
            }
        }
        return text.makeString()
    }
}

// MARK: - Conversions between addresses

extension AnySocketAddress {
    /// The socket address of `address` and `port`: an IPv4 one for an IPv4
    /// address, an IPv6 one (with the scope id) for an IPv6 address.
    ///
    /// This is the Go reference's `TCPAddrFromAddrPort`,
    /// `UDPAddrFromAddrPort` and `SCTPAddrFromAddrPort` (a `netip.AddrPort`
    /// is an ``IPAddress`` and a port).
    @inlinable
    public init(_ address: IPAddress, port: UInt16) {
        switch address {
        case .ipv4(let ip): self = .inet4(SockaddrInet4(address: ip, port: port))
        case .ipv6(let ip, let scopeID): self = .inet6(SockaddrInet6(address: ip, port: port, scopeID: scopeID))
        }
    }

    /// The IP address (with the IPv6 scope id) of an IPv4 or IPv6 socket
    /// address, without the port; `nil` for a Unix address.
    ///
    /// This is the Go reference's `IPAddrFromTCPAddr`, `IPAddrFromUDPAddr`
    /// and `IPAddrFromSCTPAddr`.
    @inlinable
    public var ipAddress: IPAddress? {
        switch self {
        case .inet4(let address): .ipv4(address.address)
        case .inet6(let address): .ipv6(address.address, scopeID: address.scopeID)
        case .unix: nil
        }
    }
}

extension SockaddrInet4 {
    /// The IPv4 address held by `address`, or `nil` when it is of another
    /// family.
    ///
    /// With the ``AnySocketAddress/inet4(_:)`` case (the other direction),
    /// this is the Go reference's `SockaddrToTCPAddr`/`TCPAddrToSockaddr`
    /// pair (and the UDP ones) for IPv4: Sock's addresses need no
    /// conversion, only unwrapping.
    @inlinable
    public init?(_ address: AnySocketAddress) {
        guard case .inet4(let inet4) = address else { return nil }
        self = inet4
    }

    /// The IP address, as an ``IPAddress``.
    @inlinable
    public var ipAddress: IPAddress { .ipv4(address) }
}

extension SockaddrInet6 {
    /// The IPv6 address held by `address`, or `nil` when it is of another
    /// family (see ``SockaddrInet4/init(_:)-(AnySocketAddress)``).
    @inlinable
    public init?(_ address: AnySocketAddress) {
        guard case .inet6(let inet6) = address else { return nil }
        self = inet6
    }

    /// The IP address with its scope id, as an ``IPAddress``.
    @inlinable
    public var ipAddress: IPAddress { .ipv6(address, scopeID: scopeID) }
}

extension SockaddrUnix {
    /// The Unix address held by `address`, or `nil` when it is of another
    /// family. With ``AnySocketAddress/unix(_:)``, this is the Go
    /// reference's `SockaddrToUnixAddr`/`UnixAddrToSockaddr` pair.
    @inlinable
    public init?(_ address: AnySocketAddress) {
        guard case .unix(let unix) = address else { return nil }
        self = unix
    }
}

// MARK: - Network names and resolution (Go: ResolveTCPAddr, ResolveUDPAddr, ResolveIPAddr, ResolveUnixAddr)

/// The network names of Go's TCP functions, which choose the address
/// family: `"tcp"` (either), `"tcp4"` (IPv4), `"tcp6"` (IPv6).
///
/// ```swift
/// let server = try TCPNetwork("tcp4").resolve("localhost:8080")   // 127.0.0.1:8080
/// let listener = try TCPListener.listen(on: server)
/// ```
///
/// Go's `ResolveTCPAddr(network, address)` is
/// `try TCPNetwork(network).resolve(address)`; the result, an
/// ``AnySocketAddress``, is what Go calls a `TCPAddr`.
public enum TCPNetwork: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `"tcp"`: IPv4 or IPv6 (IPv4 preferred, as Go does, unless the text is
    /// an IPv6 literal).
    case tcp
    /// `"tcp4"`: IPv4 only.
    case tcp4
    /// `"tcp6"`: IPv6 only.
    case tcp6

    /// Parses a network name: `"tcp"`, `"tcp4"` or `"tcp6"`.
    ///
    /// - Throws: ``SockError/unknownNetwork`` for any other text (Go:
    ///   `net.UnknownNetworkError`).
    public init(_ name: String) throws(SockError) {
        guard let network = TCPNetwork(rawValue: name) else { throw .unknownNetwork }
        self = network
    }

    /// `AF_UNSPEC`, `AF_INET` or `AF_INET6`.
    @inlinable
    public var family: CInt {
        switch self {
        case .tcp: SockBindings.AF_UNSPEC
        case .tcp4: SockBindings.AF_INET
        case .tcp6: SockBindings.AF_INET6
        }
    }

    /// The name: "tcp", "tcp4" or "tcp6".
    public var description: String { rawValue }

    /// Resolves `"host:port"` to one TCP endpoint of this network's family:
    /// `"127.0.0.1:80"`, `"[::1]:80"`, `"[fe80::1%eth0]:80"`,
    /// `"example.com:80"`, or `":80"` (the wildcard address: Go's nil IP).
    /// Numeric addresses are converted without the resolver; names go to
    /// `getaddrinfo` (may block, allocates). For ``tcp`` the first IPv4
    /// address is preferred, unless the host is an IPv6 literal (as in Go).
    ///
    /// Go: `ResolveTCPAddr(network, address)`.
    ///
    /// - Throws: ``ResolveError``: ``ResolveError/Code/invalidInput`` for
    ///   malformed text or a port outside 0...65535,
    ///   ``ResolveError/Code/hostNotFound`` when the host has no address of
    ///   the family.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public func resolve(_ hostPort: String) throws(ResolveError) -> AnySocketAddress {
        try resolveEndpoint(hostPort, family: family)
    }

    /// Resolves `host` with `port` to one TCP endpoint of this network's
    /// family (see ``resolve(_:)``); an empty host is the wildcard address.
    ///
    /// - Throws: ``ResolveError``.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public func resolve(host: String, port: UInt16) throws(ResolveError) -> AnySocketAddress {
        try resolveEndpoint(host: host, port: port, family: family)
    }
}

/// The network names of Go's UDP functions, which choose the address
/// family: `"udp"` (either), `"udp4"` (IPv4), `"udp6"` (IPv6).
///
/// ```swift
/// guard case .inet4(let server) = try UDPNetwork("udp4").resolve("127.0.0.1:5353") else { … }
/// let conn = try UDPConn.dial(to: server)
/// ```
///
/// Go's `ResolveUDPAddr(network, address)` is
/// `try UDPNetwork(network).resolve(address)`; the result, an
/// ``AnySocketAddress``, is what Go calls a `UDPAddr` (unwrap it with
/// ``SockaddrInet4/init(_:)-(AnySocketAddress)`` or
/// ``SockaddrInet6/init(_:)-(AnySocketAddress)`` for a ``UDPConn``).
public enum UDPNetwork: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `"udp"`: IPv4 or IPv6 (IPv4 preferred, as Go does, unless the text is
    /// an IPv6 literal).
    case udp
    /// `"udp4"`: IPv4 only.
    case udp4
    /// `"udp6"`: IPv6 only.
    case udp6

    /// Parses a network name: `"udp"`, `"udp4"` or `"udp6"`.
    ///
    /// - Throws: ``SockError/unknownNetwork`` for any other text.
    public init(_ name: String) throws(SockError) {
        guard let network = UDPNetwork(rawValue: name) else { throw .unknownNetwork }
        self = network
    }

    /// `AF_UNSPEC`, `AF_INET` or `AF_INET6`.
    @inlinable
    public var family: CInt {
        switch self {
        case .udp: SockBindings.AF_UNSPEC
        case .udp4: SockBindings.AF_INET
        case .udp6: SockBindings.AF_INET6
        }
    }

    /// The name: "udp", "udp4" or "udp6".
    public var description: String { rawValue }

    /// Resolves `"host:port"` to one UDP endpoint of this network's family,
    /// as ``TCPNetwork/resolve(_:)`` does. Go: `ResolveUDPAddr(network,
    /// address)`.
    ///
    /// - Throws: ``ResolveError``.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public func resolve(_ hostPort: String) throws(ResolveError) -> AnySocketAddress {
        try resolveEndpoint(hostPort, family: family)
    }

    /// Resolves `host` with `port` to one UDP endpoint of this network's
    /// family; an empty host is the wildcard address.
    ///
    /// - Throws: ``ResolveError``.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public func resolve(host: String, port: UInt16) throws(ResolveError) -> AnySocketAddress {
        try resolveEndpoint(host: host, port: port, family: family)
    }
}

/// The network names of Go's IP functions: `"ip"` (either family), `"ip4"`,
/// `"ip6"`, each optionally with a protocol (`"ip4:icmp"`, `"ip6:58"`).
///
/// Go's `ResolveIPAddr(network, address)` is
/// `try IPNetwork(network).resolve(address)`, returning an ``IPAddress``
/// (Go's `IPAddr`). For raw sockets, ``RawNetwork`` names the protocol
/// instead.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// `AF_UNSPEC` (`"ip"`), `AF_INET` (`"ip4"`) or `AF_INET6` (`"ip6"`).
    public let family: CInt

    /// The IP protocol number after the colon (`"ip4:icmp"` is 1), or `nil`
    /// when the name has none.
    public let protocolNumber: CInt?

    /// Parses `"ip"`, `"ip4"` or `"ip6"`, optionally followed by `:` and a
    /// protocol name (`icmp`, `igmp`, `tcp`, `udp`, `ipv6-icmp`) or number
    /// 0...255, as Go's `ResolveIPAddr` accepts.
    ///
    /// - Throws: ``SockError/unknownNetwork`` for any other text.
    public init(_ name: String) throws(SockError) {
        let prefix: Substring
        if let colon = name.firstIndex(of: ":") {
            prefix = name[..<colon]
            // RawNetwork knows the protocol names; its family is not used.
            protocolNumber = try RawNetwork("ip4" + name[colon...]).protocolNumber
        } else {
            prefix = Substring(name)
            protocolNumber = nil
        }
        switch prefix {
        case "ip": family = SockBindings.AF_UNSPEC
        case "ip4": family = SockBindings.AF_INET
        case "ip6": family = SockBindings.AF_INET6
        default: throw .unknownNetwork
        }
    }

    /// The name: "ip", "ip4" or "ip6", with ":protocol" (as a number) when
    /// one was given.
    public var description: String {
        let base = switch family {
        case SockBindings.AF_INET: "ip4"
        case SockBindings.AF_INET6: "ip6"
        default: "ip"
        }
        guard let protocolNumber else { return base }
        return "\(base):\(protocolNumber)"
    }

    /// Resolves a host (no port) to one IP address of this network's
    /// family: `"192.0.2.1"`, `"::1"`, `"fe80::1%eth0"`, `"localhost"`, or
    /// `""` (the unspecified address: Go's nil IP). Numeric addresses are
    /// converted without the resolver; names go to `getaddrinfo` (may block,
    /// allocates). For `"ip"` the first IPv4 address is preferred unless the
    /// host is an IPv6 literal (as in Go).
    ///
    /// Go: `ResolveIPAddr(network, address)`.
    ///
    /// - Throws: ``ResolveError``.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public func resolve(_ host: String) throws(ResolveError) -> IPAddress {
        // A port never matters here; the resolver is asked for port 0.
        let endpoint = try resolveEndpoint(host: host, port: 0, family: family)
        // resolveEndpoint returns IPv4 or IPv6 addresses only.
        return endpoint.ipAddress ?? .ipv4(.any)
    }
}

extension UnixNetwork {
    /// The Unix address of `path`: a filesystem path, or an abstract name
    /// written `@name`. Nothing is looked up; the network only says what the
    /// address is for.
    ///
    /// Go: `ResolveUnixAddr(network, address)` is
    /// `try UnixNetwork(network).resolve(address)`; the ``SockaddrUnix`` is
    /// Go's `UnixAddr` (whose `Net` is this network).
    ///
    /// - Throws: ``SockError/invalidParameter`` for a path longer than
    ///   ``SockaddrUnix/maxPathLength`` bytes or one containing a NUL byte.
    public func resolve(_ path: String) throws(SockError) -> SockaddrUnix {
        try SockaddrUnix(path: path)
    }
}

/// `"host:port"` to one endpoint of `family`, with Go's preference for IPv4
/// when the family is open and the host is not an IPv6 literal.
private func resolveEndpoint(_ hostPort: String, family: CInt) throws(ResolveError) -> AnySocketAddress {
    let candidates = try AnySocketAddress.resolve(hostPort, family: family, passive: true)
    let wantsIPv6 = hostPort.utf8.first == AddressByte.openBracket
    return pickEndpoint(candidates, family: family, wantsIPv6: wantsIPv6)
}

/// `host` and `port` to one endpoint of `family` (see the text form).
private func resolveEndpoint(host: String, port: UInt16, family: CInt) throws(ResolveError) -> AnySocketAddress {
    let candidates = try AnySocketAddress.resolve(host: host, port: port, family: family, passive: true)
    let wantsIPv6 = host.utf8.contains(AddressByte.colon)
    return pickEndpoint(candidates, family: family, wantsIPv6: wantsIPv6)
}

/// The first IPv4 candidate (or the first IPv6 one for an IPv6 literal)
/// when the family is open, else the first; `candidates` is never empty.
private func pickEndpoint(_ candidates: [AnySocketAddress], family: CInt, wantsIPv6: Bool) -> AnySocketAddress {
    if family == SockBindings.AF_UNSPEC {
        let preferred = candidates.first { address in
            switch address {
            case .inet4: !wantsIPv6
            case .inet6: wantsIPv6
            case .unix: false
            }
        }
        if let preferred { return preferred }
    }
    return candidates[0]
}
