// Sleeping on a reactor's timer: no thread, no descriptor of its own (unlike
// `Task.sleep`, whose global timer needs the process to have descriptors to
// spare — it traps when a server has run out of them).
import Synchronization

/// How a sleep ended.
internal enum SleepOutcome: Sendable {
    case completed
    case cancelled
    /// The reactor shut down.
    case closed
}

/// One pending sleep: its continuation and timer. Retained by the reactor
/// while its timer is pending (the timer token is its address with bit 1
/// set; registrations' tokens have bit 1 clear).
internal final class ReactorSleeper: Sendable {
    private struct State {
        var continuation: UnsafeContinuation<SleepOutcome, Never>?
        var timer: PollerTimer?
        var done = false
    }

    private let state = SockMutex(State())

    /// The token bit that marks a sleeper's timer.
    static var tokenTag: UInt64 { 2 }

    /// Resumes the sleeper whose timer fired (on the reactor thread), or
    /// that the reactor's shutdown ends, and drops the reactor's reference.
    static func handleTimer(token: UInt64, outcome: SleepOutcome = .completed) {
        let sleeper = Unmanaged<ReactorSleeper>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token & ~tokenTag))!)
        sleeper.takeUnretainedValue().finish(outcome)
        sleeper.release()
    }

    /// Ends the sleep once.
    func finish(_ outcome: SleepOutcome) {
        let continuation: UnsafeContinuation<SleepOutcome, Never>? = state.withLock { state in
            if state.done { return nil }
            state.done = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: outcome)
    }

    /// Sleeps on `reactor`'s timers until `deadline`.
    func sleep(on reactor: Reactor, until deadline: Deadline) async -> SleepOutcome {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<SleepOutcome, Never>) in
                let early = state.withLock { state -> SleepOutcome? in
                    if Task.isCancelled {
                        state.done = true
                        return .cancelled
                    }
                    if reactor.isShutDown {
                        state.done = true
                        return .closed
                    }
                    state.continuation = continuation
                    let token = UInt64(UInt(bitPattern: Unmanaged.passRetained(self).toOpaque())) | Self.tokenTag
                    state.timer = reactor.poller.schedule(at: deadline, token: token)
                    return nil
                }
                if let early { continuation.resume(returning: early) }
            }
        } onCancel: {
            let timer = self.state.withLock { $0.timer }
            if let timer, reactor.poller.cancel(timer) {
                self.finish(.cancelled)
                Unmanaged.passUnretained(self).release()  // the timer's reference
            }
        }
    }
}

extension Reactor {
    /// Suspends the task until `deadline` (on the monotonic clock), on this
    /// reactor's timers: never earlier, and without needing a thread or a
    /// descriptor of its own.
    ///
    /// - Throws: ``SockError/cancelled`` when the task is cancelled first;
    ///   ``SockError/closed`` when the reactor is shut down (before or
    ///   during the sleep).
    public func sleep(until deadline: Deadline) async throws(SockError) {
        if deadline.isNone || deadline.hasPassed { return }
        switch await ReactorSleeper().sleep(on: self, until: deadline) {
        case .completed: return
        case .cancelled: throw .cancelled
        case .closed: throw .closed
        }
    }

    /// Suspends the task for `duration` (see ``sleep(until:)``).
    public func sleep(for duration: Duration) async throws(SockError) {
        try await sleep(until: .after(duration))
    }
}
