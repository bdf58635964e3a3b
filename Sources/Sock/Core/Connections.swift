// The roles of Go's `net.Conn`, `net.Listener` and `net.PacketConn` as Swift
// protocols with associated types, so generic code can take any socket and
// still be dispatched statically (specialised, no existential, no box):
//
//     func echo<C: StreamConn>(_ conn: C, buffer: UnsafeMutableRawBufferPointer) throws(SockError)
//
// The concrete types keep their own, exact signatures (a stream read is a
// `StreamRead`, a datagram read an `IOResult<Int>`); the protocols name what
// they have in common. What is also implemented in common is implemented once,
// in the extensions below (stream reads, writes, the local address, a
// listener's plain accept) and in ConnectionDeadlines.swift (the deadline
// setters): generic over `Self` and `@inlinable` where it is a hot path, so a
// call on a concrete type is specialised like a method of its own. The Go
// reference's `Socket` interface is `Socket` (Socket.swift).

// MARK: - Read results

/// What a read through ``Conn`` returns: ``StreamRead`` for stream and
/// sequenced-packet connections, `IOResult<Int>` for datagram and raw ones.
///
/// Generic code can handle both through this protocol without knowing which
/// it has:
///
/// ```swift
/// let result = try conn.read(into: buffer)
/// if result.isWouldBlock { … } else if result.isEndOfStream { … } else { use(result.count) }
/// ```
public protocol ConnReadResult: Sendable {
    /// The number of bytes read; 0 when the read would have blocked or the
    /// stream ended.
    var count: Int { get }

    /// Whether nothing was ready (Go: `iox.ErrWouldBlock`).
    var isWouldBlock: Bool { get }

    /// Whether the peer has closed its side of a stream (Go: `io.EOF`).
    /// Never true for datagrams.
    var isEndOfStream: Bool { get }
}

extension StreamRead: ConnReadResult {}

extension IOResult: ConnReadResult where Success == Int {
    /// Always `false`: a datagram or raw read has no end of stream (an empty
    /// datagram is `.completed(0)`).
    @inlinable
    public var isEndOfStream: Bool { false }
}

// MARK: - Conn

/// A connection that reads and writes bytes and has deadlines: the role of
/// Go's `net.Conn` (the Go reference's `Conn`).
///
/// ``TCPConn``, ``UnixConn``, ``SCTPConn``, ``UDPConn`` and ``RawConn``
/// conform. Write generic code against it (`some Conn`, `<C: Conn>`), not
/// against `any Conn`: calls are then specialised and allocate nothing.
///
/// ```swift
/// func send<C: Conn>(_ request: UnsafeRawBufferPointer, over conn: C,
///                    reply: UnsafeMutableRawBufferPointer) throws(SockError) -> Int {
///     conn.setDeadline(.after(.seconds(2)))
///     _ = try conn.write(request)
///     return try conn.read(into: reply).count
/// }
/// ```
///
/// Go's methods map one to one: `Read` is ``read(into:)``, `Write`
/// ``write(_:)``, `Close` ``Socket/close()``, `LocalAddr` ``localAddress``,
/// `RemoteAddr` ``remoteAddress``, `SetDeadline`, `SetReadDeadline` and
/// `SetWriteDeadline` the methods of the same names.
public protocol Conn: Socket {
    /// The type of the local address: ``AnySocketAddress`` for TCP, SCTP and
    /// raw connections, ``SockaddrUnix`` for Unix ones, the address type of
    /// a ``UDPConn``.
    associatedtype Address: SocketAddress

    /// The type of ``remoteAddress``: an address, or an optional one where a
    /// connection may have no peer (an unconnected UDP or Unix datagram
    /// socket).
    associatedtype RemoteAddress: Hashable & Sendable

    /// The type a read returns: ``StreamRead`` for streams, `IOResult<Int>`
    /// for datagrams.
    associatedtype ReadResult: ConnReadResult

    /// Reads up to `buffer.count` bytes (one message on message-oriented
    /// sockets), honouring the read deadline. Go: `Read`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> ReadResult

    /// Writes up to `buffer.count` bytes (one message on message-oriented
    /// sockets), honouring the write deadline. Go: `Write`.
    func write(_ buffer: UnsafeRawBufferPointer) throws(SockError) -> IOResult<Int>

    /// The local address. Go: `LocalAddr`.
    var localAddress: Address { get throws(SockError) }

    /// The peer's address. Go: `RemoteAddr`.
    var remoteAddress: RemoteAddress { get throws(SockError) }

    /// The read and write deadlines, which ``setDeadline(_:)``,
    /// ``setReadDeadline(_:)`` and ``setWriteDeadline(_:)`` set;
    /// ``Deadline/none`` (the default) makes operations non-blocking.
    var deadlines: ConnectionDeadlines { get }

    /// Sets the read and write deadlines; ``Deadline/none`` makes operations
    /// non-blocking. Go: `SetDeadline`.
    func setDeadline(_ deadline: Deadline)

    /// Sets the read deadline. Go: `SetReadDeadline`.
    func setReadDeadline(_ deadline: Deadline)

