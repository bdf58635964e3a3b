// Deadlines on the monotonic clock, and the adaptive wait (Strike–Spin–Adapt)
// every read, write, accept and connect goes through.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// A point in time on the monotonic clock (`CLOCK_MONOTONIC`), in
/// nanoseconds, by which an operation must complete.
///
/// An operation without a deadline (``none``, the default) is non-blocking: it
/// makes one attempt and reports ``IOResult/wouldBlock`` at once. With a
/// deadline it retries until it succeeds or the deadline passes, and then
/// throws ``SockError/timedOut``; it returns no later than 2 ms after the
/// deadline (the wait is `ppoll` with a nanosecond timeout, so the overshoot
/// is the kernel's timer slack, about 50 µs, plus scheduling).
///
/// The clock is monotonic: changing the wall-clock time never moves a deadline.
///
/// ```swift
/// let result = try descriptor.read(into: buffer, deadline: .after(.milliseconds(20)))
/// ```
public struct Deadline: Hashable, Sendable, CustomStringConvertible {
    /// The instant on `CLOCK_MONOTONIC`, in nanoseconds; 0 for ``none`` and
    /// `Int64.max` for ``never``.
    public let nanoseconds: Int64

    /// Creates a deadline at an instant of `CLOCK_MONOTONIC` in nanoseconds
    /// (see ``monotonicNow()``). 0 means ``none``; `Int64.max` means ``never``.
    @inlinable
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// No deadline: operations are non-blocking and report would-block at
    /// once. This is the zero value.
    public static var none: Deadline { Deadline(nanoseconds: 0) }

    /// A deadline that never passes: operations wait until they complete (or
    /// the descriptor is closed).
    public static var never: Deadline { Deadline(nanoseconds: .max) }

    /// The deadline `nanoseconds` from now. Zero or negative values give a
    /// deadline that has already passed (one attempt, then timed out), never
    /// ``none``; values too large to represent give ``never``.
    @inlinable
    public static func after(nanoseconds: Int64) -> Deadline {
        let (sum, overflow) = monotonicNow().addingReportingOverflow(nanoseconds)
        if overflow { return nanoseconds > 0 ? .never : Deadline(nanoseconds: 1) }
        return Deadline(nanoseconds: Swift.max(sum, 1))
    }

    /// The deadline `duration` from now (see ``after(nanoseconds:)``).
    @inlinable
    public static func after(_ duration: Duration) -> Deadline {
        after(nanoseconds: duration.saturatingNanoseconds)
    }

    /// The deadline of an operation given a timeout, as the dialers and
    /// `connect(to:timeout:)` take it: ``after(_:)`` for a positive
    /// duration, ``none`` (non-blocking) for `nil`, zero or a negative one.
    internal init(timeout: Duration?) {
        if let timeout, timeout > .zero {
            self = .after(timeout)
        } else {
            self = .none
        }
    }

    /// Whether this is ``none`` (non-blocking).
    @inlinable
    public var isNone: Bool { nanoseconds == 0 }

    /// Whether this is ``never``.
    @inlinable
    public var isNever: Bool { nanoseconds == .max }

    /// Whether the deadline has passed. ``none`` and ``never`` never pass.
    @inlinable
    public var hasPassed: Bool {
        !isNone && !isNever && Self.monotonicNow() >= nanoseconds
    }

    /// The nanoseconds left until the deadline at `now` (negative once it has
    /// passed); `Int64.max` for ``never`` and 0 for ``none``.
    @inlinable
    public func remainingNanoseconds(now: Int64 = Deadline.monotonicNow()) -> Int64 {
        if isNone { return 0 }
        if isNever { return .max }
        return nanoseconds - now
    }

    /// The current reading of `CLOCK_MONOTONIC` in nanoseconds (a vDSO call,
    /// no system call). The corresponding C function is `clock_gettime`.
    @inlinable
    public static func monotonicNow() -> Int64 {
        var now = timespec()
        clock_gettime(Glibc.CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
    }

    /// "none", "never", or the time left, such as "deadline in 19.998ms".
    public var description: String {
        if isNone { return "none" }
        if isNever { return "never" }
        let left = remainingNanoseconds()
        let micros = left.magnitude / 1_000
        let fraction = micros % 1_000
        let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        let text = "\(micros / 1_000).\(padded)ms"
        return left >= 0 ? "deadline in \(text)" : "deadline passed \(text) ago"
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating at the bounds of `Int64`.
    @inlinable
    internal var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }
}

// MARK: - Adaptive wait

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
