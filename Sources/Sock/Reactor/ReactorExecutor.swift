// The reactor's TaskExecutor: jobs enqueued from any thread go into a
// preallocated ring under a lock; the reactor thread takes the whole ring in
// one swap and runs the jobs, then polls. A task that prefers this executor
// (`Task(executorPreference:)`, `withTaskExecutorPreference`) runs on the
// reactor thread, and a continuation the reactor resumes is enqueued here, on
// the same thread: a request never hops threads and a suspension costs no
// malloc (fact 19 of ../shared/facts/linux-sockets.md).
import Synchronization

/// A FIFO of jobs in one heap buffer that doubles when full (so in steady
/// state, never).
///
/// `@unchecked Sendable`: a queue is only touched under the executor's lock,
/// or by the reactor thread after it swapped the queue out of the lock.
internal struct JobQueue: @unchecked Sendable {
    private var buffer: UnsafeMutablePointer<UnownedJob>
    private var capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = Swift.max(16, capacity)
        buffer = .allocate(capacity: self.capacity)
    }

    /// Frees the buffer (jobs still queued are dropped).
    func deallocate() { buffer.deallocate() }

    mutating func push(_ job: UnownedJob) {
        if count == capacity { grow() }
        (buffer + (head + count) % capacity).initialize(to: job)
        count += 1
    }

    mutating func pop() -> UnownedJob? {
        guard count > 0 else { return nil }
        let job = (buffer + head).move()
        head = (head + 1) % capacity
        count -= 1
        return job
    }

    private mutating func grow() {
        let larger = UnsafeMutablePointer<UnownedJob>.allocate(capacity: capacity * 2)
        for index in 0..<count {
            (larger + index).initialize(to: (buffer + (head + index) % capacity).move())
        }
        buffer.deallocate()
        buffer = larger
        head = 0
        capacity *= 2
    }
}

/// The executor of a ``Reactor``: runs jobs on the reactor's thread, between
/// polls.
///
/// Adopt it so that a task's code and the resumptions of its socket
/// operations all run on the reactor thread:
///
/// ```swift
/// Task(executorPreference: reactor.executor) {
///     try await serve(connection)
/// }
/// ```
public final class ReactorExecutor: TaskExecutor, Sendable {
    /// Jobs waiting to run.
    private let queue: SockMutex<JobQueue>
    /// Set by the reactor thread while it is about to wait, so that
    /// `enqueue` from another thread knows to wake it.
    internal let reactorMayWait = Atomic<Bool>(false)
    /// The poller to wake; set by the reactor once created.
    private let poller: Poller

    internal init(poller: Poller, capacity: Int) {
        self.poller = poller
        queue = SockMutex(JobQueue(capacity: capacity))
    }

    deinit {
        queue.withLock { $0.deallocate() }
    }

    /// Queues a job to run on the reactor thread, waking the reactor if it
    /// waits in epoll. Allocates nothing unless more jobs are queued at once
    /// than ever before.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.withLock { $0.push(unowned) }
        if reactorMayWait.load(ordering: .sequentiallyConsistent) {
            poller.wake()
        }
    }

    /// Whether jobs are queued.
    internal var hasJobs: Bool { queue.withLock { $0.count > 0 } }

    /// Swaps the queue with `drained` (which must be empty): the reactor then
    /// runs `drained`'s jobs without holding the lock.
    internal func swapQueue(with drained: inout JobQueue) {
        queue.withLock { swap(&$0, &drained) }
    }
}
