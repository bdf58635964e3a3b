// UnixListener: a listening Unix stream or seqpacket socket whose accept
// honours its deadline; ListenUnix in Swift form.
import SockBindings

/// A listening Unix-domain socket (stream or seqpacket).
///
/// ``accept()`` is non-blocking by default and waits until the deadline once
/// ``setDeadline(_:)`` is set, then throws ``SockError/timedOut``.
///
/// Sock never removes the socket file, neither when listening nor on close:
/// the caller owns it. Binding a path whose file still exists fails with
/// ``SockError/addressInUse``; unlink it first. Abstract names (`@name`)
/// leave no file.
///
/// ```swift
/// let listener = try UnixListener.listen(on: try SockaddrUnix(path: "@my-service"))
/// let client = try UnixConn.dial(to: listener.address)
/// listener.setDeadline(.after(.seconds(1)))
/// guard case .completed(let server) = try listener.accept() else { … }
/// ```
///
/// This is the Go reference's `UnixListener`: `ListenUnix` is
/// ``listen(on:network:backlog:)``, `Accept` ``accept()``, `AcceptSocket`
/// ``acceptSocket()``, `Addr` ``address``, `SetDeadline`
/// ``setDeadline(_:)``.
public final class UnixListener: Socket {
    /// The owned descriptor (Go: `FD()`).
    public let descriptor: Descriptor

    /// ``UnixNetwork/stream`` or ``UnixNetwork/seqPacket``.
    public let network: UnixNetwork

    /// The address the listener is bound to (read back with `getsockname`,
    /// so an autobound listener shows its kernel-chosen abstract name). Go:
    /// `Addr`.
    public let address: SockaddrUnix

    /// The deadlines; the read deadline governs ``accept()``.
    public let deadlines: ConnectionDeadlines

    /// Always ``NetworkType/unix``.
    public var networkType: NetworkType { .unix }

    /// The socket type (Go: `Protocol()`).
    public var underlyingProtocol: UnderlyingProtocol { network.underlyingProtocol }

    internal init(descriptor: Descriptor, network: UnixNetwork, address: SockaddrUnix) {
        self.descriptor = descriptor
        self.network = network
        self.address = address
        self.deadlines = ConnectionDeadlines()
    }

    /// Listens on `local`: a filesystem path (the file must not exist), an
    /// abstract name (`@name`), or ``SockaddrUnix/init()`` to autobind to a
    /// kernel-chosen abstract name. Go: `ListenUnix`.
    ///
    /// - Parameters:
    ///   - local: The address to listen on.
    ///   - network: ``UnixNetwork/stream`` (default) or
    ///     ``UnixNetwork/seqPacket``.
    ///   - backlog: The queue of pending connections; default 511.
    /// - Throws: ``SockError/addressInUse`` (the path or name is taken),
    ///   ``SockError/notSupported`` (a datagram network: use
    ///   ``UnixConn/listenDatagram(on:)``), ``SockError/invalidParameter`` (a
    ///   negative backlog), an error with `ENOENT` (no such directory).
    ///
    /// The corresponding C functions are `socket`, `bind`, `listen` and
    /// `getsockname`.
    public static func listen(
        on local: SockaddrUnix, network: UnixNetwork = .stream, backlog: Int = UnixListener.defaultBacklog
    ) throws(SockError) -> UnixListener {
        let socket = try UnixSocket(network)
        return try socket.descriptor.closingOnError { () throws(SockError) -> UnixListener in
            try socket.bind(to: local)
            return try socket.listen(backlog: backlog)
        }
    }

    /// Accepts a pending connection, honouring the deadline: without one,
    /// would-block when none is pending; with one, waits and throws
    /// ``SockError/timedOut``. The connection is non-blocking and
    /// close-on-exec, of the listener's network, and starts with no
    /// deadlines. Go: `Accept`.
    ///
    /// The corresponding C function is `accept4`.
    public func accept() throws(SockError) -> IOResult<UnixConn> {
        try acceptConnection { (accepted: Descriptor, peer: SockaddrUnix) in
            UnixConn(descriptor: accepted, network: network, remoteAddress: peer)
        }
    }
}