    /// Sets the write deadline. Go: `SetWriteDeadline`.
    func setWriteDeadline(_ deadline: Deadline)
}

/// A stream or sequenced-packet connection, whose reads distinguish bytes,
/// end of stream and would-block (``StreamRead``): ``TCPConn``,
/// ``UnixConn`` and ``SCTPConn``.
///
/// ```swift
/// func drain<C: StreamConn>(_ conn: C, into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> Int {
///     var total = 0
///     while case .bytes(let count) = try conn.read(into: buffer) { total += count }
///     return total
/// }
/// ```
public protocol StreamConn: Conn where ReadResult == StreamRead {}

// MARK: - Shared implementations

extension Conn {
    /// Writes up to `buffer.count` bytes, honouring the write deadline, with
    /// `MSG_NOSIGNAL`. On a stream a completed write may be short; with a
    /// deadline it waits for room only until something can be written. On a
    /// message-oriented socket `buffer` is sent as one message: an SCTP
    /// message, a Unix datagram or seqpacket message, a raw packet to the
    /// connected peer.
    ///
    /// - Returns: The number of bytes written, or would-block when the send
    ///   buffer is full (or a TCP handshake is still in progress, or an SCTP
    ///   association is not up yet) and there is no write deadline.
    /// - Throws: ``SockError/connectionReset`` (the peer is gone; never
    ///   `SIGPIPE`), ``SockError/notConnected`` (a socket that is not
    ///   connected, such as a raw connection that was not dialled),
    ///   ``SockError/messageTooLarge`` (a message larger than the send
    ///   buffer, or, on SCTP, than the path MTU with fragmentation disabled),
    ///   ``SockError/timedOut``, ``SockError/closed``.
    ///
    /// Go: `Write` (`TCPConn.Write`, `SCTPConn.Write`, `UnixConn.Write`, …).
    /// The corresponding C function is `send` (with `MSG_NOSIGNAL`).
    @inlinable
    public func write(_ buffer: UnsafeRawBufferPointer) throws(SockError) -> IOResult<Int> {
        try descriptor.write(buffer, deadline: deadlines.writeDeadline)
    }

    /// The local address, asked of the kernel: for an IP connection the
    /// bound address and port (for a multi-homed SCTP endpoint, the primary
    /// one); for a Unix one the bound path or name, the autobound abstract
    /// name, or the unnamed address. Go: `LocalAddr` (`SCTPConn.LocalAddr`,
    /// …).
    ///
    /// The corresponding C function is `getsockname`.
    public var localAddress: Address {
        get throws(SockError) { try descriptor.socketName(as: Address.self) }
    }
}

extension StreamConn {
    /// Reads up to `buffer.count` bytes, honouring the read deadline. On a
    /// message-oriented socket a read returns (part of) one message: an SCTP
    /// message longer than `buffer` is delivered over several reads; on Unix
    /// datagram and seqpacket sockets each read is one message.
    ///
    /// - Returns: ``StreamRead/bytes(_:)``; ``StreamRead/endOfStream`` once
    ///   the peer has shut down or closed (an SCTP peer: shut the association
    ///   down), never on a datagram socket, where `.bytes(0)` is an empty
    ///   datagram; ``StreamRead/wouldBlock`` when no data is ready and there
    ///   is no read deadline. An empty buffer gives `.bytes(0)` without a
    ///   system call.
    /// - Throws: ``SockError/connectionReset`` (the peer reset, for example
    ///   closing with `SO_LINGER` 0; an SCTP peer aborted),
    ///   ``SockError/timedOut`` (the read deadline passed),
    ///   ``SockError/connectionRefused`` (a non-blocking dial failed),
    ///   ``SockError/closed``.
    ///
    /// Go: `Read` (`TCPConn.Read`, `SCTPConn.Read`, `UnixConn.Read`), which
    /// reports `io.EOF` and `iox.ErrWouldBlock`. The corresponding C function
    /// is `recv`.
    @inlinable
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> StreamRead {
        try descriptor.readStream(
            into: buffer, deadline: deadlines.readDeadline, zeroIsEndOfStream: underlyingProtocol != .datagram)
    }
}

// MARK: - Listener

/// A socket that accepts connections: the role of Go's `net.Listener` (the
/// Go reference's `Listener` and `ListenerSocket`).
///
/// ``TCPListener``, ``UnixListener`` and ``SCTPListener`` conform. Go's
/// `Accept` is ``accept()`` (returning the concrete connection type, never
/// boxed), `AcceptSocket` ``acceptSocket()``, `Addr` ``address``, `Close`
/// ``Socket/close()``, `SetDeadline` ``setDeadline(_:)``.
///
/// ```swift
/// func acceptOne<L: Listener>(from listener: L) throws(SockError) -> L.Connection? {
///     listener.setDeadline(.after(.seconds(1)))
///     return try listener.accept().value
/// }
/// ```
public protocol Listener: Socket {
    /// The connection type ``accept()`` returns.
    associatedtype Connection: Conn

