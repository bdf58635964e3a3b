// Async accept on a reactor.

/// A listener (TCP or Unix) whose ``accept(deadline:)`` is `async`, driven
/// by a ``Reactor``; accepted connections are put on the same reactor.
///
/// ```swift
/// let listener = try AsyncTCPListener(try TCPListener.listen(on: address), on: reactor)
/// Task(executorPreference: reactor.executor) {
///     while true {
///         let conn = try await listener.accept()
///         Task(executorPreference: reactor.executor) { await serve(conn) }
///     }
/// }
/// ```
///
/// A closed listener ends a waiting accept with ``SockError/closed``; a
/// deadline with ``SockError/timedOut``, task cancellation with
/// ``SockError/cancelled`` (the listener stays usable). The base listener's
/// own deadline must stay ``Deadline/none``.
public final class AsyncListener<Base: Listener>: Sendable {
    /// The listener, for its address and options.
    public let base: Base
    /// The reactor that drives this listener and its connections.
    public let reactor: Reactor
    internal let channel: ReactorChannel

    /// Puts `base` on `reactor` (registers it for readability; on an
    /// io_uring reactor, accepts wait with a poll on the ring).
    public init(_ base: Base, on reactor: Reactor) throws(SockError) {
        self.base = base
        self.reactor = reactor
        channel = try ReactorChannel(base.descriptor, reactor: reactor, interest: .readable, isStream: false)
    }

    deinit {
        channel.deregister()
    }

    /// Accepts a connection, waiting until one arrives, and puts it on the
    /// reactor.
    ///
    /// - Throws: ``SockError/timedOut``, ``SockError/cancelled``,
    ///   ``SockError/closed``, or what `accept4` reports (such as `EMFILE`
    ///   when descriptors run out: ``SockError/Code/other``).
    ///
    /// The corresponding C function is `accept4`.
    public func accept(deadline: Deadline = .never) async throws(SockError) -> AsyncConnection<Base.Connection> {
        try AsyncConnection.adopting(try await acceptConnection(deadline: deadline), on: reactor)
    }

    /// Accepts a connection, waiting until one arrives, without putting it
    /// on a reactor.
    ///
    /// The corresponding C function is `accept4`.
    public func acceptConnection(deadline: Deadline = .never) async throws(SockError) -> Base.Connection {
        let base = self.base
        return try await reactorOperation(channel, .read, deadline: deadline) { () throws(SockError) in
            try base.accept()
        }
    }

    /// Takes the listener off the reactor (a waiting accept ends with
    /// ``SockError/closed``) and closes it. Idempotent.
    ///
    /// The corresponding C function is `close`.
    public func close() throws(SockError) {
        channel.deregister()
        try base.descriptor.close()
    }
}

/// A TCP listener on a reactor.
public typealias AsyncTCPListener = AsyncListener<TCPListener>
/// A Unix stream listener on a reactor.
public typealias AsyncUnixListener = AsyncListener<UnixListener>
