// One socket on a reactor whose backend is io_uring: two operation slots (a
// reader and a writer), each with the continuation of the task waiting for
// its completion. Allocated once when a socket is put on the reactor; every
// operation after that allocates nothing.
//
// Rules:
// - a continuation is resumed only by the operation's completion (or before
//   anything was submitted): the kernel never writes into a buffer whose
//   caller has moved on, also after a cancellation or a deadline;
// - a deadline is an `IORING_OP_LINK_TIMEOUT` linked to the operation
//   (absolute, on the monotonic clock); task cancellation and closing submit
//   an `IORING_OP_ASYNC_CANCEL` for the operation's exact user data;
// - the descriptor is pinned while registered (as with epoll), so closing it
//   cannot release its number while an entry may still name it; the pin is
//   dropped when the registration is closed and no operation is in flight.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings
import Synchronization

/// How an operation on the ring ended.
internal enum CompletionOutcome: Sendable {
    /// The kernel's result (≥ 0), or a negative errno.
    case completed(Int32)
    case timedOut
    case cancelled
    case closed
}

/// The parameters of one operation, written into its submission entry.
internal struct IOUringOperation: Sendable {
    var opcode: UInt8
    var address: UInt64 = 0
    var length: UInt32 = 0
    /// `msg_flags` (receive, send) or `poll32_events` (poll).
    var flags: UInt32 = 0
    /// `off`/`addr2`: the address length of a connect.
    var offset: UInt64 = 0

    static func receive(_ buffer: UnsafeMutableRawBufferPointer) -> IOUringOperation {
        IOUringOperation(opcode: UInt8(SockBindings.IORING_OP_RECV),
                         address: UInt64(UInt(bitPattern: buffer.baseAddress)), length: UInt32(clamping: buffer.count))
    }

    static func send(_ buffer: UnsafeRawBufferPointer) -> IOUringOperation {
        IOUringOperation(opcode: UInt8(SockBindings.IORING_OP_SEND),
                         address: UInt64(UInt(bitPattern: buffer.baseAddress)), length: UInt32(clamping: buffer.count),
                         flags: UInt32(SockBindings.MSG_NOSIGNAL))
    }

    /// A one-shot poll for readiness: the generic path (accept, datagrams
    /// with addresses, Unix connects) strikes, and on would-block waits with it.
    static func poll(_ direction: WaitDirection) -> IOUringOperation {
        let events = direction == .read
            ? UInt32(SockBindings.EPOLLIN | SockBindings.EPOLLRDHUP)
            : UInt32(SockBindings.EPOLLOUT)
        return IOUringOperation(opcode: UInt8(SockBindings.IORING_OP_POLL_ADD), flags: events)
    }
}

/// A socket's registration with a reactor on io_uring.
///
/// `@unchecked Sendable`: the mutable state is in `state` (a lock); the
/// timespecs are written by the reactor thread only, under that lock.
internal final class IOUringRegistration: @unchecked Sendable {
    private enum Phase: UInt8 {
        case idle
        /// Waiting for the reactor thread to write its entry.
        case queued
        /// In the kernel.
        case submitted
    }

    private struct Slot {
        var continuation: UnsafeContinuation<CompletionOutcome, Never>?
        var phase: Phase = .idle
        var generation: UInt16 = 0
        var operation = IOUringOperation(opcode: 0)
        /// Absolute monotonic nanoseconds, or nil for no deadline.
        var deadline: Int64?
        /// Why a cancellation was asked for (`.cancelled`, `.closed`).
        var cancelReason: CompletionOutcome?
    }

    private struct State {
        var reader = Slot()
        var writer = Slot()
        var isClosed = false
        var inFlight = 0
        var pinned = true

        subscript(direction: WaitDirection) -> Slot {
            get { direction == .read ? reader : writer }
            set { if direction == .read { reader = newValue } else { writer = newValue } }
        }
    }

    let reactor: Reactor
    let driver: IOUringReactorDriver
    let descriptor: Descriptor
    private let state = SockMutex(State())
    /// The link timeouts' timespecs, one per direction (the kernel copies
    /// them when it takes the entry).
    private let timespecs: UnsafeMutablePointer<KernelTimespec>

