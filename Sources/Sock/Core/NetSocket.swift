// NetSocket: a socket of any family and type, by number (the reference's
// NetSocket), with bind, listen, accept, connect, read, write and shutdown.
import SockBindings

/// A socket of any family, type and protocol: the general-purpose socket the
/// typed sockets are made of. Non-blocking and close-on-exec from birth.
///
/// Operations without a deadline make one attempt and report would-block at
/// once; pass a ``Deadline`` to wait (a `NetSocket` keeps no deadlines of its
/// own, unlike ``TCPConn``).
///
/// ```swift
/// let server = try NetSocket.tcp(ipv6: false)
/// try server.bind(to: SockaddrInet4(address: .loopback, port: 0))
/// try server.listen()
/// if case .completed(let (client, peer)) = try server.accept(deadline: .after(.seconds(1))) { … }
/// ```
///
/// This is the Go reference's `NetSocket`: `NewNetSocket` is
/// ``init(domain:type:protocol:)``, `NewNetTCPSocket` ``tcp(ipv6:)``,
/// `NewNetUDPSocket` ``udp(ipv6:)``, `NewNetUnixSocket` ``unix(type:)``,
/// `NetSocketPair` and `UnixSocketPair` ``pair(domain:type:protocol:)``, `FD`
/// ``descriptor``, `Protocol` ``underlyingProtocol``.
public final class NetSocket: TCPConfigurable, UDPConfigurable, SCTPConfigurable {
    /// The owned descriptor (Go: `FD()`).
    public let descriptor: Descriptor

    /// The address family (Go: `NetworkType()`).
    public let networkType: NetworkType

    /// The socket type with the creation flags masked off (Go: `Protocol()`).
    public let underlyingProtocol: UnderlyingProtocol

    /// Wraps a descriptor whose family and type are known.
    internal init(descriptor: Descriptor, networkType: NetworkType, underlyingProtocol: UnderlyingProtocol) {
        self.descriptor = descriptor
        self.networkType = networkType
        self.underlyingProtocol = underlyingProtocol
    }

    /// Creates a socket, non-blocking and close-on-exec. Go: `NewNetSocket`.
    ///
    /// - Parameters:
    ///   - domain: The address family, such as `AF_INET6`.
    ///   - type: The socket type, such as `SOCK_STREAM`; `SOCK_NONBLOCK` and
    ///     `SOCK_CLOEXEC` are always added.
    ///   - proto: The protocol, or 0 for the family's default.
    /// - Throws: ``SockError/addressFamilyNotSupported``,
    ///   ``SockError/protocolNotSupported``, …
    ///
    /// The corresponding C function is `socket`.
    public init(domain: CInt, type: CInt, protocol proto: CInt = 0) throws(SockError) {
        descriptor = try Descriptor.socket(family: domain, type: type, protocol: proto)
        networkType = NetworkType(family: domain)
        underlyingProtocol = UnderlyingProtocol(socketType: type)
    }

    /// Adopts a socket descriptor from elsewhere, asking the kernel for its
    /// family (`SO_DOMAIN`) and type (`SO_TYPE`). The descriptor is not made
    /// non-blocking; see ``Descriptor/setNonBlocking(_:)``.
    ///
    /// - Throws: The error of `getsockopt`, such as `ENOTSOCK`; the descriptor
    ///   stays open then.
    ///
    /// The corresponding C function is `getsockopt`.
    public init(adopting descriptor: Descriptor) throws(SockError) {
        let domain = try descriptor.option(SocketOption<OptionScope.Socket, _, _>.addressFamily)
        let type = try descriptor.option(SocketOption<OptionScope.Socket, _, _>.socketType)
        self.descriptor = descriptor
        self.networkType = NetworkType(family: CInt(truncatingIfNeeded: domain))
        self.underlyingProtocol = UnderlyingProtocol(socketType: CInt(truncatingIfNeeded: type))
    }

    /// Creates a TCP socket (IPv6 when `ipv6`), without the defaults the TCP
    /// types apply. Go: `NewNetTCPSocket`.
    public static func tcp(ipv6: Bool) throws(SockError) -> NetSocket {
        try NetSocket(
            domain: ipv6 ? SockBindings.AF_INET6 : SockBindings.AF_INET, type: SockBindings.SOCK_STREAM,
            protocol: SockBindings.IPPROTO_TCP)
    }

    /// Creates a UDP socket (IPv6 when `ipv6`). Go: `NewNetUDPSocket`.
    public static func udp(ipv6: Bool) throws(SockError) -> NetSocket {
        try NetSocket(
            domain: ipv6 ? SockBindings.AF_INET6 : SockBindings.AF_INET, type: SockBindings.SOCK_DGRAM,
            protocol: SockBindings.IPPROTO_UDP)
    }

    /// Creates a Unix-domain socket of `type` (`SOCK_STREAM`, `SOCK_DGRAM` or
    /// `SOCK_SEQPACKET`). Go: `NewNetUnixSocket`.
    public static func unix(type: CInt = SockBindings.SOCK_STREAM) throws(SockError) -> NetSocket {
        try NetSocket(domain: SockBindings.AF_UNIX, type: type)
    }

