// Reactor: one thread, one Poller, one TaskExecutor.
//
// The thread loops: run the queued jobs (task slices), then wait in epoll —
// without a timeout only if no job is queued — and turn events into
// resumed continuations (which enqueue their tasks' jobs right here, on this
// thread), then release registrations closed meanwhile. Nothing in the loop
// allocates.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings
import Synchronization

/// An event loop thread for async socket operations: an epoll ``Poller``
/// (and, with the io_uring backend, a ring), a thread that waits on it, and
/// a ``ReactorExecutor`` that runs tasks on that thread.
///
/// Put sockets on a reactor with ``AsyncConnection`` and ``AsyncListener``,
/// and run the tasks that use them on its executor, so that a request never
/// hops threads:
///
/// ```swift
/// let reactor = try Reactor()
/// let listener = try AsyncTCPListener(try TCPListener.listen(on: SockaddrInet4("127.0.0.1:7000")), on: reactor)
/// Task(executorPreference: reactor.executor) {
///     while let conn = try? await listener.accept() {
///         Task(executorPreference: reactor.executor) {
///             let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
///             defer { buffer.deallocate(); conn.close() }
///             while let count = try? await conn.read(into: buffer), count > 0 {
///                 try? await conn.write(all: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
///             }
///         }
///     }
/// }
/// ```
///
/// Operations work from any task; from a task on another executor they still
/// complete, but each resumption then hops to that executor.
///
/// ## Backends
///
/// `Reactor(backend: .epoll)` (the default) waits for readiness with epoll
/// and makes each read and write with its own system call.
/// `Reactor(backend: .ioUring)` submits reads (`IORING_OP_RECV`) and writes
/// (`IORING_OP_SEND`) to an io_uring and resumes the task on their
/// completion: one `io_uring_enter` per loop turn submits every operation the
/// tasks started in it. A TCP connect is one `IORING_OP_CONNECT`; accepts and
/// datagrams with addresses wait for readiness with one-shot
/// `IORING_OP_POLL_ADD`s on the same ring.
/// Deadlines are `IORING_OP_LINK_TIMEOUT`s linked to the operation, and task
/// cancellation or closing a connection submits `IORING_OP_ASYNC_CANCEL`; a
/// task resumes only once the kernel is done with its buffer.
/// `Reactor(backend: .automatic)` takes io_uring when the kernel and the
/// process's sandbox allow it and epoll otherwise (``fallbackReason`` says
/// why). The API and its semantics are the same on both.
public final class Reactor: Sendable {
    /// The poller the thread waits on. Usable directly (its own registrations
    /// and timers); tokens that are not Sock's are ignored by the reactor.
    internal let poller: Poller
    /// The executor whose jobs run on the reactor thread.
    public let executor: ReactorExecutor
    /// The backend in use: ``ReactorBackend/epoll`` or
    /// ``ReactorBackend/ioUring`` (never ``ReactorBackend/automatic``).
    public let backend: ReactorBackend
    /// Why ``ReactorBackend/automatic`` fell back to epoll; nil otherwise.
    public let fallbackReason: IOUringUnavailability?
    /// The ring, with the io_uring backend.
    internal let driver: IOUringReactorDriver?
    /// The reactor thread's `pthread_self()`, once it runs.
    private let threadIdentity = Atomic<UInt>(0)
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    /// Registrations closed since the last loop iteration, released by the
    /// reactor thread after it has dispatched the events it fetched.
    private let closedRegistrations: SockMutex<[Unmanaged<ReactorRegistration>]>
    private let thread: SockMutex<pthread_t?>
    private let eventCapacity: Int

