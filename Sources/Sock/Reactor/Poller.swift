// Poller: epoll with tokens, generations, a wake-up and timers.
//
// Lifecycle safety, in three parts:
// 1. Registering *pins* the descriptor (one operation in flight on its state
//    word, see Core/Descriptor.swift) until it is deregistered. So a
//    `Descriptor.close()` while registered cannot release the number: close
//    sets the closed bit and shuts the socket down (which wakes epoll with a
//    hang-up); the poller, seeing an event for a closed descriptor, removes it
//    from epoll first and only then drops its pin, which performs the real
//    close(2). "Closing deregisters first; the in-flight count covers the
//    gap" (DESIGN.md).
// 2. The kernel's `epoll_event.data` is the registry slot plus the slot's
//    generation, never the caller's token. Events are translated to tokens
//    under the registry lock; an event whose generation no longer matches (a
//    registration removed, possibly re-made for a reused descriptor number,
//    after the kernel queued the event) is dropped.
// 3. The registry, the timers and the translation share one lock, so
//    register, deregister, schedule and cancel may run on any thread, also
//    while another thread waits.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings
import Synchronization

/// An epoll instance with caller-chosen tokens, a cross-thread wake-up and
/// timers on the monotonic clock.
///
/// ```swift
/// let poller = try Poller()
/// let registration = try poller.register(conn.descriptor, interest: .readable, token: 7)
/// var events = PollerEvents(capacity: 256)
/// while running {
///     let count = try poller.wait(into: &events, deadline: .after(.seconds(1)))
///     for index in 0..<count where events[index].kind == .io {
///         serve(token: events[index].token, events[index].readiness)
///     }
/// }
/// try poller.deregister(registration)
/// ```
///
/// Registration, modification, deregistration, ``wake()`` and timers may be
/// used from any thread, also while another thread is in
/// ``wait(into:deadline:)``. A wait allocates nothing; registering and
/// scheduling allocate only when more are pending at once than the capacity
/// given at creation.
///
/// Closing a registered ``Descriptor`` is safe: the poller removes it from
/// epoll before the number is released (see ``register(_:interest:trigger:token:)``).
public final class Poller: Sendable {
    /// One registry slot.
    private struct Slot {
        var generation: UInt32 = 0
        var token: UInt64 = 0
        var descriptor: Descriptor?
        var nextFree: Int32 = -1
    }

    /// Everything the lock guards.
    private struct State {
        var slots: [Slot] = []
        var firstFree: Int32 = -1
        var registered = 0
        var timers: TimerHeap
        var isClosed = false
    }

    /// The `epoll_event.data` of the wake-up eventfd.
    private static var wakeUpData: UInt64 { .max }
    /// The `epoll_event.data` of an io_uring descriptor watched for
    /// completions (see ``watchCompletions(of:)``).
    private static var completionsData: UInt64 { .max - 1 }

    private let epoll: Descriptor
    private let wakeCounter: Descriptor
    /// True from the first ``wake()`` until the waiter consumes it: later
    /// wake-ups cost no system call.
    private let wakePending = Atomic<Bool>(false)
    /// Threads inside `epoll_wait` (a timer that becomes the earliest wakes them).
    private let waiters = Atomic<Int>(0)
    private let state: SockMutex<State>

