// Sleeping on a reactor's timer: no thread, no descriptor of its own (unlike
// `Task.sleep`, whose global timer needs the process to have descriptors to
// spare — it traps when a server has run out of them).
import Synchronization

/// One pending sleep: its continuation and timer. Retained by the reactor
/// while its timer is pending (the timer token is its address with bit 1
/// set; registrations' tokens have bit 1 clear).
internal final class ReactorSleeper: Sendable {
    private struct State {
        var continuation: UnsafeContinuation<Bool, Never>?
        var timer: PollerTimer?
        var done = false
    }

    private let state = Mutex(State())

    /// The token bit that marks a sleeper's timer.
    static var tokenTag: UInt64 { 2 }

    /// Resumes the sleeper whose timer fired (on the reactor thread) and
    /// drops the reactor's reference.
    static func handleTimer(token: UInt64) {
        let sleeper = Unmanaged<ReactorSleeper>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token & ~tokenTag))!)
        sleeper.takeUnretainedValue().finish(completed: true)
        sleeper.release()
    }

    /// Ends the sleep once; `completed` false for a cancellation.
    func finish(completed: Bool) {
        let continuation: UnsafeContinuation<Bool, Never>? = state.withLock { state in
            if state.done { return nil }
            state.done = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: completed)
    }

    /// Sleeps on `reactor`'s timers until `deadline`; false when cancelled.
    func sleep(on reactor: Reactor, until deadline: Deadline) async -> Bool {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Bool, Never>) in
                let cancelled = state.withLock { state -> Bool in
                    if Task.isCancelled {
                        state.done = true
                        return true
                    }
                    state.continuation = continuation
                    let token = UInt64(UInt(bitPattern: Unmanaged.passRetained(self).toOpaque())) | Self.tokenTag
                    state.timer = reactor.poller.schedule(at: deadline, token: token)
                    return false
                }
                if cancelled { continuation.resume(returning: false) }
            }
        } onCancel: {
            let timer = self.state.withLock { $0.timer }
            if let timer, reactor.poller.cancel(timer) {
                self.finish(completed: false)
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
    /// - Throws: ``SockError/cancelled`` when the task is cancelled first.
    public func sleep(until deadline: Deadline) async throws(SockError) {
        if deadline.isNone || deadline.hasPassed { return }
        if !(await ReactorSleeper().sleep(on: self, until: deadline)) {
            throw .cancelled
        }
    }

    /// Suspends the task for `duration` (see ``sleep(until:)``).
    public func sleep(for duration: Duration) async throws(SockError) {
        try await sleep(until: .after(duration))
    }
}
