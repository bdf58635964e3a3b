// UnixConn: a Unix-domain connection (stream, datagram or seqpacket) with
// adaptive I/O governed by its deadlines; DialUnix, ListenUnixgram and
// UnixConnPair in Swift form. Its read, write, deadline setters and local
// address are the shared implementations of `StreamConn`/`Conn`
// (Compatibility.swift, ConnectionDeadlines.swift); the datagram calls are
// its own.
import SockBindings

/// A Unix-domain socket for reading and writing: a stream or seqpacket
/// connection, or a datagram socket (connected or not).
///
/// Reads and writes are non-blocking by default and wait until the read or
/// write deadline once one is set (``setDeadline(_:)``), then throw
/// ``SockError/timedOut``. Neither path allocates.
///
/// - Stream and seqpacket: ``read(into:)`` reports
///   ``StreamRead/endOfStream`` when the peer has closed (on seqpacket an
///   empty message reads the same way, as in the reference).
/// - Datagram: ``read(into:)`` never reports end of stream (`.bytes(0)` is an
///   empty datagram); ``readFrom(into:)`` also returns the sender, and
///   ``writeTo(_:address:)`` sends to an address. A datagram larger than the
///   send buffer throws ``SockError/messageTooLarge``; one larger than the
///   read buffer is truncated.
///
/// This is the Go reference's `UnixConn`: `Read`, `Write`, `ReadFrom`,
/// `WriteTo`, `LocalAddr`, `RemoteAddr`, `SetDeadline`, `SetReadDeadline`,
/// `SetWriteDeadline`, `SyscallConn` (``descriptor``); `DialUnix` is
/// ``dial(to:from:network:timeout:)``, `ListenUnixgram`
/// ``listenDatagram(on:)``, `UnixConnPair` ``pair(_:)``.
public final class UnixConn: Socket {
    /// The owned descriptor (Go: `FD()`, `SyscallConn()`).
    public let descriptor: Descriptor

    /// The kind of socket: stream, datagram or seqpacket.
    public let network: UnixNetwork

    /// The peer's address: where it was dialled or where an accepted
    /// connection came from (usually unnamed: clients rarely bind), the
    /// unnamed address for a pair, `nil` for an unconnected datagram socket.
    /// Go: `RemoteAddr`.
    public let remoteAddress: SockaddrUnix?

    /// The read and write deadlines; ``Deadline/none`` (the default) makes
    /// operations non-blocking.
    public let deadlines: ConnectionDeadlines

    /// Always ``NetworkType/unix``.
    public var networkType: NetworkType { .unix }

    /// The socket type (Go: `Protocol()`).
    @inlinable
    public var underlyingProtocol: UnderlyingProtocol { network.underlyingProtocol }

    internal init(descriptor: Descriptor, network: UnixNetwork, remoteAddress: SockaddrUnix?) {
        self.descriptor = descriptor
        self.network = network
        self.remoteAddress = remoteAddress
        self.deadlines = ConnectionDeadlines()
    }

    // MARK: Constructors (Go: DialUnix, ListenUnixgram, UnixConnPair)

    /// Connects to the Unix socket at `remote`. Go: `DialUnix`.
    ///
    /// - Parameters:
    ///   - remote: The listener's (or, for datagrams, the peer's) address.
    ///   - local: An address to bind first (for example so that a datagram
    ///     peer can answer), or `nil`.
    ///   - network: ``UnixNetwork/stream`` (default), ``UnixNetwork/datagram``
    ///     or ``UnixNetwork/seqPacket``.
    ///   - timeout: How long to wait when the listener's backlog is full;
    ///     `nil` throws ``SockError/wouldBlock`` at once then (see
    ///     ``UnixSocket/connect(to:timeout:)``).
    /// - Throws: ``SockError/connectionRefused``, an error with `ENOENT`,
    ///   ``SockError/addressInUse`` (binding `local`), ``SockError/wouldBlock``,
    ///   ``SockError/timedOut``.
    ///
    /// The corresponding C functions are `socket`, `bind` and `connect`.
    public static func dial(
        to remote: SockaddrUnix, from local: SockaddrUnix? = nil, network: UnixNetwork = .stream,
        timeout: Duration? = nil
    ) throws(SockError) -> UnixConn {
        let socket = try UnixSocket(network)
        if let local {
            try socket.descriptor.closingOnError { () throws(SockError) in try socket.bind(to: local) }
        }
        return try socket.connect(to: remote, timeout: timeout)
    }

    /// Creates an unconnected datagram socket bound to `local` (a path, an
    /// abstract name, or ``SockaddrUnix/init()`` to autobind), for
    /// ``readFrom(into:)`` and ``writeTo(_:address:)``. Go: `ListenUnixgram`.
    ///
    /// - Throws: ``SockError/addressInUse`` when the path or name is taken.
    ///
    /// The corresponding C functions are `socket` and `bind`.
    public static func listenDatagram(on local: SockaddrUnix) throws(SockError) -> UnixConn {
        let socket = try UnixSocket(.datagram)
        try socket.descriptor.closingOnError { () throws(SockError) in try socket.bind(to: local) }
        return socket.unconnected()
    }

    /// Creates a connected pair, both non-blocking and close-on-exec. Go:
    /// `UnixConnPair`.
    ///
    /// The corresponding C function is `socketpair`.
    public static func pair(_ network: UnixNetwork = .stream) throws(SockError) -> (UnixConn, UnixConn) {
        let (first, second) = try Descriptor.socketPair(family: SockBindings.AF_UNIX, type: network.socketType)
        return (
            UnixConn(descriptor: first, network: network, remoteAddress: SockaddrUnix()),
            UnixConn(descriptor: second, network: network, remoteAddress: SockaddrUnix())
        )
    }

    // MARK: Datagram I/O

    /// Reads one datagram and its sender's address, honouring the read
    /// deadline. The sender is the unnamed address when it is not bound. A
    /// datagram longer than `buffer` is truncated to it.
    ///
    /// - Returns: The byte count (0 for an empty datagram) and the sender, or
    ///   would-block.
    ///
    /// Go: `ReadFrom`. The corresponding C function is `recvfrom`.
    public func readFrom(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> IOResult<(count: Int, from: SockaddrUnix)> {
        var storage = RawSockaddrAny()
        switch try descriptor.receiveFrom(into: buffer, deadline: deadlines.readDeadline, address: &storage) {
        case .wouldBlock:
            return .wouldBlock
        case .completed(let (count, length)):
            return .completed((count, try decodeSocketAddress(storage, length: length)))
        }
    }

    /// Sends one datagram to `address`, honouring the write deadline, with
    /// `MSG_NOSIGNAL`.
    ///
    /// - Throws: ``SockError/connectionRefused`` (nothing bound there), an
    ///   error with `ENOENT` (no such file), ``SockError/messageTooLarge``,
    ///   ``SockError/timedOut``.
    ///
    /// Go: `WriteTo`. The corresponding C function is `sendto`.
    public func writeTo(_ buffer: UnsafeRawBufferPointer, address: SockaddrUnix) throws(SockError) -> IOResult<Int> {
        try descriptor.sendTo(buffer, address: address, deadline: deadlines.writeDeadline)
    }
}
