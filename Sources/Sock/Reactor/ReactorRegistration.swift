// The per-descriptor state of an async connection or listener on a reactor:
// the waiting continuations (one reader, one writer), their deadline timers,
// and readiness that arrived while nobody waited. Allocated once when a
// socket is put on a reactor; every await after that allocates nothing.
import Synchronization

/// How a wait for readiness ended.
internal enum WaitOutcome: Sendable {
    case ready
    case timedOut
    case cancelled
    case closed
}

/// Which side of the socket an operation waits for.
internal enum WaitDirection: UInt64, Sendable {
    case read = 0
    case write = 1
}

/// One socket's registration with a ``Reactor``: the poller registration and
/// the continuations waiting on it.
///
/// Its address is the poller token (timers add the direction in the low bit,
/// free since objects are 16-byte aligned). The reactor keeps it retained
/// while registered and releases it on its own thread after deregistration,
/// so an event already fetched for it never reaches freed memory.
internal final class ReactorRegistration: Sendable {
    private struct Waiter {
        var continuation: UnsafeContinuation<WaitOutcome, Never>?
        var timer: PollerTimer?
        var deadline: Int64 = 0
    }

    private struct WaitState {
        var reader = Waiter()
        var writer = Waiter()
        var isClosed = false
        var registration: PollerRegistration?

        subscript(direction: WaitDirection) -> Waiter {
            get { direction == .read ? reader : writer }
            set { if direction == .read { reader = newValue } else { writer = newValue } }
        }
    }

    let reactor: Reactor
    let descriptor: Descriptor
    private let state = SockMutex(WaitState())
    /// Readiness that arrived while nobody waited (bit 0 read, bit 1 write);
    /// an operation clears its bit before it strikes. Bit 2 (sticky): an
    /// event reported a half-close, hang-up or error. Bit 3: the last stream
    /// read was short.
    private let pendingReadiness = Atomic<UInt8>(0)
    private static var hangUpSeenBit: UInt8 { 4 }
    private static var shortReadBit: UInt8 { 8 }
    /// Whether reads may take the short-read shortcut (stream sockets).
    private let isStream: Bool

    /// Registers `descriptor` with the reactor's poller (edge-triggered).
    init(_ descriptor: Descriptor, reactor: Reactor, interest: PollerInterest, isStream: Bool = false) throws(SockError) {
        self.reactor = reactor
        self.descriptor = descriptor
        self.isStream = isStream
        let token = UInt64(UInt(bitPattern: Unmanaged.passRetained(self).toOpaque()))
        do throws(SockError) {
            let registration = try reactor.poller.register(descriptor, interest: interest, token: token)
            state.withLock { $0.registration = registration }
        } catch {
            Unmanaged.passUnretained(self).release()
            throw error
        }
    }

