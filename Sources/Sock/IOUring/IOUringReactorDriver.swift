// The completion side of a reactor on io_uring: the ring, the requests that
// other threads hand to the reactor thread, and the dispatch of completions
// to the registrations that wait for them.
//
// Only the reactor thread touches the ring. An operation started on another
// thread (a task that does not run on the reactor's executor) or a
// cancellation requested there is queued under a lock and the reactor is
// woken; the reactor writes its submission entry on its next turn.
//
// user_data of every entry: the registration's address (16-byte aligned, so
// the low 4 bits are free, and below 2^48 on the architectures Linux runs
// Swift on) | a tag in the low bits | the operation's generation in the top
// 16 bits. Only `.operation` completions are dereferenced; the generation
// keeps a late cancellation from hitting a later operation of the same slot.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings
import Synchronization

/// What a completion's `user_data` refers to.
internal enum IOUringTag: UInt64 {
    /// An operation of a registration (bit 0: its direction).
    case operation = 0
    /// The `IORING_OP_LINK_TIMEOUT` linked to an operation.
    case linkTimeout = 2
    /// An `IORING_OP_ASYNC_CANCEL`.
    case cancel = 4
    /// The driver's own entries (none wait for an answer).
    case driver = 6

    static let mask: UInt64 = 0xF
    static let directionBit: UInt64 = 1
    static let generationShift: UInt64 = 48
    static let addressMask: UInt64 = ((1 << 48) - 1) & ~0xF
}

/// The ring of a reactor whose backend is ``ReactorBackend/ioUring``.
///
/// `@unchecked Sendable`: the ring and `drained` are touched only by the
/// reactor thread; `remote` is guarded by its lock.
internal final class IOUringReactorDriver: @unchecked Sendable {
    let ring: IOUring
    let support: IOUringSupport
    /// Requests from other threads: operation user data with the tag
    /// `.operation` (submit it; the registration was retained) or `.cancel`
    /// (cancel the operation whose user data this is, with the tag cleared).
    private let remote: SockMutex<[UInt64]>
    private var drained: [UInt64] = []
    /// Set when `remote` is not empty (read without the lock each turn).
    private let hasRemote = Atomic<Bool>(false)
    /// Operations submitted whose completion has not been handled yet.
    private(set) var operationsInFlight = 0
    /// Set by ``beginShutdown()``: cancelled operations then end with
    /// `.closed`, and no new entry is written once the ring is closed.
    private(set) var isShuttingDown = false
    /// ``isShuttingDown`` for other threads: an operation started after it
    /// ends with `.closed` at once.
    let hasStopped = Atomic<Bool>(false)
    private var isClosed = false
    /// Times the submission queue was full and submitted early (tests).
    private(set) var submissionQueueFull = 0

    /// Sets up the ring and checks the operations the reactor needs.
    ///
    /// - Throws: Why io_uring cannot serve the reactor.
    init(entries: UInt32 = 256, required: [CInt] = IOUringSupport.reactorOperations) throws(IOUringUnavailability) {
        let ring = try IOUringSupport.setUp(entries: entries)
        let support: IOUringSupport
        do throws(IOUringUnavailability) {
            support = try IOUringSupport.probe(ring, requiring: required)
        } catch {
            ring.close()
            throw error
        }
        self.ring = ring
        self.support = support
        var queue: [UInt64] = []
        queue.reserveCapacity(256)
        remote = SockMutex(queue)
        drained.reserveCapacity(256)
    }

    deinit { ring.close() }

    // MARK: User data

    @inline(__always)
    static func userData(_ registration: UnsafeRawPointer, _ tag: IOUringTag, _ direction: WaitDirection, generation: UInt16) -> UInt64 {
        UInt64(UInt(bitPattern: registration)) | tag.rawValue | direction.rawValue | UInt64(generation) << IOUringTag.generationShift
    }

    // MARK: Requests from any thread

    /// Queues a request for the reactor thread (see `remote`) and wakes it.
    func post(_ request: UInt64, waking poller: Poller) {
        remote.withLock { $0.append(request) }
        hasRemote.store(true, ordering: .releasing)
        poller.wake()
    }

    // MARK: Reactor thread