    /// The type of ``address``.
    associatedtype Address: SocketAddress

    /// The address the listener is bound to. Go: `Addr`.
    var address: Address { get }

    /// The deadlines; the read deadline governs ``accept()`` and
    /// ``acceptSocket()``.
    var deadlines: ConnectionDeadlines { get }

    /// Accepts a pending connection, honouring the deadline: without one,
    /// would-block when none is pending. Go: `Accept`.
    func accept() throws(SockError) -> IOResult<Connection>

    /// Accepts a pending connection as a plain ``NetSocket``. Go:
    /// `AcceptSocket`.
    func acceptSocket() throws(SockError) -> IOResult<NetSocket>

    /// Sets the deadline of ``accept()`` and ``acceptSocket()``. Go:
    /// `SetDeadline`.
    func setDeadline(_ deadline: Deadline)
}

extension Listener {
    /// Accepts a pending connection (an SCTP association) as a plain
    /// ``NetSocket`` of the listener's family and socket type (no deadlines,
    /// no peer address decoded), for callers that manage it themselves.
    /// Honours the deadline like ``accept()``. Go: `AcceptSocket`
    /// (`SCTPListener.AcceptSocket`, …).
    ///
    /// The corresponding C function is `accept4`.
    public func acceptSocket() throws(SockError) -> IOResult<NetSocket> {
        switch try descriptor.accept(deadline: deadlines.readDeadline) {
        case .wouldBlock:
            return .wouldBlock
        case .completed(let accepted):
            return .completed(NetSocket(descriptor: accepted, networkType: networkType, underlyingProtocol: underlyingProtocol))
        }
    }

    /// Accepts a pending connection, honouring the deadline, and makes the
    /// ``Connection`` from the accepted descriptor and the peer's address
    /// with `connection`: the body of every ``accept()``.
    internal func acceptConnection<Peer: SocketAddress>(
        _ connection: (Descriptor, Peer) -> Connection
    ) throws(SockError) -> IOResult<Connection> {
        switch try descriptor.acceptConnection(deadline: deadlines.readDeadline, as: Peer.self) {
        case .wouldBlock:
            return .wouldBlock
        case .completed(let (accepted, peer)):
            return .completed(connection(accepted, peer))
        }
    }
}

// MARK: - PacketConn

/// A socket that reads datagrams with their sender and writes them to an
/// address: the role of Go's `net.PacketConn` (the Go reference's
/// `PacketConn`).
///
/// ``UDPConn``, ``UnixConn`` (datagram sockets) and ``RawConn`` conform.
/// Go's `ReadFrom` is ``readFrom(into:)``, `WriteTo`
/// ``writeTo(_:address:)``, `LocalAddr` ``localAddress``, `Close`
/// ``Socket/close()``, and the deadline setters keep their names. The
/// sender comes back by value, typed: no `net.Addr` interface, no
/// allocation.
///
/// ```swift
/// func reflect<P: PacketConn>(_ conn: P, buffer: UnsafeMutableRawBufferPointer) throws(SockError) {
///     guard case .completed(let got) = try conn.readFrom(into: buffer) else { return }
///     _ = try conn.writeTo(UnsafeRawBufferPointer(rebasing: buffer[0 ..< got.count]), address: got.from)
/// }
/// ```
public protocol PacketConn: Socket {
    /// The type of the sender and destination addresses.
    associatedtype Address: SocketAddress

    /// Reads one datagram and its sender, honouring the read deadline. A
    /// datagram longer than `buffer` is truncated. Go: `ReadFrom`.
    func readFrom(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> IOResult<(count: Int, from: Address)>

    /// Sends one datagram to `address`, honouring the write deadline. Go:
    /// `WriteTo`.
    func writeTo(_ buffer: UnsafeRawBufferPointer, address: Address) throws(SockError) -> IOResult<Int>

    /// The local address. Go: `LocalAddr`.
    var localAddress: Address { get throws(SockError) }

    /// Sets the read and write deadlines. Go: `SetDeadline`.
    func setDeadline(_ deadline: Deadline)

    /// Sets the read deadline. Go: `SetReadDeadline`.
    func setReadDeadline(_ deadline: Deadline)

    /// Sets the write deadline. Go: `SetWriteDeadline`.
    func setWriteDeadline(_ deadline: Deadline)
}

// MARK: - Conformances

extension TCPConn: StreamConn {
    /// The type of ``localAddress``.
    public typealias Address = AnySocketAddress
}

extension UnixConn: StreamConn, PacketConn {
    /// The type of ``localAddress`` and of the datagram peers.
    public typealias Address = SockaddrUnix
}

extension SCTPConn: StreamConn {
    /// The type of ``localAddress``.
    public typealias Address = AnySocketAddress
}

extension UDPConn: Conn, PacketConn {}

extension RawConn: Conn, PacketConn {
    /// The type of ``localAddress`` and of the packet peers.
    public typealias Address = AnySocketAddress
}

extension TCPListener: Listener {}
extension UnixListener: Listener {}
extension SCTPListener: Listener {}
