// SCTPSocket: an SCTP socket (one-to-one or one-to-many) with the reference's
// defaults, to configure before it becomes a connection (connect) or a
// listener (listen). Mirrors TCPSocket.
//
// SCTP needs kernel support (the `sctp` module). Where it is missing,
// socket(2) fails with EPROTONOSUPPORT for SOCK_STREAM and ESOCKTNOSUPPORT
// for SOCK_SEQPACKET; both surface as `SockError.protocolNotSupported` (the
// errno is kept), so callers test one case.
import SockBindings

/// The two styles of SCTP socket (RFC 6458 §3, §4).
public enum SCTPSocketStyle: Hashable, Sendable, CustomStringConvertible {
    /// One-to-one (`SOCK_STREAM`): one association per socket, TCP-like
    /// `listen`/`accept`/`connect`. The style of ``SCTPConn``,
    /// ``SCTPListener`` and ``SCTPDialer``. Go: `NewSCTPStreamSocket4/6`.
    case oneToOne
    /// One-to-many (`SOCK_SEQPACKET`): many associations on one socket,
    /// addressed per message. Go: `NewSCTPSocket4/6`.
    case oneToMany

    /// `SOCK_STREAM` or `SOCK_SEQPACKET`.
    @inlinable
    public var socketType: CInt {
        switch self {
        case .oneToOne: SockBindings.SOCK_STREAM
        case .oneToMany: SockBindings.SOCK_SEQPACKET
        }
    }

    /// ``UnderlyingProtocol/stream`` or ``UnderlyingProtocol/seqPacket``.
    @inlinable
    public var underlyingProtocol: UnderlyingProtocol {
        switch self {
        case .oneToOne: .stream
        case .oneToMany: .seqPacket
        }
    }

    /// "one-to-one" or "one-to-many".
    public var description: String {
        switch self {
        case .oneToOne: "one-to-one"
        case .oneToMany: "one-to-many"
        }
    }
}

/// An IPv4 or IPv6 SCTP socket that is neither connected nor listening yet.
///
/// It is created with the reference's SCTP defaults: `SO_REUSEADDR` and
/// `SO_REUSEPORT` on. Set options (``SCTPConfigurable``: initial streams,
/// no-delay, …), bind if you like, then turn it into a connection with
/// ``connect(to:timeout:)`` or a listener with ``listen(backlog:)``:
///
/// ```swift
/// let socket = try SCTPSocket.ipv4(style: .oneToOne)
/// var streams = SCTPInitMsg()
/// streams.sinit_num_ostreams = 8
/// streams.sinit_max_instreams = 8
/// try socket.setInitMessage(streams)
/// let conn = try socket.connect(to: server, timeout: .seconds(2))
/// ```
///
/// The socket and the connection or listener made from it share one
/// descriptor: closing either closes both.
///
/// SCTP needs kernel support (the `sctp` module, loaded by root with
/// `modprobe sctp`); without it every constructor throws
/// ``SockError/protocolNotSupported`` (errno `EPROTONOSUPPORT`, or
/// `ESOCKTNOSUPPORT` for one-to-many sockets) and creates nothing.
///
/// This is the Go reference's `SCTPSocket`: `NewSCTPSocket4` is
/// ``ipv4(style:)`` with ``SCTPSocketStyle/oneToMany`` (the default),
/// `NewSCTPStreamSocket4` ``ipv4(style:)`` with
/// ``SCTPSocketStyle/oneToOne``, `NewSCTPSocket6` and `NewSCTPStreamSocket6`
/// ``ipv6(style:)``, `Protocol` ``underlyingProtocol``.
public final class SCTPSocket: SCTPConfigurable {
    /// The owned descriptor (Go: `FD()`).
    public let descriptor: Descriptor

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``.
    public let networkType: NetworkType

    /// One-to-one or one-to-many.
    public let style: SCTPSocketStyle

    /// ``UnderlyingProtocol/stream`` for one-to-one,
    /// ``UnderlyingProtocol/seqPacket`` for one-to-many (Go: `Protocol()`).
    public var underlyingProtocol: UnderlyingProtocol { style.underlyingProtocol }

