// TCPSocket: an unconnected TCP socket with the reference's defaults, to
// configure before it becomes a connection (connect) or a listener (listen).
import SockBindings

/// An IPv4 or IPv6 TCP socket that is neither connected nor listening yet.
///
/// It is created with the reference's defaults: `SO_REUSEADDR` and
/// `SO_REUSEPORT` on, and `SO_ZEROCOPY` on when the kernel allows it (its
/// error is ignored). Set options, bind if you like, then turn it into a
/// connection with ``connect(to:timeout:)`` or a listener with
/// ``listen(backlog:)``:
///
/// ```swift
/// let socket = try TCPSocket.ipv4()
/// try socket.setOption(.receiveBufferSize, to: 1 << 20)  // before the handshake
/// let conn = try socket.connect(to: server, timeout: .seconds(2))
/// ```
///
/// The socket and the connection or listener made from it share one
/// descriptor: closing either closes both.
///
/// This is the Go reference's `TCPSocket`: `NewTCPSocket4` is ``ipv4()``,
/// `NewTCPSocket6` ``ipv6()``, `Protocol` ``underlyingProtocol``.
public final class TCPSocket: TCPConfigurable {
    /// The owned descriptor (Go: `FD()`).
    public let descriptor: Descriptor

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``.
    public let networkType: NetworkType

    /// Always ``UnderlyingProtocol/stream`` (Go: `Protocol()`).
    public var underlyingProtocol: UnderlyingProtocol { .stream }

    /// Creates a TCP socket of `family` (`AF_INET` or `AF_INET6`) with the
    /// defaults; `SO_REUSEPORT` only when `reusePort`.
    internal init(family: CInt, reusePort: Bool = true) throws(SockError) {
        descriptor = try Descriptor.socket(family: family, type: SockBindings.SOCK_STREAM, protocol: SockBindings.IPPROTO_TCP)
        networkType = NetworkType(family: family)
        try descriptor.closingOnError { () throws(SockError) in try applyDefaults(reusePort: reusePort) }
    }

    /// The reference's `applyTCPDefaults`: SO_REUSEADDR and SO_REUSEPORT on,
    /// SO_ZEROCOPY best effort.
    private func applyDefaults(reusePort: Bool) throws(SockError) {
        try setOption(.reuseAddress, to: true)
        if reusePort {
            try setOption(.reusePort, to: true)
        }
        _ = try? setOption(.zeroCopy, to: true)
    }

    /// Creates an IPv4 TCP socket with the defaults. Go: `NewTCPSocket4`.
    ///
    /// The corresponding C function is `socket`.
    public static func ipv4() throws(SockError) -> TCPSocket {
        try TCPSocket(family: SockBindings.AF_INET)
    }

    /// Creates an IPv6 TCP socket with the defaults. Go: `NewTCPSocket6`.
    ///
    /// The corresponding C function is `socket`.
    public static func ipv6() throws(SockError) -> TCPSocket {
        try TCPSocket(family: SockBindings.AF_INET6)
    }

    /// Binds to a local address (before connecting, to choose the source
    /// address or port; before listening, the address to listen on). Port 0
    /// picks a free port.
    ///
    /// - Throws: ``SockError/addressInUse``,
    ///   ``SockError/addressNotAvailable``,
    ///   ``SockError/invalidParameter`` for an address of the other family.
    ///
    /// The corresponding C function is `bind`.
    public func bind(to address: some SocketAddress) throws(SockError) {
        try descriptor.bindSocket(to: address)
    }

    /// The local address: for a socket bound to port 0, the port the kernel
    /// chose.
    ///
    /// The corresponding C function is `getsockname`.
    public var localAddress: AnySocketAddress {
        get throws(SockError) { try descriptor.socketName(as: AnySocketAddress.self) }
    }

    /// Connects to `remote` and returns the connection (sharing this socket's
    /// descriptor).
    ///
    /// - `timeout` `nil` (or not positive): non-blocking, as the reference's
    ///   `DialTCP`: the connection is returned while the handshake is still in
    ///   progress. Its writes report would-block until it completes, and a
    ///   failure (such as ``SockError/connectionRefused``) surfaces from its
    ///   next read or write, or from ``TCPConn/finishConnect()``.
    /// - With a timeout: waits for the outcome with `poll` and one read of
    ///   `SO_ERROR`, and throws ``SockError/timedOut`` when the handshake
    ///   does not complete in time.
    ///
    /// On failure the socket is closed.
    ///
    /// - Throws: ``SockError/connectionRefused``, ``SockError/timedOut``,
    ///   ``SockError/networkUnreachable``, …
    ///
    /// The corresponding C function is `connect`.
    public func connect<Address: SocketAddress>(to remote: Address, timeout: Duration? = nil) throws(SockError) -> TCPConn {
        try descriptor.closingOnError { () throws(SockError) in
            // Without a deadline, would-block means "in progress": fine.
            _ = try descriptor.connectSocket(to: remote, deadline: Deadline(timeout: timeout))
        }
        return TCPConn(descriptor: descriptor, networkType: networkType, remoteAddress: AnySocketAddress(remote))
    }

    /// Starts listening and returns the listener (sharing this socket's
    /// descriptor). Bind first; an unbound socket listens on a free port of
    /// the wildcard address.
    ///
    /// - Parameter backlog: The queue of pending connections; default
    ///   ``Socket/defaultBacklog`` (511).
    /// - Throws: ``SockError/addressInUse``; ``SockError/invalidParameter``
    ///   for a negative backlog.
    ///
    /// The corresponding C functions are `listen` and `getsockname`.
    public func listen(backlog: Int = TCPSocket.defaultBacklog) throws(SockError) -> TCPListener {
        try descriptor.listenSocket(backlog: backlog)
        return TCPListener(descriptor: descriptor, networkType: networkType, address: try localAddress)
    }
}
