// The adaptive wait (Strike–Spin–Adapt) every read, write, accept and connect
// goes through: one non-blocking attempt, a short spin, then ppoll for exactly
// the time left on the monotonic clock.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// The outcome of one attempt (a "strike") of an operation.
internal enum Attempt<Success> {
    /// The attempt completed.
    case success(Success)
    /// The attempt could not proceed without blocking.
    case wouldBlock
    /// The attempt failed with this errno.
    case failure(SockErrno)

    /// Classifies a system call's result: `EAGAIN`/`EWOULDBLOCK` are
    /// would-block, other errnos are failures.
    @inline(__always)
    init(_ result: Result<Success, SockErrno>) {
        switch result {
        case .success(let value):
            self = .success(value)
        case .failure(let error):
            if error.rawValue == SockBindings.EAGAIN || error.rawValue == SockBindings.EWOULDBLOCK {
                self = .wouldBlock
            } else {
                self = .failure(error)
            }
        }
    }
}

/// How long an adaptive operation keeps re-striking before it waits in `poll`:
/// long enough to catch a peer on another core that answers within a few
/// microseconds, short enough not to burn a core. Bounded by the deadline.
internal let adaptiveSpinNanoseconds: Int64 = 10_000

/// Strike–Spin–Adapt: runs `strike` until it completes, fails, or `deadline`
/// passes.
///
/// 1. Strike: one attempt. Completion or failure returns at once.
/// 2. Without a deadline, would-block is returned (`.wouldBlock`).
/// 3. Spin: re-strike for up to ``adaptiveSpinNanoseconds``.
/// 4. Adapt: `ppoll(fd, events)` for exactly the time left (nanosecond
///    timeout; none for ``Deadline/never``), then strike again. `EINTR`
///    recomputes the time left.
/// 5. Once the deadline has passed and a final strike would still block,
///    throws ``SockError/timedOut``.
///
/// `isClosing` is checked before every wait and after every wake-up, so a
/// concurrent close (which shuts the socket down to wake `poll`) ends the
/// operation with ``SockError/closed``; a failure seen while closing is also
/// reported as `closed`. The caller must keep `fd` valid for the duration (the
/// ``Descriptor`` does, with its in-flight count).
///
/// - Parameters:
///   - fd: The descriptor to poll.
///   - events: The `poll` events that mean "try again" (`POLLIN`, `POLLOUT`).
///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
///   - isClosing: Whether the descriptor is being closed.
///   - strike: One attempt of the operation on `fd`. The first strike is a
///     direct call of the caller's closure literal (inlined into the caller:
///     one call level less between the caller and the system call on the
///     common path); only a would-block with a deadline wraps it for the wait.
@inline(__always)
internal func adaptiveOperation<Success>(
    fd: CInt,
    events: CInt,
    deadline: Deadline,
    isClosing: () -> Bool,
    _ strike: (CInt) -> Attempt<Success>
) throws(SockError) -> IOResult<Success> {
    switch strike(fd) {
    case .success(let value):
        return .completed(value)
    case .failure(let error):
        throw isClosing() ? .closed : SockError(error)
    case .wouldBlock:
        if deadline.isNone {
            return .wouldBlock
        }
        return try adaptiveWait(fd: fd, events: events, deadline: deadline, isClosing: isClosing) { strike(fd) }
    }
}

/// The spin and adapt phases of `adaptiveOperation(fd:events:deadline:isClosing:_:)`,
/// entered after a first strike would have blocked.
internal func adaptiveWait<Success>(
    fd: CInt,
    events: CInt,
    deadline: Deadline,
    isClosing: () -> Bool,
    _ strike: () -> Attempt<Success>
) throws(SockError) -> IOResult<Success> {
    let spinEnd = Deadline.monotonicNow() &+ adaptiveSpinNanoseconds
    var request = pollfd(fd: fd, events: CShort(truncatingIfNeeded: events), revents: 0)
    while true {
        if isClosing() {
            throw .closed
        }
        let now = Deadline.monotonicNow()
        let left = deadline.remainingNanoseconds(now: now)
        if left <= 0 {
            throw .timedOut
        }
        if now >= spinEnd {
            // Adapt: wait for readiness for exactly the time left.
            request.revents = 0
            let waited: Result<CInt, SockErrno>
            if deadline.isNever {
                waited = Syscall.ppoll(&request, 1, nil)
            } else {
                var timeout = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
                waited = Syscall.ppoll(&request, 1, &timeout)
            }
            if case .failure(let error) = waited {
                if error.rawValue == SockBindings.EINTR {
                    continue  // recompute the time left
                }
                throw isClosing() ? .closed : SockError(error)
            }
            if isClosing() {
                throw .closed
            }
        }
        switch strike() {
        case .success(let value):
            return .completed(value)
        case .failure(let error):
            throw isClosing() ? .closed : SockError(error)
        case .wouldBlock:
            continue
        }
    }
}