    /// The next submission entry, zeroed; a full queue is submitted first.
    /// `count` entries are guaranteed consecutive (for a linked pair). Nil
    /// once the ring is closed (after the reactor stopped).
    func entries(_ count: UInt32 = 1) -> UnsafeMutablePointer<IOUringSQE>? {
        if isClosed { return nil }
        while ring.freeSubmissionSlots < count {
            submissionQueueFull += 1
            _ = try? ring.submit()
        }
        return ring.nextEntry()
    }

    /// Counts an operation the ring now owns (its completion decrements).
    func operationSubmitted() { operationsInFlight += 1 }

    /// Writes an `IORING_OP_ASYNC_CANCEL` for the operation `target`.
    func cancel(_ target: UInt64) {
        guard let sqe = entries() else { return }
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_ASYNC_CANCEL)
        sqe.pointee.fd = -1
        sqe.pointee.addr = target
        sqe.pointee.user_data = (target & ~IOUringTag.mask) | IOUringTag.cancel.rawValue
    }

    /// One turn of the reactor loop: takes the requests of other threads,
    /// submits what is prepared, and dispatches the completions ready now
    /// (resuming their tasks, which the executor queues). Returns how many
    /// completions it handled.
    func turn() -> Int {
        if hasRemote.load(ordering: .acquiring) {
            hasRemote.store(false, ordering: .relaxed)
            remote.withLock { swap(&$0, &drained) }
            for request in drained {
                if request & IOUringTag.mask & ~IOUringTag.directionBit == IOUringTag.cancel.rawValue {
                    cancel(request & ~IOUringTag.cancel.rawValue)
                } else {
                    let registration = Unmanaged<IOUringRegistration>.fromOpaque(
                        UnsafeRawPointer(bitPattern: UInt(request & IOUringTag.addressMask))!)
                    registration.takeUnretainedValue().submitQueued(
                        WaitDirection(rawValue: request & IOUringTag.directionBit)!)
                    registration.release()
                }
            }
            drained.removeAll(keepingCapacity: true)
        }
        let overflowed = ring.submissionFlags & SockBindings.IORING_SQ_CQ_OVERFLOW != 0
        if ring.flush() > 0 || overflowed {
            do throws(SockErrno) {
                // GETEVENTS without waiting flushes completions the kernel
                // kept back when the completion queue was full.
                _ = try ring.submit(waitingFor: 0, flushingOverflow: overflowed)
            } catch {
                // EBUSY/EAGAIN: completions must be reaped first (below);
                // the entries stay queued for the next turn.
            }
        }
        return ring.reap { userData, result, _ in
            guard userData & IOUringTag.mask & ~IOUringTag.directionBit == IOUringTag.operation.rawValue,
                  let address = UnsafeRawPointer(bitPattern: UInt(userData & IOUringTag.addressMask)) else {
                return  // a link timeout's or cancellation's own completion
            }
            operationsInFlight -= 1
            let registration = Unmanaged<IOUringRegistration>.fromOpaque(address)
            registration.takeUnretainedValue().complete(
                WaitDirection(rawValue: userData & IOUringTag.directionBit)!,
                generation: UInt16(truncatingIfNeeded: userData >> IOUringTag.generationShift),
                result: result)
            registration.release()  // the reference the submission took
        }
    }

    /// Whether prepared entries wait for `io_uring_enter`.
    var hasUnsubmitted: Bool { !isClosed && ring.flush() > 0 }

    /// Cancels every operation in flight (`IORING_ASYNC_CANCEL_ANY`): the
    /// reactor is stopping, and their tasks end with `.closed` once the
    /// kernel has let go of their buffers.
    func beginShutdown() {
        isShuttingDown = true
        hasStopped.store(true, ordering: .releasing)
        guard operationsInFlight > 0, let sqe = entries() else { return }
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_ASYNC_CANCEL)
        sqe.pointee.fd = -1
        sqe.pointee.cancel_flags = SockBindings.IORING_ASYNC_CANCEL_ANY
        sqe.pointee.user_data = IOUringTag.driver.rawValue
    }

    /// Closes the ring (the kernel cancels what is still in flight). Later
    /// submissions are refused (``entries(_:)`` returns nil).
    func close() {
        isClosed = true
        ring.close()
    }
}
