// The small value types of the poller: interest, readiness, events, handles.

/// What a registration waits for: readability, writability or both.
public struct PollerInterest: OptionSet, Hashable, Sendable {
    /// The raw `EPOLLIN`/`EPOLLOUT` bits.
    public let rawValue: UInt32

    /// Creates an interest from `EPOLLIN`/`EPOLLOUT` bits.
    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Readable (`EPOLLIN`, with `EPOLLRDHUP` so that a half-close is seen).
    public static let readable = PollerInterest(rawValue: 0x001)
    /// Writable (`EPOLLOUT`).
    public static let writable = PollerInterest(rawValue: 0x004)
}

/// How readiness is reported.
public enum PollerTrigger: Hashable, Sendable {
    /// Edge-triggered (`EPOLLET`): an event when readiness arises; read or
    /// write until would-block before waiting again. The default.
    case edge
    /// Level-triggered: an event on every wait while the descriptor is ready.
    case level
}

/// What an event reports about its descriptor.
public struct PollerReadiness: OptionSet, Hashable, Sendable {
    /// The raw `EPOLL*` bits.
    public let rawValue: UInt32

    /// Creates readiness from `EPOLL*` bits.
    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Data (or a connection, or end of stream) can be read (`EPOLLIN`).
    public static let readable = PollerReadiness(rawValue: 0x001)
    /// Data can be written (`EPOLLOUT`).
    public static let writable = PollerReadiness(rawValue: 0x004)
    /// An error is pending (`EPOLLERR`); the next operation reports it.
    public static let error = PollerReadiness(rawValue: 0x008)
    /// Both directions are shut (`EPOLLHUP`), for example after a reset or a
    /// close.
    public static let hangUp = PollerReadiness(rawValue: 0x010)
    /// The peer shut down its writing side (`EPOLLRDHUP`): after the data
    /// already queued, reads return end of stream.
    public static let readHangUp = PollerReadiness(rawValue: 0x2000)

    /// Whether a read will make progress: readable, or an end, reset or error
    /// that a read reports.
    @inlinable
    public var allowsReading: Bool { !isDisjoint(with: [.readable, .readHangUp, .hangUp, .error]) }

    /// Whether a write will make progress (or report the error that stops it).
    @inlinable
    public var allowsWriting: Bool { !isDisjoint(with: [.writable, .hangUp, .error]) }

    /// Whether the event says more than "ready": a half-close, hang-up or
    /// error. When it does not, an edge-triggered reader may stop at a short
    /// read; when it does, it must read until would-block or end of stream.
    @inlinable
    public var hasHangUpOrError: Bool { !isDisjoint(with: [.readHangUp, .hangUp, .error]) }
}

/// One event from ``Poller/wait(into:deadline:)``.
public struct PollerEvent: Hashable, Sendable {
    /// What kind of event this is.
    public enum Kind: UInt8, Hashable, Sendable {
        /// A registered descriptor is ready; see ``PollerEvent/readiness``.
        case io
        /// A timer of ``Poller/schedule(at:token:)`` fired.
        case timer
        /// ``Poller/wake()`` was called.
        case wakeUp
    }

    /// What kind of event this is.
    public let kind: Kind
    /// The caller's token: of the registration (``Kind/io``) or the timer
    /// (``Kind/timer``); 0 for ``Kind/wakeUp``.
    public let token: UInt64
    /// What the descriptor is ready for (empty for timers and wake-ups).
    public let readiness: PollerReadiness

    /// Creates an event (for tests and custom loops).
    @inlinable
    public init(kind: Kind, token: UInt64, readiness: PollerReadiness) {
        self.kind = kind
        self.token = token
        self.readiness = readiness
    }
}

/// A registration of a descriptor with a ``Poller``: pass it to
/// ``Poller/modify(_:interest:trigger:)`` and ``Poller/deregister(_:)``.
///
/// It carries a generation: once deregistered, a handle (and any event
/// already fetched for it) no longer matches a later registration that got
/// the same slot or the same descriptor number.
public struct PollerRegistration: Hashable, Sendable {
    /// The registry slot.
    internal let slot: UInt32
    /// The slot's generation when registered.
    internal let generation: UInt32

    /// The `epoll_event.data` value: generation and slot.
    internal var epollData: UInt64 { UInt64(generation) << 32 | UInt64(slot) }
}

/// A timer scheduled with ``Poller/schedule(at:token:)``, for
/// ``Poller/cancel(_:)``.
public struct PollerTimer: Hashable, Sendable {
    /// The timer slot.
    internal let slot: Int32
    /// The slot's generation when scheduled.
    internal let generation: UInt32
}
