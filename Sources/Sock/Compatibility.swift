// The roles of Go's `net.Conn`, `net.Listener` and `net.PacketConn` as Swift
// protocols with associated types, so generic code can take any socket and
// still be dispatched statically (specialised, no existential, no box):
//
//     func echo<C: StreamConn>(_ conn: C, buffer: UnsafeMutableRawBufferPointer) throws(SockError)
//
// The concrete types keep their own, exact signatures (a stream read is a
// `StreamRead`, a datagram read an `IOResult<Int>`); the protocols name what
// they have in common and the conformances below add nothing but the
// declaration. The Go reference's `Socket` interface is `Socket`
// (Socket.swift).

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

extension TCPConn: StreamConn {}
extension UnixConn: StreamConn, PacketConn {}
extension SCTPConn: StreamConn {}
extension UDPConn: Conn, PacketConn {}
extension RawConn: Conn, PacketConn {}

extension TCPListener: Listener {}
extension UnixListener: Listener {}
extension SCTPListener: Listener {}
