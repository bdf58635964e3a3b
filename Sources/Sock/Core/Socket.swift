// What every socket type has in common (NetSocket, TCP, Unix; usable by UDP):
// the owned descriptor, its classification, close, shutdown, the pending
// error and the default backlog. Options are typed keys
// (Options/SocketOption.swift); the linger helper is below.
import SockBindings

/// A socket owned through a ``Descriptor``: the common surface of
/// ``NetSocket``, ``TCPSocket``, ``TCPConn``, ``TCPListener``, ``UnixSocket``,
/// ``UnixConn`` and ``UnixListener``.
///
/// This is the Go reference's `Socket` interface (`FD`, `NetworkType`,
/// `Protocol`, `Close`); reading and writing are methods of the concrete types,
/// whose results differ (``StreamRead`` for streams, counts and addresses for
/// datagrams). Use it as a generic constraint (`some Socket`), so calls are
/// dispatched statically; socket-level option keys (buffer sizes, linger,
/// reuse, zero-copy) are accepted by every conforming type through
/// ``option(_:)`` and ``setOption(_:to:)``.
public protocol Socket: AnyObject, Sendable {
    /// The owned descriptor (Go: `FD()`). Keep it alive with
    /// ``Descriptor/withFileDescriptor(_:)`` when you hand its number to epoll
    /// or io_uring.
    var descriptor: Descriptor { get }

    /// The address family (Go: `NetworkType()`).
    var networkType: NetworkType { get }

    /// The socket type, such as ``UnderlyingProtocol/stream`` (Go:
    /// `Protocol()`).
    var underlyingProtocol: UnderlyingProtocol { get }
}

/// Which direction(s) of a connection ``Socket/shutdown(_:)`` ends.
public enum ShutdownDirection: Hashable, Sendable {
    /// No more reads (`SHUT_RD`).
    case read
    /// No more writes (`SHUT_WR`): the peer reads end of stream.
    case write
    /// Both (`SHUT_RDWR`).
    case both

    /// The `how` argument of `shutdown(2)`: `SHUT_RD`, `SHUT_WR` or
    /// `SHUT_RDWR`.
    @inlinable
    public var how: CInt {
        switch self {
        case .read: SockBindings.SHUT_RD
        case .write: SockBindings.SHUT_WR
        case .both: SockBindings.SHUT_RDWR
        }
    }
}

extension Socket {
    /// The listen backlog Sock uses unless told otherwise: 511 (the kernel
    /// caps it at `net.core.somaxconn`). Go: `DefaultBacklog`.
    @inlinable
    public static var defaultBacklog: Int { 511 }

    /// Closes the socket. Idempotent; operations in flight on other threads
    /// end with ``SockError/closed`` (see ``Descriptor/close()``). A Unix
    /// socket's file is not removed: the caller owns it. Go: `Close`.
    ///
    /// The corresponding C function is `close`.
    @inlinable
    public func close() throws(SockError) {
        try descriptor.close()
    }

    /// Whether ``close()`` has been called.
    @inlinable
    public var isClosed: Bool { descriptor.isClosed }

    /// Ends reading, writing or both on a connection, without closing the
    /// descriptor. After `shutdown(.write)` the peer reads end of stream.
    /// Go: `Shutdown(how)`.
    ///
    /// - Throws: ``SockError/notConnected`` on a socket that is not
    ///   connected; ``SockError/closed`` after close.
    ///
    /// The corresponding C function is `shutdown`.
    public func shutdown(_ direction: ShutdownDirection = .both) throws(SockError) {
        try descriptor.withFileDescriptor { fd throws(SockError) in
            _ = try Syscall.shutdown(fd, direction.how).mapped()
        }
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`): `nil` when
    /// there is none, else the error mapped like every other (for example
    /// ``SockError/connectionRefused`` after a failed non-blocking connect).
    /// Reading clears it, so a second call returns `nil`. Go:
    /// `GetSocketError`.
    ///
    /// The corresponding C function is `getsockopt` (`SO_ERROR`).
    public func takeError() throws(SockError) -> SockError? {
        let pending = try option(.pendingError)
        return pending == 0 ? nil : SockError(errno: CInt(truncatingIfNeeded: pending))
    }
}
