// SCTPListener: a listening one-to-one SCTP socket whose accept honours its
// deadline, and the Swift forms of ListenSCTP/ListenSCTP4/ListenSCTP6.
// Mirrors TCPListener.
import SockBindings

/// A listening SCTP socket (one-to-one style, like the reference's
/// `ListenSCTP*`, so that ``accept()`` hands out one ``SCTPConn`` per
/// association).
///
/// ``accept()`` is non-blocking by default (would-block when no association
/// is pending); after ``setDeadline(_:)`` it waits until the deadline and then
/// throws ``SockError/timedOut``.
///
/// ```swift
/// let listener = try SCTPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
/// listener.setDeadline(.after(.seconds(1)))
/// if case .completed(let conn) = try listener.accept() { … }
/// ```
///
/// Listening sockets get the reference's SCTP defaults (`SO_REUSEADDR`,
/// `SO_REUSEPORT`) and a backlog of 511. Without kernel SCTP, listening
/// throws ``SockError/protocolNotSupported``.
///
/// This is the Go reference's `SCTPListener`: `Accept` is ``accept()``,
/// `AcceptSocket` ``acceptSocket()``, `Addr` ``address``, `SetDeadline`
/// ``setDeadline(_:)``.
public final class SCTPListener: SCTPConfigurable {
    /// The owned descriptor (Go: `FD()`).
    public let descriptor: Descriptor

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``.
    public let networkType: NetworkType

    /// The socket's style (one-to-one for the `listen(on:)` constructors).
    public let style: SCTPSocketStyle

    /// The address the listener is bound to, with the real port when port 0
    /// was asked for. Go: `SCTPListener.Addr`.
    public let address: AnySocketAddress

    /// The deadlines; the read deadline governs ``accept()``.
    public let deadlines: ConnectionDeadlines

    /// ``UnderlyingProtocol/stream`` for one-to-one (Go: `Protocol()`).
    public var underlyingProtocol: UnderlyingProtocol { style.underlyingProtocol }

    internal init(descriptor: Descriptor, networkType: NetworkType, style: SCTPSocketStyle, address: AnySocketAddress) {
        self.descriptor = descriptor
        self.networkType = networkType
        self.style = style
        self.address = address
        self.deadlines = ConnectionDeadlines()
    }

    // MARK: Listening (Go: ListenSCTP4, ListenSCTP6, ListenSCTP)

    /// Listens on an IPv4 address (one-to-one, `SOCK_STREAM`); port 0 picks
    /// a free port (see ``address``). Go: `ListenSCTP4`.
    ///
    /// - Parameters:
    ///   - local: The address to listen on.
    ///   - backlog: The queue of pending associations; default 511.
    /// - Throws: ``SockError/protocolNotSupported`` without kernel SCTP;
    ///   ``SockError/addressInUse``, ``SockError/addressNotAvailable``,
    ///   ``SockError/permissionDenied`` (a port below 1024),
    ///   ``SockError/invalidParameter`` (a negative backlog).
    ///
    /// The corresponding C functions are `socket`, `bind`, `listen` and
    /// `getsockname`.
    public static func listen(on local: SockaddrInet4, backlog: Int = SCTPListener.defaultBacklog) throws(SockError) -> SCTPListener {
        try listen(family: SockBindings.AF_INET, on: local, backlog: backlog)
    }

    /// Listens on an IPv6 address (one-to-one); port 0 picks a free port. Go:
    /// `ListenSCTP6`.
    ///
    /// The corresponding C functions are `socket`, `bind`, `listen` and
    /// `getsockname`.
    public static func listen(on local: SockaddrInet6, backlog: Int = SCTPListener.defaultBacklog) throws(SockError) -> SCTPListener {
        try listen(family: SockBindings.AF_INET6, on: local, backlog: backlog)
    }

    /// Listens on an IPv4 or IPv6 address, the family following `local`. Go:
    /// `ListenSCTP`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` for a Unix address;
    ///   otherwise as ``listen(on:backlog:)-(SockaddrInet4,_)``.
    ///
    /// The corresponding C functions are `socket`, `bind`, `listen` and
    /// `getsockname`.
    public static func listen(on local: AnySocketAddress, backlog: Int = SCTPListener.defaultBacklog) throws(SockError) -> SCTPListener {
        switch local {
        case .inet4(let address): try listen(on: address, backlog: backlog)
        case .inet6(let address): try listen(on: address, backlog: backlog)
        case .unix: throw .addressFamilyNotSupported
        }
    }

    private static func listen<Address: SocketAddress>(
        family: CInt, on local: Address, backlog: Int
    ) throws(SockError) -> SCTPListener {
        let socket = try SCTPSocket(family: family, style: .oneToOne)
        return try socket.descriptor.closingOnError { () throws(SockError) -> SCTPListener in
            try socket.bind(to: local)
            return try socket.listen(backlog: backlog)
        }
    }

    // MARK: Accepting

    /// Accepts a pending association, honouring the deadline: without one,
    /// would-block when none is pending; with one, waits and throws
    /// ``SockError/timedOut`` when it passes. The connection is non-blocking
    /// and close-on-exec, and starts with no deadlines. Go:
    /// `SCTPListener.Accept`.
    ///
    /// The corresponding C function is `accept4`.
    public func accept() throws(SockError) -> IOResult<SCTPConn> {
        try acceptConnection { (accepted: Descriptor, peer: AnySocketAddress) in
            SCTPConn(descriptor: accepted, networkType: networkType, style: style, remoteAddress: peer)
        }
    }
}
