// SCTPConn: an SCTP association (one-to-one style) with adaptive reads and
// writes governed by its own deadlines, and the Swift forms of
// DialSCTP/DialSCTP4/DialSCTP6. Mirrors TCPConn; its read, write, deadline
// setters and local address are the shared implementations of
// `StreamConn`/`Conn` (Compatibility.swift, ConnectionDeadlines.swift).
import SockBindings

/// An SCTP association, from ``dial(to:from:)-(SockaddrInet4,_)``, an
/// ``SCTPDialer``, an ``SCTPListener`` or ``SCTPSocket/connect(to:timeout:)``.
///
/// SCTP is message-oriented: each ``read(into:)`` returns (part of) one
/// message, each ``write(_:)-(UnsafeRawBufferPointer)`` sends one. Reads and writes are non-blocking
/// by default: one system call, and ``StreamRead/wouldBlock`` or
/// ``IOResult/wouldBlock`` when the kernel is not ready. After
/// ``setReadDeadline(_:)`` / ``setWriteDeadline(_:)`` (or
/// ``setDeadline(_:)``) they wait until the deadline and then throw
/// ``SockError/timedOut``. Neither path allocates.
///
/// ```swift
/// let conn = try SCTPDialer(timeout: .seconds(1)).dial(to: try SockaddrInet4("127.0.0.1:9899"))
/// conn.setDeadline(.after(.seconds(5)))
/// _ = try conn.write(request)
/// if case .bytes(let count) = try conn.read(into: buffer) { handle(buffer.prefix(count)) }
/// ```
///
/// Writes pass `MSG_NOSIGNAL`: writing to a gone peer throws
/// ``SockError/connectionReset`` and never raises `SIGPIPE`. Socket, IP
/// and SCTP options are typed keys (``SCTPConfigurable``):
/// `try conn.setOption(.noDelay, to: true)`.
///
/// This is the Go reference's `SCTPConn`: `Read`/`Write` are
/// ``read(into:)``/``write(_:)-(UnsafeRawBufferPointer)``, `LocalAddr` ``localAddress``, `RemoteAddr`
/// ``remoteAddress``, `SetDeadline`/`SetReadDeadline`/`SetWriteDeadline` the
/// methods of the same names taking a ``Deadline`` (``Deadline/none`` clears,
/// like Go's zero time), `SyscallConn` ``descriptor``.
public final class SCTPConn: SCTPConfigurable {
    /// The owned descriptor (Go: `FD()`, `SyscallConn()`).
    public let descriptor: Descriptor

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``.
    public let networkType: NetworkType

    /// One-to-one for dialled and accepted associations.
    public let style: SCTPSocketStyle

    /// The peer's address: where it was dialled, or where an accepted
    /// association came from (its primary address). Go: `RemoteAddr`.
    public let remoteAddress: AnySocketAddress

    /// The read and write deadlines; ``Deadline/none`` (the default) makes
    /// operations non-blocking.
    public let deadlines: ConnectionDeadlines

    /// ``UnderlyingProtocol/stream`` (one-to-one) or
    /// ``UnderlyingProtocol/seqPacket`` (one-to-many) (Go: `Protocol()`).
    @inlinable
    public var underlyingProtocol: UnderlyingProtocol { style.underlyingProtocol }

    internal init(descriptor: Descriptor, networkType: NetworkType, style: SCTPSocketStyle, remoteAddress: AnySocketAddress) {
        self.descriptor = descriptor
        self.networkType = networkType
        self.style = style
        self.remoteAddress = remoteAddress
        self.deadlines = ConnectionDeadlines()
    }

    // MARK: Dialling (Go: DialSCTP4, DialSCTP6, DialSCTP)

    /// Connects to an IPv4 address without waiting for the association to
    /// come up, and returns the connection at once (see
    /// ``SCTPSocket/connect(to:timeout:)``). Use an ``SCTPDialer`` with a
    /// timeout to wait. Go: `DialSCTP4`.
    ///
    /// - Parameters:
    ///   - remote: The address to connect to.
    ///   - local: The local address to bind first, or `nil` to let the kernel
    ///     choose.
    /// - Throws: ``SockError/protocolNotSupported`` without kernel SCTP;
    ///   ``SockError/addressInUse`` (binding `local`), … A refused
    ///   association surfaces later, from the first read, write or
    ///   ``finishConnect()``.
    ///
    /// The corresponding C functions are `socket`, `bind` and `connect`.
    public static func dial(to remote: SockaddrInet4, from local: SockaddrInet4? = nil) throws(SockError) -> SCTPConn {
        try SCTPDialer().dial(to: remote, from: local)
    }

    /// Connects to an IPv6 address without waiting for the association (see
    /// ``dial(to:from:)-(SockaddrInet4,_)``). Go: `DialSCTP6`.
    ///
    /// The corresponding C functions are `socket`, `bind` and `connect`.
    public static func dial(to remote: SockaddrInet6, from local: SockaddrInet6? = nil) throws(SockError) -> SCTPConn {
        try SCTPDialer().dial(to: remote, from: local)
    }

    /// Connects to an IPv4 or IPv6 address, the family following `remote`,
    /// without waiting for the association. Go: `DialSCTP`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` for a Unix address
    ///   or a `local` of another family.
    ///
    /// The corresponding C functions are `socket`, `bind` and `connect`.
    public static func dial(to remote: AnySocketAddress, from local: AnySocketAddress? = nil) throws(SockError) -> SCTPConn {
        try SCTPDialer().dial(to: remote, from: local)
    }

    /// Completes a connection dialled without a timeout: would-block while the
    /// association is being set up, completed once it is up, or throws its
    /// failure (such as ``SockError/connectionRefused``), read once from
    /// `SO_ERROR`.
    ///
    /// The corresponding C functions are `poll` and `getsockopt`
    /// (`SO_ERROR`).
    public func finishConnect() throws(SockError) -> IOResult<Void> {
        try descriptor.finishConnect()
    }
}
