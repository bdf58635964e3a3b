// SCTP endpoint addresses: the Go reference's SCTPAddr, ResolveSCTPAddr,
// SCTPAddrFromAddrPort and IPAddrFromSCTPAddr.
//
// Sock's SCTP is single-homed, like the reference: an endpoint is one IP
// address and port, so it is a `SockaddrInet4` or `SockaddrInet6` (or an
// `AnySocketAddress` holding one), the same values TCP and UDP use. What SCTP
// adds is the reference's network names ("sctp", "sctp4", "sctp6") and name
// resolution by them.
import SockBindings

/// The network names of the Go reference's SCTP functions, which choose the
/// address family: `"sctp"` (either), `"sctp4"` (IPv4), `"sctp6"` (IPv6).
///
/// ```swift
/// let network = try SCTPNetwork("sctp4")
/// let server = try network.resolve("localhost:9899")   // .inet4(127.0.0.1:9899)
/// let listener = try SCTPListener.listen(on: server)
/// ```
///
/// Go's `SCTPAddr` is ``AnySocketAddress`` (or ``SockaddrInet4`` /
/// ``SockaddrInet6`` where the family is known), `ResolveSCTPAddr` is
/// ``resolve(_:)``, `SCTPAddrFromAddrPort` is
/// ``SockaddrInet4/init(address:port:)`` /
/// ``SockaddrInet6/init(address:port:scopeID:flowInfo:)``, and
/// `IPAddrFromSCTPAddr` is ``SockaddrInet4/address`` /
/// ``SockaddrInet6/address`` (with ``SockaddrInet6/zone``).
public enum SCTPNetwork: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `"sctp"`: IPv4 or IPv6, whichever the name resolves to first.
    case sctp
    /// `"sctp4"`: IPv4 only.
    case sctp4
    /// `"sctp6"`: IPv6 only.
    case sctp6

    /// Parses a network name: `"sctp"`, `"sctp4"` or `"sctp6"`.
    ///
    /// - Throws: ``SockError/unknownNetwork`` for any other text (Go:
    ///   `ErrUnknownNetwork`, `net.UnknownNetworkError`).
    public init(_ name: String) throws(SockError) {
        guard let network = SCTPNetwork(rawValue: name) else { throw .unknownNetwork }
        self = network
    }

    /// The address family to resolve: `AF_UNSPEC`, `AF_INET` or `AF_INET6`.
    @inlinable
    public var family: CInt {
        switch self {
        case .sctp: SockBindings.AF_UNSPEC
        case .sctp4: SockBindings.AF_INET
        case .sctp6: SockBindings.AF_INET6
        }
    }

    /// The name: "sctp", "sctp4" or "sctp6".
    public var description: String { rawValue }

    /// Resolves `"host:port"` to one SCTP endpoint of this network's family:
    /// `"127.0.0.1:9899"`, `"[::1]:9899"`, `"[fe80::1%eth0]:9899"`,
    /// `"example.com:9899"`, or `":9899"` (the wildcard address, for
    /// listening: Go's nil IP). Numeric addresses are converted without the
    /// resolver; names go to `getaddrinfo` (may block, allocates) and the
    /// first address of the family in the resolver's order is returned.
    ///
    /// Go: `ResolveSCTPAddr(network, address)`.
    ///
    /// - Throws: ``ResolveError``: ``ResolveError/Code/invalidInput`` for
    ///   malformed text or a port that is not a number in 0...65535,
    ///   ``ResolveError/Code/hostNotFound`` when nothing of the family is
    ///   found.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public func resolve(_ hostPort: String) throws(ResolveError) -> AnySocketAddress {
        let addresses = try AnySocketAddress.resolve(hostPort, family: family, passive: true)
        // `resolve` returns at least one address, never a Unix one.
        return addresses[0]
    }

    /// Resolves `host` with `port` to one SCTP endpoint of this network's
    /// family (see ``resolve(_:)``); an empty host is the wildcard address.
    ///
    /// - Throws: ``ResolveError``.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public func resolve(host: String, port: UInt16) throws(ResolveError) -> AnySocketAddress {
        try AnySocketAddress.resolve(host: host, port: port, family: family, passive: true)[0]
    }
}