    /// Creates a reactor and starts its thread.
    ///
    /// - Parameters:
    ///   - backend: How the reactor waits: ``ReactorBackend/epoll`` (the
    ///     default), ``ReactorBackend/ioUring``, or
    ///     ``ReactorBackend/automatic`` (io_uring when usable, else epoll).
    ///   - eventCapacity: Events fetched per `epoll_wait`.
    ///   - capacity: Registrations, timers and queued jobs to make room for
    ///     up front (more grow the tables once, never per operation).
    ///   - ringEntries: Submission queue entries of the io_uring backend's
    ///     ring (a full queue is submitted and refilled, so this bounds a
    ///     batch, not the operations in flight).
    /// - Throws: The error of `epoll_create1`, `eventfd` or `pthread_create`;
    ///   with ``ReactorBackend/ioUring``, why io_uring is not usable (see
    ///   ``IOUringUnavailability/error``: ENOSYS, EPERM, a setup or probe
    ///   errno, or EOPNOTSUPP for a missing operation).
    public init(
        backend: ReactorBackend = .epoll, eventCapacity: Int = 1024, capacity: Int = 4096, ringEntries: UInt32 = 256
    ) throws(SockError) {
        var driver: IOUringReactorDriver?
        var fallbackReason: IOUringUnavailability?
        switch backend {
        case .epoll:
            break
        case .ioUring, .automatic:
            do throws(IOUringUnavailability) {
                driver = try IOUringReactorDriver(entries: ringEntries)
            } catch {
                if backend == .ioUring { throw error.error }
                fallbackReason = error
            }
        }
        self.driver = driver
        self.backend = driver == nil ? .epoll : .ioUring
        self.fallbackReason = fallbackReason
        poller = try Poller(capacity: capacity, timerCapacity: capacity)
        if let driver {
            do throws(SockError) {
                try poller.watchCompletions(of: driver.ring.fd)
            } catch {
                poller.close()
                throw error
            }
        }
        executor = ReactorExecutor(poller: poller, capacity: capacity)
        self.eventCapacity = eventCapacity
        var released: [Unmanaged<ReactorRegistration>] = []
        released.reserveCapacity(64)
        closedRegistrations = SockMutex(released)
        thread = SockMutex(nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        var id = pthread_t()
        let result = pthread_create(&id, nil, { context in
            let reactor = Unmanaged<Reactor>.fromOpaque(context!).takeRetainedValue()
            reactor.run()
            return nil
        }, context)
        if result != 0 {
            Unmanaged<Reactor>.fromOpaque(context).release()
            poller.close()
            throw SockError(errno: result)
        }
        thread.withLock { $0 = id }
    }

    /// Stops the thread after the jobs queued now have run, and closes the
    /// poller. Operations still waiting end with ``SockError/closed`` (on
    /// io_uring, once the kernel has let go of their buffers: they are
    /// cancelled first), and so do sleeps; their tasks run on the reactor
    /// thread one last time (up to 2 s in all). From the call on, an
    /// operation that would have to wait fails with ``SockError/closed``.
    /// Waits for the thread to end unless called on it. Idempotent.
    public func shutdown() {
        if stopping.exchange(true, ordering: .sequentiallyConsistent) { return }
        poller.wake()
        let id: pthread_t? = thread.withLock { id in
            defer { id = nil }
            return id
        }
        if let id {
            if pthread_equal(id, pthread_self()) != 0 {
                pthread_detach(id)
            } else {
                pthread_join(id, nil)
            }
        }
    }

    /// Whether ``shutdown()`` was called.
    public var isShutDown: Bool { stopping.load(ordering: .relaxed) }

    /// Whether the caller runs on the reactor thread.
    internal var isOnReactorThread: Bool {
        let identity = threadIdentity.load(ordering: .relaxed)
        return identity != 0 && identity == UInt(pthread_self())
    }

    /// Ends every pending ``sleep(until:)`` with ``SockError/closed`` (the
    /// reactor is stopping); other timers stay.
    private func endSleeps() {
        for token in poller.removeTimers(where: { $0 & ReactorSleeper.tokenTag != 0 }) {
            ReactorSleeper.handleTimer(token: token, outcome: .closed)
        }
    }

    /// Hands a deregistered registration to the reactor thread for release.
    internal func releaseLater(_ registration: ReactorRegistration) {
        if stopped.load(ordering: .acquiring) {
            Unmanaged.passUnretained(registration).release()
            return
        }
        closedRegistrations.withLock { $0.append(Unmanaged.passUnretained(registration)) }
    }

    /// The reactor thread.
    private func run() {
        var events = PollerEvents(capacity: eventCapacity)
        var drained = JobQueue(capacity: 256)
        var released: [Unmanaged<ReactorRegistration>] = []
        released.reserveCapacity(64)
        let unownedExecutor = executor.asUnownedTaskExecutor()
        threadIdentity.store(UInt(pthread_self()), ordering: .releasing)
        // Loop turns in a row that found completions and skipped epoll.
        var turnsWithoutPoll = 0
        while true {
            // 1. Run the jobs queued so far.
            executor.swapQueue(with: &drained)
            while let job = drained.pop() {
                job.runSynchronously(on: unownedExecutor)
            }
            if stopping.load(ordering: .acquiring) && !executor.hasJobs { break }
            // 1b. io_uring: submit what the jobs started (one
            // io_uring_enter) and resume the tasks whose operations
            // completed. While completions keep coming, epoll (timers,
            // wake-ups) is asked only every 8th turn.
            if let driver {
                if driver.turn() > 0 && turnsWithoutPoll < 8 {
                    turnsWithoutPoll += 1
                    continue
                }
                turnsWithoutPoll = 0
            }
            // 2. Wait (not at all while jobs are queued).
            executor.reactorMayWait.store(true, ordering: .sequentiallyConsistent)
            var deadline: Deadline = executor.hasJobs || stopping.load(ordering: .acquiring)
                || (driver?.hasUnsubmitted ?? false) ? .none : .never
            if deadline.isNever, let driver, driver.operationsInFlight > 0 {
                // io_uring: a completion reaches this thread as task work,
                // whose notification wakes it from epoll_wait. On Linux 6.1
                // (test-kernels, under emulation) a wait was seen to sleep
                // on although operations had completed and their linked
                // timeouts had fired; the cause is not found. While
                // operations are in flight the wait is bounded, so such a
                // completion is late by at most 50 ms, never lost.
                deadline = .after(.milliseconds(50))
            }
            let count: Int
            do throws(SockError) {
                count = try poller.wait(into: &events, deadline: deadline)
            } catch {
                executor.reactorMayWait.store(false, ordering: .sequentiallyConsistent)
                break
            }
            executor.reactorMayWait.store(false, ordering: .sequentiallyConsistent)
            // 3. Dispatch.
            for index in 0..<count {
                let event = events[index]
                switch event.kind {
                case .io:
                    ReactorRegistration.from(token: event.token).handle(event.readiness)
                case .timer:
                    if event.token & ReactorSleeper.tokenTag != 0 {
                        ReactorSleeper.handleTimer(token: event.token)
                    } else {
                        ReactorRegistration.handleTimer(token: event.token)
                    }
                case .wakeUp:
                    break
                }
            }
            // 4. Release registrations closed before this batch was dispatched.
            closedRegistrations.withLock { swap(&$0, &released) }
            for registration in released { registration.release() }
            released.removeAll(keepingCapacity: true)
        }
        // Stopping: end what still waits, and let the tasks see it. New
        // waits fail with `.closed` from now on (see `isShutDown`). epoll:
        // waiting reads, writes and accepts end with `.closed`. io_uring:
        // the kernel may still write into the buffers of operations in
        // flight, so they are cancelled, and their tasks resume only when
        // the completions come back. Sleeps end with `.closed`. Bounded: 2 s.
        driver?.beginShutdown()
        let limit = Deadline.after(.seconds(2))
        while true {
            endSleeps()
            if driver == nil {
                for token in poller.registeredTokens() {
                    ReactorRegistration.from(token: token).endWaits()
                }
            }
            _ = driver?.turn()
            executor.swapQueue(with: &drained)
            while let job = drained.pop() {
                job.runSynchronously(on: unownedExecutor)
            }
            closedRegistrations.withLock { swap(&$0, &released) }
            for registration in released { registration.release() }
            released.removeAll(keepingCapacity: true)
            if ((driver?.operationsInFlight ?? 0) == 0 && !executor.hasJobs) || limit.hasPassed { break }
            if !executor.hasJobs {
                _ = try? poller.wait(into: &events, deadline: .after(.milliseconds(1)))
            }
        }
        threadIdentity.store(0, ordering: .releasing)
        stopped.store(true, ordering: .releasing)
        closedRegistrations.withLock { list in
            for registration in list { registration.release() }
            list.removeAll()
        }
        drained.deallocate()
        poller.close()
        driver?.close()
    }
}
