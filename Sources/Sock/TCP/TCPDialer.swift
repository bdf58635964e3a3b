// TCPDialer: dialling with an optional timeout (the reference's TCPDialer),
// through the dial SCTPDialer shares (Dialing.swift).
import SockBindings

/// Dials TCP connections, non-blocking or with a timeout.
///
/// - Without a timeout (`nil`, the default, or a duration that is not
///   positive), ``dial(to:from:)-(SockaddrInet4,_)`` returns the connection as
///   soon as the handshake has started, as the reference does; see
///   ``TCPConn/finishConnect()``.
/// - With a timeout, it waits for the handshake with `poll` and one read of
///   `SO_ERROR` (not the reference's back-off loop of repeated `connect`
///   calls), and throws ``SockError/timedOut`` when it does not complete in
///   time, or the connection's failure, such as
///   ``SockError/connectionRefused``. The socket is closed on failure.
///
/// ```swift
/// let conn = try TCPDialer(timeout: .seconds(2)).dial(to: try SockaddrInet6("[::1]:8443"))
/// ```
///
/// Sockets get the TCP defaults (see ``TCPSocket``). This is the Go
/// reference's `TCPDialer`: `Timeout` is ``timeout``, `SetDialTimeout`
/// ``setDialTimeout(_:)``, `Dial4`/`Dial6`/`Dial` the `dial(to:from:)`
/// overloads for ``SockaddrInet4``, ``SockaddrInet6`` and
/// ``AnySocketAddress``.
public struct TCPDialer: Hashable, Sendable {
    /// How long a dial waits for the handshake; `nil` (or not positive) for a
    /// non-blocking dial.
    public var timeout: Duration?

    /// Creates a dialer; the default has no timeout (non-blocking dials).
    public init(timeout: Duration? = nil) {
        self.timeout = timeout
    }

    /// Sets ``timeout``; `nil` or `.zero` makes dials non-blocking again. Go:
    /// `SetDialTimeout`.
    public mutating func setDialTimeout(_ timeout: Duration?) {
        self.timeout = timeout
    }

    /// Dials an IPv4 address. Go: `TCPDialer.Dial4`.
    ///
    /// - Parameters:
    ///   - remote: The address to connect to.
    ///   - local: A local address to bind first, or `nil`.
    /// - Throws: ``SockError/connectionRefused``, ``SockError/timedOut``,
    ///   ``SockError/addressInUse`` (binding `local`), …
    ///
    /// The corresponding C functions are `socket`, `bind`, `connect`, `poll`
    /// and `getsockopt` (`SO_ERROR`).
    public func dial(to remote: SockaddrInet4, from local: SockaddrInet4? = nil) throws(SockError) -> TCPConn {
        try TCPSocket.dial(to: remote, from: local, timeout: timeout)
    }

    /// Dials an IPv6 address. Go: `TCPDialer.Dial6`.
    ///
    /// The corresponding C functions are `socket`, `bind`, `connect`, `poll`
    /// and `getsockopt` (`SO_ERROR`).
    public func dial(to remote: SockaddrInet6, from local: SockaddrInet6? = nil) throws(SockError) -> TCPConn {
        try TCPSocket.dial(to: remote, from: local, timeout: timeout)
    }

    /// Dials an IPv4 or IPv6 address, the family following `remote`. Go:
    /// `TCPDialer.Dial`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` for a Unix address or
    ///   a `local` address of another family; otherwise as the typed
    ///   overloads.
    ///
    /// The corresponding C functions are `socket`, `bind`, `connect`, `poll`
    /// and `getsockopt` (`SO_ERROR`).
    public func dial(to remote: AnySocketAddress, from local: AnySocketAddress? = nil) throws(SockError) -> TCPConn {
        try TCPSocket.dial(to: remote, from: local, timeout: timeout)
    }
}
