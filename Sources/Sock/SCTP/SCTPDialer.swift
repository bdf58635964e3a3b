// SCTPDialer: dialling SCTP with an optional timeout (the reference's
// SCTPDialer). Mirrors TCPDialer; both dial through Dialing.swift.
import SockBindings

/// Dials SCTP associations (one-to-one style), non-blocking or with a
/// timeout.
///
/// - Without a timeout (`nil`, the default, or a duration that is not
///   positive), ``dial(to:from:)-(SockaddrInet4,_)`` returns the connection as
///   soon as the association set-up has started, as the reference does; see
///   ``SCTPConn/finishConnect()``.
/// - With a timeout, it waits for the association with `poll` and one read of
///   `SO_ERROR` (not the reference's back-off loop of repeated `connect`
///   calls), and throws ``SockError/timedOut`` when it is not up in time, or
///   its failure, such as ``SockError/connectionRefused``. The socket is
///   closed on failure.
///
/// ```swift
/// var dialer = SCTPDialer()
/// dialer.setDialTimeout(.seconds(2))
/// let conn = try dialer.dial(to: try SockaddrInet6("[::1]:9899"))
/// ```
///
/// Sockets get the SCTP defaults (see ``SCTPSocket``); without kernel SCTP
/// every dial throws ``SockError/protocolNotSupported``. This is the Go
/// reference's `SCTPDialer`: `Timeout` is ``timeout``, `SetDialTimeout`
/// ``setDialTimeout(_:)``, `Dial4`/`Dial6`/`Dial` the `dial(to:from:)`
/// overloads for ``SockaddrInet4``, ``SockaddrInet6`` and
/// ``AnySocketAddress``.
public struct SCTPDialer: Hashable, Sendable {
    /// How long a dial waits for the association; `nil` (or not positive)
    /// for a non-blocking dial.
    public var timeout: Duration?

    /// Creates a dialer; the default has no timeout (non-blocking dials).
    public init(timeout: Duration? = nil) {
        self.timeout = timeout
    }

    /// Sets ``timeout``; `nil` or `.zero` makes dials non-blocking again. Go:
    /// `SCTPDialer.SetDialTimeout`.
    public mutating func setDialTimeout(_ timeout: Duration?) {
        self.timeout = timeout
    }

    /// Dials an IPv4 address. Go: `SCTPDialer.Dial4`.
    ///
    /// - Parameters:
    ///   - remote: The address to connect to.
    ///   - local: A local address to bind first, or `nil`.
    /// - Throws: ``SockError/protocolNotSupported`` without kernel SCTP;
    ///   ``SockError/connectionRefused``, ``SockError/timedOut``,
    ///   ``SockError/addressInUse`` (binding `local`), …
    ///
    /// The corresponding C functions are `socket`, `bind`, `connect`, `poll`
    /// and `getsockopt` (`SO_ERROR`).
    public func dial(to remote: SockaddrInet4, from local: SockaddrInet4? = nil) throws(SockError) -> SCTPConn {
        try SCTPSocket.dial(to: remote, from: local, timeout: timeout)
    }

    /// Dials an IPv6 address. Go: `SCTPDialer.Dial6`.
    ///
    /// The corresponding C functions are `socket`, `bind`, `connect`, `poll`
    /// and `getsockopt` (`SO_ERROR`).
    public func dial(to remote: SockaddrInet6, from local: SockaddrInet6? = nil) throws(SockError) -> SCTPConn {
        try SCTPSocket.dial(to: remote, from: local, timeout: timeout)
    }

    /// Dials an IPv4 or IPv6 address, the family following `remote`. Go:
    /// `SCTPDialer.Dial` (whose `network` argument is the address's case
    /// here).
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` for a Unix address or
    ///   a `local` address of another family; otherwise as the typed
    ///   overloads.
    ///
    /// The corresponding C functions are `socket`, `bind`, `connect`, `poll`
    /// and `getsockopt` (`SO_ERROR`).
    public func dial(to remote: AnySocketAddress, from local: AnySocketAddress? = nil) throws(SockError) -> SCTPConn {
        try SCTPSocket.dial(to: remote, from: local, timeout: timeout)
    }
}