    /// The poller token's registration for `token` (an io event).
    static func from(token: UInt64) -> ReactorRegistration {
        Unmanaged<ReactorRegistration>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token))!).takeUnretainedValue()
    }

    private var tokenBase: UInt64 { UInt64(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())) }

    // MARK: Operations

    /// Forgets readiness remembered for `direction`: called before a strike,
    /// which will see whatever that readiness announced.
    @inline(__always)
    func clearReadiness(_ direction: WaitDirection) {
        let bit = UInt8(1) << direction.rawValue
        if pendingReadiness.load(ordering: .relaxed) & bit != 0 {
            pendingReadiness.bitwiseAnd(~bit, ordering: .acquiringAndReleasing)
        }
    }

    /// Whether a read should wait for readiness before its system call: the
    /// last read of this stream was short (it drained the socket), no event
    /// has arrived since, and no event ever reported a half-close, hang-up
    /// or error (fact 13: then the data and the end may have come with one
    /// edge, and only reading until would-block finds the end). Saves the
    /// recv that would report would-block, as an edge-triggered C server
    /// does.
    @inline(__always)
    var readShouldWaitFirst: Bool {
        isStream && pendingReadiness.load(ordering: .acquiring) & (1 | Self.hangUpSeenBit | Self.shortReadBit) == Self.shortReadBit
    }

    /// Records whether a stream read of `count` bytes into `capacity` was short.
    @inline(__always)
    func noteRead(count: Int, capacity: Int) {
        guard isStream else { return }
        let short = count > 0 && count < capacity
        let bits = pendingReadiness.load(ordering: .relaxed)
        if short != (bits & Self.shortReadBit != 0) {
            if short {
                pendingReadiness.bitwiseOr(Self.shortReadBit, ordering: .acquiringAndReleasing)
            } else {
                pendingReadiness.bitwiseAnd(~Self.shortReadBit, ordering: .acquiringAndReleasing)
            }
        }
    }

    /// Suspends until the poller reports readiness for `direction`, the
    /// deadline passes, the task is cancelled or the registration is closed.
    func wait(for direction: WaitDirection, deadline: Deadline) async -> WaitOutcome {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<WaitOutcome, Never>) in
                let bit = UInt8(1) << direction.rawValue
                let immediate: WaitOutcome? = state.withLock { state in
                    if state.isClosed || descriptor.isClosed || reactor.isShutDown { return .closed }
                    if pendingReadiness.load(ordering: .acquiring) & bit != 0 {
                        pendingReadiness.bitwiseAnd(~bit, ordering: .acquiringAndReleasing)
                        return .ready
                    }
                    if Task.isCancelled { return .cancelled }
                    var waiter = Waiter(continuation: continuation, timer: nil, deadline: deadline.nanoseconds)
                    if !deadline.isNone && !deadline.isNever {
                        waiter.timer = reactor.poller.schedule(at: deadline, token: tokenBase | direction.rawValue)
                    }
                    state[direction] = waiter
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            self.finish(direction, with: .cancelled, timerFired: false)
        }
    }

    /// Ends the wait of `direction`, if any, with `outcome`.
    private func finish(_ direction: WaitDirection, with outcome: WaitOutcome, timerFired: Bool) {
        let waiter: Waiter = state.withLock { state in
            let waiter = state[direction]
            if waiter.continuation != nil {
                // A timer whose cancel came too late (it fired in the same
                // batch) must not end a later wait that has not expired.
                if timerFired && (waiter.timer == nil || waiter.deadline > Deadline.monotonicNow()) {
                    return Waiter()
                }
                state[direction] = Waiter()
            }
            return waiter
        }
        guard let continuation = waiter.continuation else { return }
        if !timerFired, let timer = waiter.timer { reactor.poller.cancel(timer) }
        continuation.resume(returning: outcome)
    }

    /// Ends both waits (if any) with `.closed`, keeping the registration:
    /// the reactor is stopping.
    func endWaits() {
        finish(.read, with: .closed, timerFired: false)
        finish(.write, with: .closed, timerFired: false)
    }

    // MARK: Reactor thread

    /// Handles an io event (on the reactor thread).
    func handle(_ readiness: PollerReadiness) {
        var resumeReader: Waiter?
        var resumeWriter: Waiter?
        if readiness.hasHangUpOrError {
            pendingReadiness.bitwiseOr(Self.hangUpSeenBit, ordering: .acquiringAndReleasing)
        }
        state.withLock { state in
            if readiness.allowsReading {
                if state.reader.continuation != nil {
                    resumeReader = state.reader
                    state.reader = Waiter()
                } else {
                    pendingReadiness.bitwiseOr(1, ordering: .acquiringAndReleasing)
                }
            }
            if readiness.allowsWriting {
                if state.writer.continuation != nil {
                    resumeWriter = state.writer
                    state.writer = Waiter()
                } else {
                    pendingReadiness.bitwiseOr(2, ordering: .acquiringAndReleasing)
                }
            }
        }
        if let reader = resumeReader {
            if let timer = reader.timer { reactor.poller.cancel(timer) }
            reader.continuation!.resume(returning: .ready)
        }
        if let writer = resumeWriter {
            if let timer = writer.timer { reactor.poller.cancel(timer) }
            writer.continuation!.resume(returning: .ready)
        }
    }

    /// Handles a deadline timer (on the reactor thread); `token` carries the
    /// direction in its low bit.
    static func handleTimer(token: UInt64) {
        let registration = from(token: token & ~1)
        registration.finish(WaitDirection(rawValue: token & 1)!, with: .timedOut, timerFired: true)
    }

    // MARK: Closing

    /// Ends both waits with `.closed`, removes the descriptor from the poller
    /// and hands the registration to the reactor for release. Idempotent.
    /// Does not close the descriptor.
    func deregister() {
        let (reader, writer, registration): (Waiter, Waiter, PollerRegistration?) = state.withLock { state in
            if state.isClosed { return (Waiter(), Waiter(), nil) }
            state.isClosed = true
            let result = (state.reader, state.writer, state.registration)
            state.reader = Waiter()
            state.writer = Waiter()
            state.registration = nil
            return result
        }
        guard let registration else { return }
        reactor.poller.deregister(registration)
        if let timer = reader.timer { reactor.poller.cancel(timer) }
        if let timer = writer.timer { reactor.poller.cancel(timer) }
        reader.continuation?.resume(returning: .closed)
        writer.continuation?.resume(returning: .closed)
        reactor.releaseLater(self)
    }
}
