// The caller-owned event buffer of `Poller.wait`: allocated once, reused by
// every wait, so a wait allocates nothing.

/// A fixed-capacity buffer that ``Poller/wait(into:deadline:)`` fills with
/// events. Allocate one per waiting thread and reuse it.
///
/// ```swift
/// var events = PollerEvents(capacity: 256)
/// let count = try poller.wait(into: &events, deadline: .never)
/// for index in 0..<count { handle(events[index]) }
/// ```
public struct PollerEvents: ~Copyable {
    /// Room for `capacity` kernel `struct epoll_event`s.
    internal let raw: UnsafeMutableRawPointer
    /// The translated events.
    private let events: UnsafeMutablePointer<PollerEvent>
    /// How many events the buffer holds at most.
    public let capacity: Int
    /// How many events the last wait delivered.
    public internal(set) var count: Int = 0

    /// Creates a buffer for up to `capacity` events per wait (at least 1).
    public init(capacity: Int = 256) {
        let capacity = Swift.max(1, capacity)
        self.capacity = capacity
        raw = .allocate(byteCount: capacity * EpollDeclarations.eventStride, alignment: 16)
        events = .allocate(capacity: capacity)
    }

    deinit {
        raw.deallocate()
        events.deallocate()
    }

    /// The `index`-th event of the last wait (`0..<count`).
    @inlinable
    public subscript(index: Int) -> PollerEvent {
        precondition(index >= 0 && index < count, "PollerEvents index out of range")
        return event(at: index)
    }

    @usableFromInline
    internal func event(at index: Int) -> PollerEvent {
        events[index]
    }

    /// Stores the `index`-th translated event.
    internal func set(_ event: PollerEvent, at index: Int) {
        (events + index).initialize(to: event)
    }
}