    /// Creates an SCTP socket of `family` (`AF_INET` or `AF_INET6`) and
    /// `style` with the defaults.
    internal init(family: CInt, style: SCTPSocketStyle) throws(SockError) {
        descriptor = try Descriptor.sctpSocket(family: family, style: style)
        networkType = NetworkType(family: family)
        self.style = style
        try descriptor.closingOnError { () throws(SockError) in
            try setOption(.reuseAddress, to: true)
            try setOption(.reusePort, to: true)
        }
    }

    /// Creates an IPv4 SCTP socket with the defaults. Go: `NewSCTPSocket4`
    /// (``SCTPSocketStyle/oneToMany``, the default) and
    /// `NewSCTPStreamSocket4` (``SCTPSocketStyle/oneToOne``).
    ///
    /// - Throws: ``SockError/protocolNotSupported`` when the kernel lacks
    ///   SCTP.
    ///
    /// The corresponding C function is `socket`.
    public static func ipv4(style: SCTPSocketStyle = .oneToMany) throws(SockError) -> SCTPSocket {
        try SCTPSocket(family: SockBindings.AF_INET, style: style)
    }

    /// Creates an IPv6 SCTP socket with the defaults. Go: `NewSCTPSocket6`
    /// (``SCTPSocketStyle/oneToMany``, the default) and
    /// `NewSCTPStreamSocket6` (``SCTPSocketStyle/oneToOne``).
    ///
    /// - Throws: ``SockError/protocolNotSupported`` when the kernel lacks
    ///   SCTP.
    ///
    /// The corresponding C function is `socket`.
    public static func ipv6(style: SCTPSocketStyle = .oneToMany) throws(SockError) -> SCTPSocket {
        try SCTPSocket(family: SockBindings.AF_INET6, style: style)
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
    ///   `DialSCTP`: the connection is returned while the association is still
    ///   being set up. Its writes report would-block until it is, and a
    ///   failure (such as ``SockError/connectionRefused``) surfaces from its
    ///   next read or write, or from ``SCTPConn/finishConnect()``.
    /// - With a timeout: waits for the outcome with `poll` and one read of
    ///   `SO_ERROR`, and throws ``SockError/timedOut`` when the association is
    ///   not up in time.
    ///
    /// On failure the socket is closed.
    ///
    /// The corresponding C function is `connect`.
    public func connect<Address: SocketAddress>(to remote: Address, timeout: Duration? = nil) throws(SockError) -> SCTPConn {
        try descriptor.closingOnError { () throws(SockError) in
            // Without a deadline, would-block means "in progress": fine.
            _ = try descriptor.connectSocket(to: remote, deadline: Deadline(timeout: timeout))
        }
        return SCTPConn(descriptor: descriptor, networkType: networkType, style: style, remoteAddress: AnySocketAddress(remote))
    }

    /// Starts listening and returns the listener (sharing this socket's
    /// descriptor). Bind first. For a one-to-many socket, listening only lets
    /// it accept associations; its messages are read with `recvmsg` (see
    /// ``Descriptor/receiveMessage(into:control:flags:deadline:)-(UnsafeMutableRawBufferPointer,_,_,_)``).
    ///
    /// - Parameter backlog: The queue of pending associations; default
    ///   ``Socket/defaultBacklog`` (511).
    /// - Throws: ``SockError/addressInUse``; ``SockError/invalidParameter``
    ///   for a negative backlog.
    ///
    /// The corresponding C functions are `listen` and `getsockname`.
    public func listen(backlog: Int = SCTPSocket.defaultBacklog) throws(SockError) -> SCTPListener {
        try descriptor.listenSocket(backlog: backlog)
        return SCTPListener(descriptor: descriptor, networkType: networkType, style: style, address: try localAddress)
    }
}

extension Descriptor {
    /// Creates an SCTP socket (`IPPROTO_SCTP`), mapping the kernel's two
    /// "no SCTP here" answers — `EPROTONOSUPPORT` (one-to-one) and
    /// `ESOCKTNOSUPPORT` (one-to-many) — to ``SockError/protocolNotSupported``
    /// with the original errno.
    internal static func sctpSocket(family: CInt, style: SCTPSocketStyle) throws(SockError) -> Descriptor {
        do {
            return try Descriptor.socket(family: family, type: style.socketType, protocol: SockBindings.IPPROTO_SCTP)
        } catch {
            if error.errnoCode == SockBindings.ESOCKTNOSUPPORT {
                throw SockError(code: .protocolNotSupported, errnoCode: error.errnoCode)
            }
            throw error
        }
    }
}
