// A linear, block-based back-off with jitter for callers' own retry loops
// (the reference's iox.Backoff).
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// A linear, block-based back-off with ±12.5 % jitter, for retry loops that
/// callers write themselves (waiting for a buffer to be released, a peer to
/// come up, …). Sock's own deadline waits use `poll` instead.
///
/// Sleeps are grouped into blocks: block *n* performs *n* sleeps of
/// `min(n × base, max)`. With the defaults (``defaultBase`` 500 µs,
/// ``defaultMax`` 100 ms) the sleeps run 0.5 ms once, 1 ms twice, 1.5 ms three
/// times, …; the cap is reached at block 200. Each sleep is jittered by a
/// xorshift generator to between −12.5 % and +12.4 % of its duration, so that
/// many waiters do not wake in lock-step.
///
/// The zero value (`Backoff()`) is ready to use. It is a value type: keep one
/// per retry loop.
///
/// ```swift
/// var backoff = Backoff()
/// while !tryAcquire() {
///     backoff.wait()
/// }
/// ```
///
/// In asynchronous code, sleep for ``nextDelay()`` instead of calling
/// ``wait()``: `try await Task.sleep(for: backoff.nextDelay())`.
public struct Backoff: Sendable {
    /// The default base duration: 500 µs, the scale of a local-network round
    /// trip.
    public static let defaultBase: Duration = .microseconds(500)

    /// The default maximum sleep: 100 ms.
    public static let defaultMax: Duration = .milliseconds(100)

    /// The configured base in nanoseconds; 0 or less means the default.
    private var baseNanoseconds: Int64 = 0
    /// The configured maximum in nanoseconds; 0 or less means the default.
    private var maxNanoseconds: Int64 = 0
    /// The block counter (1-based; 0 until the first wait).
    private var blockCounter: Int = 0
    /// The sleeps already done in the current block.
    private var iteration: Int = 0
    /// The xorshift64 state; 0 until seeded by the first wait.
    internal var jitterState: UInt64 = 0

    /// Creates a back-off with the default base (500 µs) and maximum (100 ms).
    public init() {}

    /// Creates a back-off with the given base and maximum. A zero or negative
    /// value selects the default.
    public init(base: Duration, max: Duration) {
        self.base = base
        self.max = max
    }

    /// The base duration: block *n* sleeps `n × base`. Setting zero or a
    /// negative value selects ``defaultBase``; reading returns the duration in
    /// effect. (The reference's `SetBase`.)
    public var base: Duration {
        get { .nanoseconds(effectiveBase) }
        set { baseNanoseconds = newValue.saturatingNanoseconds }
    }

    /// The longest sleep. Setting zero or a negative value selects
    /// ``defaultMax``; reading returns the duration in effect. (The
    /// reference's `SetMax`.)
    public var max: Duration {
        get { .nanoseconds(effectiveMax) }
        set { maxNanoseconds = newValue.saturatingNanoseconds }
    }

    /// The current block, starting at 1. Block *n* performs *n* sleeps.
    public var block: Int {
        blockCounter == 0 ? 1 : blockCounter
    }

    /// The sleep of the current block before jitter: `min(block × base, max)`.
    public var duration: Duration {
        .nanoseconds(durationNanoseconds)
    }

    /// Sleeps for the current ``duration`` with jitter, then advances the
    /// schedule. Blocks the calling thread; a signal does not shorten the
    /// sleep. The corresponding C function is `nanosleep`.
    public mutating func wait() {
        sleepUninterrupted(nanoseconds: nextDelayNanoseconds())
    }

    /// Returns the jittered sleep that ``wait()`` would perform and advances the
    /// schedule, without sleeping. Use it to sleep in your own way, for example
    /// with `Task.sleep(for:)`.
    public mutating func nextDelay() -> Duration {
        .nanoseconds(nextDelayNanoseconds())
    }

    /// Returns to block 1. The configured base and maximum are kept.
    public mutating func reset() {
        blockCounter = 0
        iteration = 0
    }

    // MARK: Internals

    private var effectiveBase: Int64 {
        baseNanoseconds > 0 ? baseNanoseconds : Self.defaultBase.saturatingNanoseconds
    }

    private var effectiveMax: Int64 {
        maxNanoseconds > 0 ? maxNanoseconds : Self.defaultMax.saturatingNanoseconds
    }

    private var durationNanoseconds: Int64 {
        let (product, overflow) = Int64(block).multipliedReportingOverflow(by: effectiveBase)
        return overflow ? effectiveMax : Swift.min(product, effectiveMax)
    }

    /// The jittered duration of the current sleep; advances the schedule.
    internal mutating func nextDelayNanoseconds() -> Int64 {
        if blockCounter == 0 {
            blockCounter = 1
            if jitterState == 0 {
                jitterState = UInt64(bitPattern: Deadline.monotonicNow()) | 1
            }
        }
        let delay = Self.jitter(durationNanoseconds, state: &jitterState)
        iteration += 1
        if iteration >= blockCounter {
            iteration = 0
            blockCounter += 1
        }
        return delay
    }

    /// Applies the reference's jitter: a xorshift64 step, `r = (x >> 32) % 256`,
    /// and `d + d × (r − 128) / 1024` (−12.5 % … +12.4 %, truncating toward
    /// zero as Go's integer division does).
    internal static func jitter(_ nanoseconds: Int64, state: inout UInt64) -> Int64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        let k = Int64((state >> 32) % 256) - 128
        // d × k / 1024 without overflow: for d ≥ 0, splitting d = 1024q + m
        // gives the same truncated quotient as the full product.
        let d = Swift.max(nanoseconds, 0)
        let factor = (d / 1024) * k + (d % 1024) * k / 1024
        return d + factor
    }
}

/// Sleeps for `nanoseconds` (nothing when zero or negative), resuming after
/// signals with the time left. The corresponding C function is `nanosleep`.
internal func sleepUninterrupted(nanoseconds: Int64) {
    guard nanoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == SockBindings.EINTR {
        request = remaining
    }
}
