// TCPConn: a TCP connection with adaptive reads and writes governed by its
// own deadlines, and the Swift forms of DialTCP/DialTCP4/DialTCP6. Its read,
// write, deadline setters and local address are the shared implementations
// of `StreamConn`/`Conn` (Compatibility.swift, ConnectionDeadlines.swift).
import SockBindings

/// A TCP connection, from ``dial(to:from:)-(AnySocketAddress,_)``, a ``TCPDialer``, a
/// ``TCPListener`` or ``TCPSocket/connect(to:timeout:)``.
///
/// Reads and writes are non-blocking by default: one system call, and
/// ``StreamRead/wouldBlock`` or ``IOResult/wouldBlock`` when the kernel is not
/// ready. After ``setReadDeadline(_:)`` / ``setWriteDeadline(_:)`` (or
/// ``setDeadline(_:)``) they wait until the deadline and then throw
/// ``SockError/timedOut``. Neither path allocates.
///
/// ```swift
/// let conn = try TCPDialer(timeout: .seconds(1)).dial(to: try SockaddrInet4("127.0.0.1:8080"))
/// conn.setDeadline(.after(.seconds(5)))
/// _ = try conn.write(request)
/// switch try conn.read(into: buffer) {
/// case .bytes(let count): handle(buffer.prefix(count))
/// case .endOfStream: break
/// case .wouldBlock: break   // only without a deadline
/// }
/// ```
///
/// Writes pass `MSG_NOSIGNAL`: writing to a reset peer throws
/// ``SockError/connectionReset`` and never raises `SIGPIPE`. Socket, IP
/// and TCP options are typed keys (``TCPConfigurable``):
/// `try conn.setOption(.noDelay, to: true)`.
///
/// This is the Go reference's `TCPConn`: `Read`/`Write` are
/// ``read(into:)``/``write(_:)-(UnsafeRawBufferPointer)``, `LocalAddr` ``localAddress``, `RemoteAddr`
/// ``remoteAddress``, `SetDeadline`/`SetReadDeadline`/`SetWriteDeadline` the
/// methods of the same names taking a ``Deadline`` (``Deadline/none`` clears,
/// like Go's zero time), `SyscallConn` ``descriptor``.
public final class TCPConn: TCPConfigurable {
    /// The owned descriptor (Go: `FD()`, `SyscallConn()`).
    public let descriptor: Descriptor

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``.
    public let networkType: NetworkType

    /// The peer's address: where it was dialled, or where an accepted
    /// connection came from. Go: `RemoteAddr`.
    public let remoteAddress: AnySocketAddress

    /// The read and write deadlines; ``Deadline/none`` (the default) makes
    /// operations non-blocking.
    public let deadlines: ConnectionDeadlines

    /// Always ``UnderlyingProtocol/stream`` (Go: `Protocol()`).
    @inlinable
    public var underlyingProtocol: UnderlyingProtocol { .stream }

    internal init(descriptor: Descriptor, networkType: NetworkType, remoteAddress: AnySocketAddress) {
        self.descriptor = descriptor
        self.networkType = networkType
        self.remoteAddress = remoteAddress
        self.deadlines = ConnectionDeadlines()
    }

    // MARK: Dialling (Go: DialTCP4, DialTCP6, DialTCP)

    /// Connects to an IPv4 address without waiting for the handshake and
    /// returns the connection at once (it may still be in progress; see
    /// ``TCPSocket/connect(to:timeout:)``). Use a ``TCPDialer`` with a timeout
    /// to wait. Go: `DialTCP4`.
    ///
    /// - Parameters:
    ///   - remote: The address to connect to.
    ///   - local: The local address to bind first, or `nil` to let the kernel
    ///     choose.
    /// - Throws: ``SockError/addressInUse`` (binding `local`),
    ///   ``SockError/networkUnreachable``, … A refused connection surfaces
    ///   later, from the first read, write or ``finishConnect()``.
    ///
    /// The corresponding C functions are `socket`, `bind` and `connect`.
    public static func dial(to remote: SockaddrInet4, from local: SockaddrInet4? = nil) throws(SockError) -> TCPConn {
        try TCPDialer().dial(to: remote, from: local)
    }

    /// Connects to an IPv6 address without waiting for the handshake (see
    /// ``dial(to:from:)-(SockaddrInet4,_)``). Go: `DialTCP6`.
    ///
    /// The corresponding C functions are `socket`, `bind` and `connect`.
    public static func dial(to remote: SockaddrInet6, from local: SockaddrInet6? = nil) throws(SockError) -> TCPConn {
        try TCPDialer().dial(to: remote, from: local)
    }

    /// Connects to an IPv4 or IPv6 address, the family following `remote`,
    /// without waiting for the handshake. Go: `DialTCP`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` for a Unix address
    ///   or a `local` of another family.
    ///
    /// The corresponding C functions are `socket`, `bind` and `connect`.
    public static func dial(to remote: AnySocketAddress, from local: AnySocketAddress? = nil) throws(SockError) -> TCPConn {
        try TCPDialer().dial(to: remote, from: local)
    }

    /// Completes a connection dialled without a timeout: would-block while the
    /// handshake is in progress, completed once connected, or throws its
    /// failure (such as ``SockError/connectionRefused``), read once from
    /// `SO_ERROR`.
    ///
    /// The corresponding C functions are `poll` and `getsockopt`
    /// (`SO_ERROR`).
    public func finishConnect() throws(SockError) -> IOResult<Void> {
        try descriptor.finishConnect()
    }
}
