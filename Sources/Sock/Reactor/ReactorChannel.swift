// How an async connection or listener is attached to its reactor: an epoll
// registration (readiness) or an io_uring registration (completions). The
// async types hold one and switch on it per operation.

/// A socket's attachment to a ``Reactor``, by backend.
internal enum ReactorChannel: Sendable {
    /// epoll: strike, and wait for readiness on would-block.
    case readiness(ReactorRegistration)
    /// io_uring: operations submitted to the ring.
    case completion(IOUringRegistration)

    /// Attaches `descriptor` to `reactor` with the reactor's backend.
    init(_ descriptor: Descriptor, reactor: Reactor, interest: PollerInterest, isStream: Bool) throws(SockError) {
        if let driver = reactor.driver {
            self = .completion(try IOUringRegistration(descriptor, reactor: reactor, driver: driver))
        } else {
            self = .readiness(try ReactorRegistration(descriptor, reactor: reactor, interest: interest, isStream: isStream))
        }
    }

    /// Forgets remembered readiness before a strike (epoll only).
    @inline(__always)
    func clearReadiness(_ direction: WaitDirection) {
        if case .readiness(let registration) = self { registration.clearReadiness(direction) }
    }

    /// Waits until the socket is ready for `direction`.
    @inline(__always)
    func wait(for direction: WaitDirection, deadline: Deadline) async -> WaitOutcome {
        switch self {
        case .readiness(let registration): await registration.wait(for: direction, deadline: deadline)
        case .completion(let registration): await registration.waitReady(direction, deadline: deadline)
        }
    }

    /// Ends the attachment: waiting operations end with
    /// ``SockError/closed``. Does not close the descriptor.
    func deregister() {
        switch self {
        case .readiness(let registration): registration.deregister()
        case .completion(let registration): registration.deregister()
        }
    }
}

extension CompletionOutcome {
    /// The operation's byte count, or its failure as a ``SockError``.
    @inline(__always)
    func count() throws(SockError) -> Int {
        switch self {
        case .completed(let result):
            if result >= 0 { return Int(result) }
            throw SockError(errno: -result)
        case .timedOut: throw .timedOut
        case .cancelled: throw .cancelled
        case .closed: throw .closed
        }
    }
}
