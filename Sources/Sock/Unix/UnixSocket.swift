// UnixNetwork (stream, datagram, seqpacket) and UnixSocket: an unconnected
// Unix-domain socket to configure before it becomes a connection or listener.
import SockBindings

/// The kind of a Unix-domain socket, named by the Go reference's network
/// strings: `"unix"` (stream), `"unixgram"` (datagram), `"unixpacket"`
/// (sequenced packets).
public enum UnixNetwork: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A byte stream (`SOCK_STREAM`), network `"unix"`.
    case stream
    /// Datagrams (`SOCK_DGRAM`), network `"unixgram"`.
    case datagram
    /// Connection-based, message-preserving (`SOCK_SEQPACKET`), network
    /// `"unixpacket"`.
    case seqPacket

    /// Parses a Go network name: `"unix"`, `"unixgram"` or `"unixpacket"`.
    ///
    /// - Throws: ``SockError/unknownNetwork`` for any other name.
    public init(_ network: String) throws(SockError) {
        switch network {
        case "unix": self = .stream
        case "unixgram": self = .datagram
        case "unixpacket": self = .seqPacket
        default: throw .unknownNetwork
        }
    }

    /// The Go network name: `"unix"`, `"unixgram"` or `"unixpacket"`.
    public var description: String {
        switch self {
        case .stream: "unix"
        case .datagram: "unixgram"
        case .seqPacket: "unixpacket"
        }
    }

    /// The `SOCK_*` number.
    @inlinable
    public var socketType: CInt {
        switch self {
        case .stream: SockBindings.SOCK_STREAM
        case .datagram: SockBindings.SOCK_DGRAM
        case .seqPacket: SockBindings.SOCK_SEQPACKET
        }
    }

    /// The socket type as an ``UnderlyingProtocol``.
    @inlinable
    public var underlyingProtocol: UnderlyingProtocol {
        switch self {
        case .stream: .stream
        case .datagram: .datagram
        case .seqPacket: .seqPacket
        }
    }
}

/// A Unix-domain socket that is neither connected nor listening yet: bind,
/// set options, then ``listen(backlog:)`` or ``connect(to:timeout:)``.
///
/// The socket and the connection or listener made from it share one
/// descriptor. Sock never removes a socket file, on bind, listen or close:
/// the caller owns it (unlink it before binding again, and after closing).
///
/// This is the Go reference's `UnixSocket`: `NewUnixStreamSocket`,
/// `NewUnixDatagramSocket` and `NewUnixSeqpacketSocket` are ``init(_:)``
/// with ``UnixNetwork/stream``, ``UnixNetwork/datagram`` and
/// ``UnixNetwork/seqPacket``; `Protocol` is ``underlyingProtocol``.
public final class UnixSocket: Socket {
    /// The owned descriptor (Go: `FD()`).
    public let descriptor: Descriptor

    /// The kind of socket: stream, datagram or seqpacket.
    public let network: UnixNetwork

    /// Always ``NetworkType/unix``.
    public var networkType: NetworkType { .unix }

    /// The socket type (Go: `Protocol()`).
    public var underlyingProtocol: UnderlyingProtocol { network.underlyingProtocol }

    /// Creates a Unix-domain socket, non-blocking and close-on-exec. Go:
    /// `NewUnixStreamSocket`, `NewUnixDatagramSocket`,
    /// `NewUnixSeqpacketSocket`.
    ///
    /// The corresponding C function is `socket`.
    public init(_ network: UnixNetwork) throws(SockError) {
        self.descriptor = try Descriptor.socket(family: SockBindings.AF_UNIX, type: network.socketType)
        self.network = network
    }

    /// Binds to `address`: a filesystem path (the file must not exist), an
    /// abstract name (`@name`), or ``SockaddrUnix/init()`` to autobind to a
    /// kernel-chosen abstract name.
    ///
    /// - Throws: ``SockError/addressInUse`` when the path or name is taken.
    ///
    /// The corresponding C function is `bind`.
    public func bind(to address: SockaddrUnix) throws(SockError) {
        try descriptor.bindSocket(to: address)
    }

    /// The socket's own address: the bound path or name, the autobound
    /// abstract name, or the unnamed address.
    ///
    /// The corresponding C function is `getsockname`.
    public var localAddress: SockaddrUnix {
        get throws(SockError) { try descriptor.socketName(as: SockaddrUnix.self) }
    }

    /// Starts listening (stream and seqpacket sockets) and returns the
    /// listener, sharing this socket's descriptor. Bind first (to
    /// ``SockaddrUnix/init()`` for a kernel-chosen abstract name): the kernel
    /// refuses to listen on an unbound Unix socket.
    ///
    /// - Throws: ``SockError/notSupported`` for a datagram socket;
    ///   ``SockError/invalidParameter`` for an unbound socket or a negative
    ///   backlog.
    ///
    /// The corresponding C functions are `listen` and `getsockname`.
    public func listen(backlog: Int = UnixSocket.defaultBacklog) throws(SockError) -> UnixListener {
        try descriptor.listenSocket(backlog: backlog)
        return UnixListener(descriptor: descriptor, network: network, address: try localAddress)
    }

    /// Connects to `remote` and returns the connection, sharing this socket's
    /// descriptor.
    ///
    /// A Unix connect completes at once or fails at once, except when the
    /// listener's backlog is full: then, without a timeout, it throws
    /// ``SockError/wouldBlock`` (the reference reports would-block too); with
    /// a timeout it retries until there is room or the timeout passes
    /// (``SockError/timedOut``). On failure the socket is closed.
    ///
    /// - Throws: ``SockError/connectionRefused`` (nothing listens there, or a
    ///   stale socket file), an error with `ENOENT` (no such file),
    ///   ``SockError/permissionDenied``, ``SockError/wouldBlock``,
    ///   ``SockError/timedOut``.
    ///
    /// The corresponding C function is `connect`.
    public func connect(to remote: SockaddrUnix, timeout: Duration? = nil) throws(SockError) -> UnixConn {
        try descriptor.closingOnError { () throws(SockError) in
            if case .wouldBlock = try descriptor.connectSocket(to: remote, deadline: Deadline(timeout: timeout)) {
                throw SockError.wouldBlock  // backlog full: nothing was started
            }
        }
        return UnixConn(descriptor: descriptor, network: network, remoteAddress: remote)
    }

    /// Makes this (typically bound) datagram socket a ``UnixConn`` without
    /// connecting it, for ``UnixConn/readFrom(into:)`` and
    /// ``UnixConn/writeTo(_:address:)``. Shares this socket's descriptor.
    public func unconnected() -> UnixConn {
        UnixConn(descriptor: descriptor, network: network, remoteAddress: nil)
    }
}
