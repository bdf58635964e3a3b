// The IP socket addresses (IPv4 and IPv6) as a generic constraint, so that
// sockets of both families share one implementation that is specialised per
// family: no existential, no box, the address stays on the stack.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// A socket address of an IP family: ``SockaddrInet4`` or ``SockaddrInet6``.
///
/// IP sockets such as ``UDPConn`` are generic over it. The family is part of
/// the type, so a socket knows at compile time which `AF_*` it was created
/// with, which addresses it accepts and returns, and which family-specific
/// options it has (`IP_TOS` for IPv4, `IPV6_TCLASS` for IPv6, …); each
/// specialisation is as cheap as a hand-written concrete type.
///
/// ```swift
/// let conn = try UDPConn.listen(on: SockaddrInet6(address: .loopback, port: 0))
/// // conn is a UDPConn<SockaddrInet6>; readFrom(into:) returns SockaddrInet6
/// ```
public protocol IPSocketAddress: SocketAddress, BitwiseCopyable {
    /// The address family of every value of the type: `AF_INET` or
    /// `AF_INET6`.
    static var family: CInt { get }

    /// The port, in host byte order.
    var port: UInt16 { get set }
}

extension SockaddrInet4: IPSocketAddress {}

extension SockaddrInet6: IPSocketAddress {}