    /// Pins `descriptor` for the registration's lifetime.
    init(_ descriptor: Descriptor, reactor: Reactor, driver: IOUringReactorDriver) throws(SockError) {
        try descriptor.enter()
        self.reactor = reactor
        self.driver = driver
        self.descriptor = descriptor
        timespecs = .allocate(capacity: 2)
        timespecs.initialize(repeating: KernelTimespec(), count: 2)
    }

    deinit {
        timespecs.deallocate()
        let pinned = state.withLock { state in
            defer { state.pinned = false }
            return state.pinned
        }
        if pinned { descriptor.leave() }
    }

    private var address: UnsafeRawPointer { UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()) }

    // MARK: Operations (any thread)

    /// Runs `operation` on the ring and waits for its completion, the
    /// deadline, the task's cancellation or the registration's closing.
    func perform(_ operation: IOUringOperation, _ direction: WaitDirection, deadline: Deadline) async -> CompletionOutcome {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<CompletionOutcome, Never>) in
                let onReactor = reactor.isOnReactorThread
                let immediate: CompletionOutcome? = state.withLock { state in
                    if state.isClosed || descriptor.isClosed || reactor.isShutDown
                        || driver.hasStopped.load(ordering: .acquiring) {
                        return .closed
                    }
                    if Task.isCancelled { return .cancelled }
                    var slot = state[direction]
                    slot.continuation = continuation
                    slot.phase = .queued
                    slot.generation &+= 1
                    slot.operation = operation
                    slot.deadline = deadline.isNone || deadline.isNever ? nil : deadline.nanoseconds
                    slot.cancelReason = nil
                    state[direction] = slot
                    if onReactor && !submitLocked(direction, &state) { return .closed }
                    return nil
                }
                if let immediate {
                    continuation.resume(returning: immediate)
                } else if !onReactor {
                    let request = IOUringReactorDriver.userData(address, .operation, direction, generation: 0)
                    _ = Unmanaged.passUnretained(self).retain()  // released by the driver's turn
                    driver.post(request, waking: reactor.poller)
                }
            }
        } onCancel: {
            self.cancel(direction, reason: .cancelled)
        }
    }

    /// Waits until the socket is ready for `direction` (a one-shot poll on
    /// the ring).
    func waitReady(_ direction: WaitDirection, deadline: Deadline) async -> WaitOutcome {
        switch await perform(.poll(direction), direction, deadline: deadline) {
        case .completed:
            // A failed poll (an error on the socket) is "ready": the
            // strike that follows reports the error itself.
            return .ready
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        case .closed: return .closed
        }
    }

    /// Asks the kernel to end the operation of `direction` (if any) early;
    /// its completion then reports `reason`.
    private func cancel(_ direction: WaitDirection, reason: CompletionOutcome) {
        let onReactor = reactor.isOnReactorThread
        var resume: UnsafeContinuation<CompletionOutcome, Never>?
        let target: UInt64? = state.withLock { state in
            var slot = state[direction]
            guard slot.continuation != nil else { return nil }
            switch slot.phase {
            case .idle:
                return nil
            case .queued:
                // Not in the kernel yet: end it here (the reactor's turn
                // finds the slot idle and skips it).
                resume = slot.continuation
                slot.continuation = nil
                slot.phase = .idle
                state[direction] = slot
                return nil
            case .submitted:
                if slot.cancelReason == nil { slot.cancelReason = reason }
                state[direction] = slot
                let target = IOUringReactorDriver.userData(address, .operation, direction, generation: slot.generation)
                if onReactor { driver.cancel(target) }
                return target
            }
        }
        if let resume { resume.resume(returning: reason) }
        if let target, !onReactor {
            driver.post(target | IOUringTag.cancel.rawValue, waking: reactor.poller)
        }
    }

    /// Closes the registration: operations end with `.closed` (cancelled in
    /// the kernel), later ones fail with it, and the descriptor's pin is
    /// dropped once nothing is in flight. Idempotent. Does not close the
    /// descriptor.
    func deregister() {
        let dropPin = state.withLock { state in
            if state.isClosed { return false }
            state.isClosed = true
            if state.inFlight == 0 && state.pinned {
                state.pinned = false
                return true
            }
            return false
        }
        cancel(.read, reason: .closed)
        cancel(.write, reason: .closed)
        if dropPin { descriptor.leave() }
    }

    // MARK: Reactor thread

    /// Writes the entry of a queued operation (on the reactor thread).
    func submitQueued(_ direction: WaitDirection) {
        var resume: (UnsafeContinuation<CompletionOutcome, Never>, CompletionOutcome)?
        state.withLock { state in
            var slot = state[direction]
            guard slot.phase == .queued, let continuation = slot.continuation else { return }
            if state.isClosed || descriptor.isClosed || driver.isShuttingDown {
                slot.continuation = nil
                slot.phase = .idle
                state[direction] = slot
                resume = (continuation, .closed)
                return
            }
            if !submitLocked(direction, &state) { resume = (continuation, .closed) }
        }
        if let (continuation, outcome) = resume { continuation.resume(returning: outcome) }
    }

    /// Writes the slot's entry, linked to a timeout when it has a deadline
    /// (reactor thread, under the lock). False, with the slot idle, when the
    /// ring is closed (the reactor stopped): the caller resumes with
    /// `.closed`.
    private func submitLocked(_ direction: WaitDirection, _ state: inout State) -> Bool {
        var slot = state[direction]
        let userData = IOUringReactorDriver.userData(address, .operation, direction, generation: slot.generation)
        let linked = slot.deadline != nil
        guard let sqe = driver.entries(linked ? 2 : 1) else {
            slot.continuation = nil
            slot.phase = .idle
            state[direction] = slot
            return false
        }
        sqe.pointee.opcode = slot.operation.opcode
        sqe.pointee.fd = descriptor.rawValue
        sqe.pointee.addr = slot.operation.address
        sqe.pointee.len = slot.operation.length
        sqe.pointee.off = slot.operation.offset
        if slot.operation.opcode == UInt8(SockBindings.IORING_OP_POLL_ADD) {
            sqe.pointee.poll32_events = slot.operation.flags
        } else {
            sqe.pointee.msg_flags = slot.operation.flags
        }
        sqe.pointee.user_data = userData
        if let deadline = slot.deadline {
            sqe.pointee.flags = UInt8(SockBindings.IOSQE_IO_LINK)
            let timespec = timespecs + Int(direction.rawValue)
            timespec.pointee.tv_sec = deadline / 1_000_000_000
            timespec.pointee.tv_nsec = deadline % 1_000_000_000
            let timeout = driver.ring.nextEntry()!  // room for two was made
            timeout.pointee.opcode = UInt8(SockBindings.IORING_OP_LINK_TIMEOUT)
            timeout.pointee.fd = -1
            timeout.pointee.addr = UInt64(UInt(bitPattern: timespec))
            timeout.pointee.len = 1
            timeout.pointee.timeout_flags = SockBindings.IORING_TIMEOUT_ABS
            timeout.pointee.user_data = (userData & ~IOUringTag.mask) | IOUringTag.linkTimeout.rawValue | direction.rawValue
        }
        slot.phase = .submitted
        state[direction] = slot
        state.inFlight += 1
        driver.operationSubmitted()
        _ = Unmanaged.passUnretained(self).retain()  // released when the completion is handled
        return true
    }

    /// Handles the completion of the operation of `direction` (reactor
    /// thread).
    func complete(_ direction: WaitDirection, generation: UInt16, result: Int32) {
        var resume: UnsafeContinuation<CompletionOutcome, Never>?
        var outcome = CompletionOutcome.completed(result)
        var dropPin = false
        state.withLock { state in
            var slot = state[direction]
            guard slot.phase == .submitted, slot.generation == generation else { return }
            state.inFlight -= 1
            resume = slot.continuation
            if descriptor.isClosed {
                // Closed by its owner meanwhile (which shut the socket down
                // and ended the operation): as with epoll, the operation ends
                // with `.closed`, and the registration lets the number go
                // once nothing is in flight.
                outcome = .closed
                state.isClosed = true
            } else if result == -SockBindings.ECANCELED || (result == -SockBindings.EINTR && slot.cancelReason != nil) {
                outcome = slot.cancelReason
                    ?? (driver.isShuttingDown ? .closed : slot.deadline != nil ? .timedOut : .cancelled)
            } else if result == -SockBindings.ETIME && slot.deadline != nil {
                outcome = .timedOut
            }
            slot.continuation = nil
            slot.phase = .idle
            slot.cancelReason = nil
            state[direction] = slot
            if state.isClosed && state.inFlight == 0 && state.pinned {
                state.pinned = false
                dropPin = true
            }
        }
        if dropPin { descriptor.leave() }
        resume?.resume(returning: outcome)
    }
}
