// TCPListener: a listening TCP socket whose accept honours its deadline, and
// the Swift forms of ListenTCP/ListenTCP4/ListenTCP6.
import SockBindings

/// A listening TCP socket.
///
/// ``accept()`` is non-blocking by default (would-block when no connection is
/// pending); after ``setDeadline(_:)`` it waits until the deadline and then
/// throws ``SockError/timedOut``.
///
/// ```swift
/// let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
/// print(listener.address)                 // the port the kernel chose
/// listener.setDeadline(.after(.seconds(1)))
/// if case .completed(let conn) = try listener.accept() { … }
/// ```
///
/// Listening sockets get the reference's defaults: `SO_REUSEADDR`,
/// `SO_REUSEPORT` (unless `reusePort: false`), best-effort `SO_ZEROCOPY`, a
/// backlog of 511. With `SO_REUSEPORT`, a second listener of the same user on
/// the same address and port succeeds and shares the connections; a socket
/// bound there *without* `SO_REUSEPORT` makes listening fail with
/// ``SockError/addressInUse``.
///
/// This is the Go reference's `TCPListener`: `Accept` is ``accept()``,
/// `AcceptSocket` ``acceptSocket()``, `Addr` ``address``, `SetDeadline`
/// ``setDeadline(_:)``.
public final class TCPListener: TCPConfigurable {
    /// The owned descriptor (Go: `FD()`).
    public let descriptor: Descriptor

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``.
    public let networkType: NetworkType

    /// The address the listener is bound to, with the real port when port 0
    /// was asked for (read back with `getsockname` after binding). Go: `Addr`.
    public let address: AnySocketAddress

    /// The deadlines; the read deadline governs ``accept()``.
    public let deadlines: ConnectionDeadlines

    /// Always ``UnderlyingProtocol/stream`` (Go: `Protocol()`).
    public var underlyingProtocol: UnderlyingProtocol { .stream }

    internal init(descriptor: Descriptor, networkType: NetworkType, address: AnySocketAddress) {
        self.descriptor = descriptor
        self.networkType = networkType
        self.address = address
        self.deadlines = ConnectionDeadlines()
    }

    // MARK: Listening (Go: ListenTCP4, ListenTCP6, ListenTCP)

    /// Listens on an IPv4 address; port 0 picks a free port (see
    /// ``address``). Go: `ListenTCP4`.
    ///
    /// - Parameters:
    ///   - local: The address to listen on, such as
    ///     `SockaddrInet4(address: .any, port: 8080)`.
    ///   - backlog: The queue of pending connections; default 511.
    ///   - reusePort: Whether to set `SO_REUSEPORT` (the reference always
    ///     does).
    /// - Throws: ``SockError/addressInUse``,
    ///   ``SockError/addressNotAvailable``, ``SockError/permissionDenied``
    ///   (a port below 1024), ``SockError/invalidParameter`` (a negative
    ///   backlog).
    ///
    /// The corresponding C functions are `socket`, `bind`, `listen` and
    /// `getsockname`.
    public static func listen(
        on local: SockaddrInet4, backlog: Int = TCPListener.defaultBacklog, reusePort: Bool = true
    ) throws(SockError) -> TCPListener {
        try listen(family: SockBindings.AF_INET, on: local, backlog: backlog, reusePort: reusePort)
    }

    /// Listens on an IPv6 address; port 0 picks a free port. Go:
    /// `ListenTCP6`.
    ///
    /// The corresponding C functions are `socket`, `bind`, `listen` and
    /// `getsockname`.
    public static func listen(
        on local: SockaddrInet6, backlog: Int = TCPListener.defaultBacklog, reusePort: Bool = true
    ) throws(SockError) -> TCPListener {
        try listen(family: SockBindings.AF_INET6, on: local, backlog: backlog, reusePort: reusePort)
    }

    /// Listens on an IPv4 or IPv6 address, the family following `local`. Go:
    /// `ListenTCP`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` for a Unix address;
    ///   otherwise as ``listen(on:backlog:reusePort:)-(SockaddrInet4,_,_)``.
    ///
    /// The corresponding C functions are `socket`, `bind`, `listen` and
    /// `getsockname`.
    public static func listen(
        on local: AnySocketAddress, backlog: Int = TCPListener.defaultBacklog, reusePort: Bool = true
    ) throws(SockError) -> TCPListener {
        switch local {
        case .inet4(let address): try listen(on: address, backlog: backlog, reusePort: reusePort)
        case .inet6(let address): try listen(on: address, backlog: backlog, reusePort: reusePort)
        case .unix: throw .addressFamilyNotSupported
        }
    }

    private static func listen<Address: SocketAddress>(
        family: CInt, on local: Address, backlog: Int, reusePort: Bool
    ) throws(SockError) -> TCPListener {
        let socket = try TCPSocket(family: family, reusePort: reusePort)
        return try socket.descriptor.closingOnError { () throws(SockError) -> TCPListener in
            try socket.bind(to: local)
            return try socket.listen(backlog: backlog)
        }
    }

    // MARK: Accepting

    /// Accepts a pending connection, honouring the deadline: without one,
    /// would-block when none is pending; with one, waits and throws
    /// ``SockError/timedOut`` when it passes. The connection is non-blocking
    /// and close-on-exec, and starts with no deadlines. Connections that died
    /// while queued are skipped. Go: `Accept`.
    ///
    /// The corresponding C function is `accept4`.
    public func accept() throws(SockError) -> IOResult<TCPConn> {
        try acceptConnection { (accepted: Descriptor, peer: AnySocketAddress) in
            TCPConn(descriptor: accepted, networkType: networkType, remoteAddress: peer)
        }
    }
}