    /// Creates a connected pair of sockets, both non-blocking and
    /// close-on-exec. With the defaults, a Unix stream pair (Go:
    /// `UnixSocketPair`); otherwise Go's `NetSocketPair`.
    ///
    /// The corresponding C function is `socketpair`.
    public static func pair(
        domain: CInt = SockBindings.AF_UNIX, type: CInt = SockBindings.SOCK_STREAM, protocol proto: CInt = 0
    ) throws(SockError) -> (NetSocket, NetSocket) {
        let (first, second) = try Descriptor.socketPair(family: domain, type: type, protocol: proto)
        let networkType = NetworkType(family: domain)
        let underlyingProtocol = UnderlyingProtocol(socketType: type)
        return (
            NetSocket(descriptor: first, networkType: networkType, underlyingProtocol: underlyingProtocol),
            NetSocket(descriptor: second, networkType: networkType, underlyingProtocol: underlyingProtocol)
        )
    }

    /// Binds the socket to `address`; port 0 picks a free port (read it back
    /// with ``localAddress``). Go: `Bind`.
    ///
    /// - Throws: ``SockError/addressInUse``,
    ///   ``SockError/addressNotAvailable``, …
    ///
    /// The corresponding C function is `bind`.
    public func bind(to address: some SocketAddress) throws(SockError) {
        try descriptor.bindSocket(to: address)
    }

    /// Starts listening for connections with a queue of `backlog` (default
    /// ``Socket/defaultBacklog``, 511). Go: `Listen`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative backlog.
    ///
    /// The corresponding C function is `listen`.
    public func listen(backlog: Int = NetSocket.defaultBacklog) throws(SockError) {
        try descriptor.listenSocket(backlog: backlog)
    }

    /// Accepts a pending connection: the new socket (non-blocking and
    /// close-on-exec, of this socket's family and type) and the peer's
    /// address. Without a deadline, would-block when none is pending. Go:
    /// `Accept`.
    ///
    /// The corresponding C function is `accept4`.
    public func accept(deadline: Deadline = .none) throws(SockError) -> IOResult<(NetSocket, AnySocketAddress)> {
        switch try descriptor.acceptConnection(deadline: deadline, as: AnySocketAddress.self) {
        case .wouldBlock:
            return .wouldBlock
        case .completed(let (accepted, peer)):
            let socket = NetSocket(descriptor: accepted, networkType: networkType, underlyingProtocol: underlyingProtocol)
            return .completed((socket, peer))
        }
    }

    /// Connects to `address`. Without a deadline this starts the connection
    /// and returns would-block while it is in progress (Go's
    /// `ErrInProgress`); complete it with ``finishConnect()`` once writable.
    /// With a deadline it waits for the outcome. Go: `Connect`.
    ///
    /// - Throws: ``SockError/connectionRefused``, ``SockError/timedOut``, …
    ///
    /// The corresponding C function is `connect`.
    public func connect(to address: some SocketAddress, deadline: Deadline = .none) throws(SockError) -> IOResult<Void> {
        try descriptor.connectSocket(to: address, deadline: deadline)
    }

    /// Completes a connection started without a deadline: would-block while in
    /// progress, completed once connected, or throws its failure.
    ///
    /// The corresponding C functions are `poll` and `getsockopt`
    /// (`SO_ERROR`).
    public func finishConnect() throws(SockError) -> IOResult<Void> {
        try descriptor.finishConnect()
    }

    /// Reads up to `buffer.count` bytes (Go: `Read`).
    ///
    /// On a stream or seqpacket socket, 0 bytes for a non-empty buffer is
    /// ``StreamRead/endOfStream``; on a datagram socket it is an empty
    /// datagram, `.bytes(0)`. An empty buffer gives `.bytes(0)` without a
    /// system call.
    ///
    /// The corresponding C function is `recv`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline = .none) throws(SockError) -> StreamRead {
        try descriptor.readStream(
            into: buffer, deadline: deadline, zeroIsEndOfStream: underlyingProtocol.zeroReadIsEndOfStream)
    }

    /// Writes up to `buffer.count` bytes, with `MSG_NOSIGNAL` (a gone peer
    /// gives ``SockError/connectionReset``, never `SIGPIPE`). Go: `Write`.
    ///
    /// The corresponding C function is `send`.
    public func write(_ buffer: UnsafeRawBufferPointer, deadline: Deadline = .none) throws(SockError) -> IOResult<Int> {
        try descriptor.write(buffer, deadline: deadline)
    }

    /// The socket's own address: for a socket bound to port 0, the port the
    /// kernel chose. An unbound Unix socket reports the unnamed address.
    ///
    /// The corresponding C function is `getsockname`.
    public var localAddress: AnySocketAddress {
        get throws(SockError) { try descriptor.socketName(as: AnySocketAddress.self) }
    }

    /// The connected peer's address.
    ///
    /// - Throws: ``SockError/notConnected`` when not connected.
    ///
    /// The corresponding C function is `getpeername`.
    public var remoteAddress: AnySocketAddress {
        get throws(SockError) { try descriptor.peerName(as: AnySocketAddress.self) }
    }
}
