// Deadlines on the monotonic clock (the adaptive wait that honours them is in
// AdaptiveIO.swift).
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