    /// Creates an epoll instance and its wake-up eventfd.
    ///
    /// - Parameters:
    ///   - capacity: Registrations to make room for up front.
    ///   - timerCapacity: Pending timers to make room for up front.
    ///
    /// The corresponding C functions are `epoll_create1` and `eventfd`.
    public init(capacity: Int = 1024, timerCapacity: Int = 1024) throws(SockError) {
        epoll = Descriptor(adopting: try Syscall.epollCreate1().mapped())
        do {
            wakeCounter = Descriptor(adopting: try Syscall.eventfd().mapped())
        } catch {
            try? epoll.close()
            throw error
        }
        var initial = State(timers: TimerHeap(capacity: timerCapacity))
        initial.slots.reserveCapacity(capacity)
        state = SockMutex(initial)
        do {
            try control(EpollDeclarations.add, wakeCounter.rawValue,
                        events: EpollDeclarations.readable | EpollDeclarations.edgeTriggered, data: Self.wakeUpData)
        } catch {
            try? wakeCounter.close()
            try? epoll.close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// The number of registered descriptors.
    public var registeredCount: Int { state.withLock { $0.registered } }

    // MARK: Registry

    /// Registers `descriptor` for `interest`; events for it carry `token`.
    ///
    /// The descriptor stays pinned (its number cannot be released) until
    /// ``deregister(_:)``. Closing it meanwhile is safe: ``Descriptor/close()``
    /// shuts a socket down, the poller sees the hang-up, removes the
    /// descriptor from epoll, delivers that last event, and only then lets the
    /// number go. (A descriptor that is not a socket gets no such event:
    /// deregister it before closing.)
    ///
    /// Read interest also asks for `EPOLLRDHUP`, so a half-close is reported
    /// as ``PollerReadiness/readHangUp``.
    ///
    /// - Throws: ``SockError/closed`` (the descriptor or the poller is
    ///   closed), or the error of `epoll_ctl` (such as
    ///   ``SockError/Code/other`` with `EEXIST` when it is already registered).
    ///
    /// The corresponding C function is `epoll_ctl` (`EPOLL_CTL_ADD`).
    public func register(
        _ descriptor: Descriptor, interest: PollerInterest, trigger: PollerTrigger = .edge, token: UInt64
    ) throws(SockError) -> PollerRegistration {
        try descriptor.enter()  // the pin, dropped by deregistration
        let result: Result<PollerRegistration, SockError> = state.withLock { state in
            if state.isClosed { return .failure(.closed) }
            let slot: Int32
            if state.firstFree >= 0 {
                slot = state.firstFree
                state.firstFree = state.slots[Int(slot)].nextFree
            } else {
                slot = Int32(state.slots.count)
                state.slots.append(Slot())
            }
            state.slots[Int(slot)].token = token
            state.slots[Int(slot)].descriptor = descriptor
            let registration = PollerRegistration(slot: UInt32(slot), generation: state.slots[Int(slot)].generation)
            do throws(SockError) {
                try control(EpollDeclarations.add, descriptor.rawValue,
                            events: Self.epollEvents(interest, trigger), data: registration.epollData)
            } catch {
                freeSlot(slot, in: &state)
                return .failure(error)
            }
            state.registered += 1
            return .success(registration)
        }
        switch result {
        case .success(let registration):
            return registration
        case .failure(let error):
            descriptor.leave()
            throw error
        }
    }

    /// Changes what a registration waits for. Re-arms edge-triggered
    /// readiness: a descriptor that is ready now gets an event.
    ///
    /// - Throws: ``SockError/closed`` when the registration was removed
    ///   (deregistered, or its descriptor closed).
    ///
    /// The corresponding C function is `epoll_ctl` (`EPOLL_CTL_MOD`).
    public func modify(
        _ registration: PollerRegistration, interest: PollerInterest, trigger: PollerTrigger = .edge
    ) throws(SockError) {
        let result: Result<Void, SockError> = state.withLock { state in
            guard let descriptor = Self.live(registration, in: state) else { return .failure(.closed) }
            do throws(SockError) {
                try control(EpollDeclarations.modify, descriptor.rawValue,
                            events: Self.epollEvents(interest, trigger), data: registration.epollData)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Removes a registration: no event for it is delivered from now on,
    /// including events the kernel had already queued. Then drops the pin, so
    /// a descriptor closed meanwhile is released now. Removing a registration
    /// that is already gone does nothing.
    ///
    /// The corresponding C function is `epoll_ctl` (`EPOLL_CTL_DEL`).
    public func deregister(_ registration: PollerRegistration) {
        let descriptor: Descriptor? = state.withLock { state in
            guard let descriptor = Self.live(registration, in: state) else { return nil }
            removeLocked(slot: Int32(registration.slot), descriptor: descriptor, in: &state)
            return descriptor
        }
        descriptor?.leave()
    }

    /// The descriptor of a registration that is still current.
    private static func live(_ registration: PollerRegistration, in state: borrowing State) -> Descriptor? {
        let slot = Int(registration.slot)
        guard slot < state.slots.count, state.slots[slot].generation == registration.generation else { return nil }
        return state.slots[slot].descriptor
    }

    /// Removes `descriptor` (pinned, so its number is still its own) from
    /// epoll and frees its slot. The caller drops the pin.
    private func removeLocked(slot: Int32, descriptor: Descriptor, in state: inout State) {
        _ = Syscall.epollCtl(epollNumber, EpollDeclarations.delete, descriptor.rawValue, nil)
        freeSlot(slot, in: &state)
        state.registered -= 1
    }

    private func freeSlot(_ slot: Int32, in state: inout State) {
        state.slots[Int(slot)].descriptor = nil
        state.slots[Int(slot)].generation &+= 1
        state.slots[Int(slot)].nextFree = state.firstFree
        state.firstFree = slot
    }

    /// The epoll descriptor's number; valid while the poller is open (its
    /// users hold the lock or are inside `wait`, which pins it).
    private var epollNumber: CInt { epoll.rawValue }

    private static func epollEvents(_ interest: PollerInterest, _ trigger: PollerTrigger) -> UInt32 {
        var events = interest.rawValue
        if interest.contains(.readable) { events |= EpollDeclarations.readHangUp }
        if trigger == .edge { events |= EpollDeclarations.edgeTriggered }
        return events
    }

    /// One `epoll_ctl` with an event built on the stack.
    private func control(_ operation: CInt, _ fd: CInt, events: UInt32, data: UInt64) throws(SockError) {
        var storage: (UInt64, UInt64) = (0, 0)
        let result = withUnsafeMutableBytes(of: &storage) { raw in
            EpollDeclarations.store(events: events, data: data, at: raw.baseAddress!)
            return Syscall.epollCtl(epollNumber, operation, fd, raw.baseAddress!)
        }
        _ = try result.mapped()
    }

    /// Makes a wait return when the io_uring whose descriptor is `fd` has
    /// completions to reap (level-triggered; no event is delivered for it:
    /// the reactor reaps the ring after every wait). The ring outlives the
    /// poller's use of it (the reactor closes the poller first).
    internal func watchCompletions(of fd: CInt) throws(SockError) {
        try control(EpollDeclarations.add, fd, events: EpollDeclarations.readable, data: Self.completionsData)
    }

    // MARK: Waiting

    /// Waits until a registered descriptor is ready, a timer is due, ``wake()``
    /// is called, or `deadline` passes, and fills `events`.
    ///
    /// - Parameters:
    ///   - events: The caller's buffer; at most `events.capacity` events are
    ///     delivered (more stay queued for the next wait).
    ///   - deadline: ``Deadline/never`` to wait without limit,
    ///     ``Deadline/none`` not to wait at all. The kernel's timeout is in
    ///     milliseconds, rounded up, so a wait never ends early.
    /// - Returns: The number of events (also `events.count`); 0 when the
    ///   deadline passed or a signal interrupted the wait.
    /// - Throws: ``SockError/closed`` once the poller is closed.
    ///
    /// Allocates nothing. Timers are delivered after descriptor events, only
    /// once due (never early), earliest first.
    ///
    /// The corresponding C function is `epoll_wait`.
    @discardableResult
    public func wait(into events: inout PollerEvents, deadline: Deadline = .never) throws(SockError) -> Int {
        events.count = 0
        let now = Deadline.monotonicNow()
        let (earliestTimer, closed) = state.withLock { ($0.timers.earliest, $0.isClosed) }
        if closed { throw .closed }
        var until: Int64? = deadline.isNever ? nil : (deadline.isNone ? now : deadline.nanoseconds)
        if let earliestTimer { until = Swift.min(until ?? earliestTimer, earliestTimer) }
        var timeout: CInt = -1
        if let until {
            let left = until - now
            timeout = left <= 0 ? 0 : CInt(clamping: (left + 999_999) / 1_000_000)
        }

        let raw = events.raw
        let capacity = CInt(clamping: events.capacity)
        waiters.wrappingAdd(1, ordering: .sequentiallyConsistent)
        let result = try epoll.withFileDescriptor { fd throws(SockError) in
            Syscall.epollWait(fd, raw, capacity, timeout)
        }
        let stillWaiting = waiters.wrappingSubtract(1, ordering: .sequentiallyConsistent).newValue
        if stillWaiting == 0 && state.withLock({ $0.isClosed }) {
            closeDescriptors()
            throw .closed
        }
        var fetched = 0
        switch result {
        case .success(let count): fetched = Int(count)
        case .failure(let error):
            if error.rawValue != SockBindings.EINTR { throw SockError(error) }
        }
        return translate(fetched, into: &events)
    }

    /// Turns the kernel's events into tokens (dropping stale ones), then adds
    /// the due timers.
    private func translate(_ fetched: Int, into events: inout PollerEvents) -> Int {
        var delivered = 0
        var sawWakeUp = false
        let raw = UnsafeRawPointer(events.raw)
        let capacity = events.capacity
        state.withLock { state in
            for index in 0..<fetched {
                let (bits, data) = EpollDeclarations.load(at: raw, index: index)
                if data == Self.completionsData { continue }
                if data == Self.wakeUpData {
                    sawWakeUp = true
                    events.set(PollerEvent(kind: .wakeUp, token: 0, readiness: []), at: delivered)
                    delivered += 1
                    continue
                }
                let slot = Int(truncatingIfNeeded: data & 0xFFFF_FFFF)
                let generation = UInt32(truncatingIfNeeded: data >> 32)
                guard slot < state.slots.count, state.slots[slot].generation == generation,
                      let descriptor = state.slots[slot].descriptor else {
                    continue  // stale: removed after the kernel queued it
                }
                events.set(PollerEvent(kind: .io, token: state.slots[slot].token,
                                       readiness: PollerReadiness(rawValue: bits)), at: delivered)
                delivered += 1
                if descriptor.isClosed {
                    // Closed while registered: out of epoll first, then let
                    // the number go (the pin is the last operation in flight).
                    removeLocked(slot: Int32(slot), descriptor: descriptor, in: &state)
                    descriptor.leave()
                }
            }
            if state.timers.count > 0 {
                let now = Deadline.monotonicNow()
                while delivered < capacity, let token = state.timers.popDue(now: now) {
                    events.set(PollerEvent(kind: .timer, token: token, readiness: []), at: delivered)
                    delivered += 1
                }
            }
        }
        if sawWakeUp {
            // Clear the flag before draining the counter, so that a wake-up
            // racing with us writes again rather than being lost.
            wakePending.store(false, ordering: .sequentiallyConsistent)
            var value: UInt64 = 0
            _ = try? wakeCounter.withFileDescriptor { fd throws(SockError) in
                _ = Syscall.eventfdRead(fd, &value)
            }
        }
        events.count = delivered
        return delivered
    }

    // MARK: Wake-up

    /// Makes a current or the next ``wait(into:deadline:)`` return with a
    /// ``PollerEvent/Kind/wakeUp`` event. Callable from any thread; repeated
    /// calls before the waiter runs cost one atomic operation each and no
    /// system call.
    ///
    /// The corresponding C function is `eventfd_write`.
    public func wake() {
        if wakePending.exchange(true, ordering: .sequentiallyConsistent) { return }
        _ = try? wakeCounter.withFileDescriptor { fd throws(SockError) in
            _ = Syscall.eventfdWrite(fd, 1)
        }
    }

    // MARK: Timers

    /// Schedules a timer: a ``PollerEvent/Kind/timer`` event with `token` from
    /// the first wait that ends at or after `deadline` (never before it).
    /// Callable from any thread; a waiter is woken when the new timer is the
    /// earliest.
    ///
    /// Allocates nothing unless more timers are pending than ever before
    /// (beyond the `timerCapacity` given at creation).
    public func schedule(at deadline: Deadline, token: UInt64) -> PollerTimer {
        let (timer, isEarliest) = state.withLock { state in
            let timer = state.timers.schedule(at: deadline.nanoseconds, token: token)
            return (timer, state.timers.earliest == deadline.nanoseconds)
        }
        if isEarliest && waiters.load(ordering: .sequentiallyConsistent) > 0 {
            wake()
        }
        return timer
    }

    /// The tokens of the live registrations (a stopping reactor ends their
    /// waits).
    internal func registeredTokens() -> [UInt64] {
        state.withLock { state in state.slots.compactMap { $0.descriptor == nil ? nil : $0.token } }
    }

    /// Removes the pending timers whose token satisfies `matching` and
    /// returns their tokens (a stopping reactor ends its sleeps with them).
    internal func removeTimers(where matching: (UInt64) -> Bool) -> [UInt64] {
        state.withLock { $0.timers.removeAll(where: matching) }
    }

    /// Cancels a timer. Returns false when it already fired (its event may
    /// be in a buffer already) or was cancelled.
    @discardableResult
    public func cancel(_ timer: PollerTimer) -> Bool {
        state.withLock { $0.timers.cancel(timer) }
    }

    // MARK: Closing

    /// Deregisters everything, wakes a waiter and closes the epoll instance.
    /// A wait in progress returns; later waits throw ``SockError/closed``.
    /// Idempotent.
    public func close() {
        let pinned: [Descriptor] = state.withLock { state in
            if state.isClosed { return [] }
            state.isClosed = true
            var pinned: [Descriptor] = []
            for index in state.slots.indices {
                if let descriptor = state.slots[index].descriptor {
                    removeLocked(slot: Int32(index), descriptor: descriptor, in: &state)
                    pinned.append(descriptor)
                }
            }
            return pinned
        }
        for descriptor in pinned { descriptor.leave() }
        wake()
        // A waiter must see the wake-up first: closing the eventfd now would
        // withdraw its queued event. The last waiter out closes them.
        if waiters.load(ordering: .sequentiallyConsistent) == 0 {
            closeDescriptors()
        }
    }

    /// Closes the eventfd and the epoll instance (idempotent).
    private func closeDescriptors() {
        try? wakeCounter.close()
        try? epoll.close()
    }
}
