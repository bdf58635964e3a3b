// The completion engine: connections served by io_uring completions instead
// of epoll readiness. Multishot accept, multishot receive into a provided
// buffer ring, send from the received buffer (handed back to the kernel when
// the send completes), close, cancellation and timeouts.
//
// This is the part of the completion backend that does not depend on the
// reactor's async API; the reactor plugs into it through `IOUringEngine`'s
// handlers (see the merge notes of issue 16). Rules it keeps:
// - per descriptor, the operations in flight are counted, and a descriptor
//   is closed only when none is left (fact 16: the EOF completion can be
//   reaped while the send of the data before it is still in flight);
// - at most one send per descriptor is in flight (two concurrent sends on one
//   socket may complete out of order); later data waits in a per-descriptor
//   queue threaded through the buffer ids — no allocation;
// - fairness: a connection holds at most `perConnectionBuffers` provided
//   buffers (received, waiting for or in their send). One that reaches the
//   cap — its peer does not read its echo, or sends faster than it reads —
//   stops receiving: its multishot receive is cancelled (by user_data) and
//   is not armed again until its sends have drained to half the cap. Its
//   data waits in its own socket, and TCP flow control pushes back on that
//   peer alone; the ring's other buffers stay free for other connections;
// - a multishot receive drains what its socket holds in one go, many
//   buffers before a cancellation can land (measured: one connection took
//   511 buffers of a 4,096 ring at once). So each multishot receive carries
//   a byte limit (`sqe->optlen`, Linux 6.17) of the buffers left under the
//   cap, and the kernel ends it there; the cancellation stays as a backstop
//   (small reads fill whole buffers with fewer bytes). A kernel that
//   rejects the limit (EINVAL; before 6.17) is remembered, and connections
//   then receive with single-shot receives, one buffer at a time: without
//   the limit a multishot overshoots the cap by a whole burst (measured on
//   Linux 6.1, where IORING_CQE_F_SOCK_NONEMPTY does not tell a drained
//   socket either: 33 buffers against a cap of 4), so fairness costs a
//   submission per receive there;
// - a receive that ends with ENOBUFS (every buffer in use) joins a FIFO of
//   starved connections; after each pass, as many of them as the kernel has
//   buffers are armed again (single-shot, oldest first). Its data stays in
//   the socket, so nothing is lost;
// - a multishot operation whose completion lacks IORING_CQE_F_MORE has ended
//   and is armed again (receive: unless it ended at EOF, error, cancellation
//   for closing, or the cap);
// - a peer that is gone (a send fails, a receive fails with an error) or a
//   `close(_:)`: queued sends are dropped, what is still in flight is
//   cancelled (IORING_OP_ASYNC_CANCEL of everything on the descriptor), and
//   the descriptor is closed when the cancellations have completed. (Waiting
//   for the kernel to end a multishot receive on a reset socket is not
//   enough: measured on Linux 6.18, a receive stayed armed forever after
//   the RST had already failed a send — `make test-load`'s reset case.)
// - every completion is checked against the engine's own state before it
//   changes anything (its kind, descriptor and buffer id in range, the
//   operation actually in flight, the buffer actually the kernel's): one that
//   does not fit is counted in `statistics.rejectedCompletions` and ignored,
//   never trusted (fuzzed by Fuzz/Sources/fuzz-uring-cqe);
// - a full submission queue is submitted and the entry retried.
//
// Everything is preallocated at init (per-descriptor and per-buffer tables);
// steady state allocates nothing. One thread drives an engine.
//
// Plugging into the reactor (not done yet; the reactor is still changing).
// The narrow internal protocol both backends would implement, so that
// `Reactor`, `AsyncConnection` and `AsyncListener` keep their public API:
//   wait(deadline) -> events   epoll_wait | io_uring_enter(GETEVENTS) + reap
//   wake()                     eventfd write (the ring reads the eventfd
//                              with a multishot poll/read on its own)
//   schedule/cancel timer      timer heap | IORING_OP_TIMEOUT / LINK_TIMEOUT
//   read/write/accept/connect  strike + readiness wait | one SQE whose
//                              completion resumes the stored continuation
//   cancel(operation)          clear the waiter | IORING_OP_ASYNC_CANCEL
//   close(descriptor)          deregister | close when in flight == 0
// The ring is single-threaded: an operation started off the reactor thread
// hops to it (the executor's queue) before taking an SQE, and task
// cancellation enqueues the ASYNC_CANCEL the same way. A first step that
// leaves the reactor loop untouched: register the ring's descriptor with the
// poller (it is readable when completions are pending) and reap on that event.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// What a completion engine's handler does with received bytes.
package enum IOUringReceiveAction {
    /// Send the bytes back from the same buffer (echo), which returns to the
    /// kernel when the send completes.
    case echo
    /// The handler consumed the bytes; the buffer returns to the kernel now.
    case consumed
}

/// A completion-driven connection server on one io_uring (package access:
/// used by sock-echo's `--backend uring`; not public API).
package final class IOUringEngine {
    /// Kinds of operation, in the top byte of `user_data`.
    enum Kind: UInt64 {
        case accept = 1, receive, send, close, cancel, timeout, nop
    }

    /// What a cancellation (`Kind.cancel`) was for, in its `user_data`'s extra field.
    enum CancelTarget: UInt16 {
        /// The descriptor's receive, stopped at the per-connection cap.
        case receive = 1
        /// Everything on the descriptor (closing, or its peer is gone).
        case all = 2
    }

    let ring: IOUring
    let buffers: IOUringBufferRing
    /// Descriptors the tables have room for (the soft RLIMIT_NOFILE, or what
    /// the initializer was given).
    let descriptorCapacity: Int
    /// The most provided buffers one connection holds before it stops
    /// receiving (see ``init(entries:bufferCount:bufferSize:perConnectionBuffers:)``).
    package let perConnectionBuffers: Int
    /// A capped connection receives again when it holds this many or fewer.
    let resumeBelow: Int
    /// Whether entries go to the kernel (false only for `replay`: a fuzzer's
    /// completions must never turn into system calls on real descriptors).
    private let submits: Bool
    private let scratchEntry: UnsafeMutablePointer<IOUringSQE>

    // Per descriptor.
    private let inFlight: UnsafeMutablePointer<UInt32>
    private let flags: UnsafeMutablePointer<UInt16>
    private let held: UnsafeMutablePointer<Int32>
    private let queueHead: UnsafeMutablePointer<Int32>
    private let queueTail: UnsafeMutablePointer<Int32>
    private let sendingBuffer: UnsafeMutablePointer<Int32>
    // The FIFO of descriptors whose receive ended with ENOBUFS (doubly
    // linked through the descriptors, so a closing one leaves it at once).
    private let starvedNext: UnsafeMutablePointer<Int32>
    private let starvedPrevious: UnsafeMutablePointer<Int32>
    private var starvedHead: Int32 = -1
    private var starvedTail: Int32 = -1
    private var starvedCount = 0
    // Per buffer id.
    private let length: UnsafeMutablePointer<Int32>
    private let sent: UnsafeMutablePointer<Int32>
    private let next: UnsafeMutablePointer<Int32>
    /// The descriptor holding each buffer, or -1 when the kernel has it.
    private let owner: UnsafeMutablePointer<Int32>
    private var heldTotal = 0
    // The timespec of the wait timeout (the kernel reads it at submission).
    private let timeout: UnsafeMutablePointer<KernelTimespec>
    private var timeoutArmed = false

    private var listener: CInt = -1

    /// Called with each accepted descriptor, before its receive is armed.
    package var onAccept: (CInt) -> Void = { _ in }
    /// Called with the bytes of each receive completion.
    package var onData: (CInt, UnsafeRawBufferPointer) -> IOUringReceiveAction = { _, _ in .echo }
    /// Called when a descriptor has been closed (after all its operations).
    package var onClose: (CInt) -> Void = { _ in }
    /// Called when a receive ended by cancellation (ECANCELED) because its
    /// descriptor is being closed (``close(_:)``, or its peer is gone); not
    /// for the engine's own pause of a connection at its buffer cap.
    package var onCancelled: (CInt) -> Void = { _ in }
    /// Called with the errno when accepting failed; on EMFILE/ENFILE the
    /// accept pauses until a connection closes (no busy loop).
    package var onAcceptError: (CInt) -> Void = { _ in }
    private var acceptPaused = false

    /// Counters, for tests and statistics.
    package struct Statistics {
        package var accepted = 0
        package var closed = 0
        package var acceptRearms = 0
        package var receiveRearms = 0
        package var noBuffers = 0
        package var partialSends = 0
        package var submissionQueueFull = 0
        package var deferredCloses = 0
        /// Times a connection reached its buffer cap and stopped receiving.
        package var capped = 0
        /// Single-shot receives armed (careful mode: one buffer at a time).
        package var singleShotReceives = 0
        /// Multishot receives the kernel rejected for their byte limit
        /// (EINVAL before Linux 6.17); the engine then stops asking for it.
        package var multishotLimitRejected = 0
        /// The most buffers one connection held at once.
        package var peakHeld = 0
        /// Connections whose peer was found gone (a failed send or receive)
        /// or that ``IOUringEngine/close(_:)`` closed: what they had in
        /// flight was cancelled.
        package var aborted = 0
        /// Completions that did not fit the engine's state (unknown kind,
        /// descriptor or buffer id out of range, an operation that was not
        /// in flight, a buffer the engine already held) and were ignored.
        package var rejectedCompletions = 0
        /// Accepted descriptors at or past the tables' capacity, closed at once.
        package var acceptedBeyondCapacity = 0
        /// Buffers handed back to the kernel that it already had (never
        /// expected: a non-zero count is an engine bug; nothing is handed back).
        package var doubleReturns = 0
    }
    package private(set) var statistics = Statistics()

    private enum Flag {
        static let open: UInt16 = 1
        /// A receive is in flight.
        static let receiving: UInt16 = 2
        /// No more receiving: the peer finished (EOF), or the descriptor is
        /// being closed; closed once nothing is in flight.
        static let peerClosed: UInt16 = 4
        /// IORING_OP_CLOSE is in flight.
        static let closing: UInt16 = 8
        /// A send is in flight.
        static let sending: UInt16 = 16
        /// In the starved FIFO (its receive ended with ENOBUFS).
        static let starved: UInt16 = 32
        /// The receive in flight is multishot.
        static let multishot: UInt16 = 64
        /// At the buffer cap: receives again at `resumeBelow`.
        static let capped: UInt16 = 128
        /// Receives are single-shot (one buffer each) until the socket drains.
        static let careful: UInt16 = 256
        /// A cancellation of the receive (at the cap) is in flight.
        static let cancellingReceive: UInt16 = 512
        /// A cancellation of everything on the descriptor is in flight.
        static let cancellingAll: UInt16 = 1024
        /// The peer is gone or the descriptor is being closed: received
        /// bytes are dropped, nothing more is sent.
        static let aborted: UInt16 = 2048
        /// The multishot receive in flight carries a byte limit (`optlen`).
        static let limited: UInt16 = 4096
        /// Reached its cap once: without the kernel's byte limit, it stays
        /// in careful mode (a multishot would overshoot again).
        static let heavy: UInt16 = 8192
    }

    /// Whether multishot receives carry a byte limit (`sqe->optlen`, Linux
    /// 6.17: the kernel ends the multishot once it has received that many
    /// bytes, so a burst cannot overshoot the cap). Cleared the first time a
    /// kernel rejects it (EINVAL); receives are then single-shot. (Internal,
    /// not private: tests run the fallback on a kernel that has the limit.)
    var limitsMultishot = true

    /// Buffers for a provided ring serving `connections` active connections:
    /// one per connection (each holds at most one buffer between its
    /// receive and the send that returns it, unless its peer does not read),
    /// rounded up to a power of two, at least 64 and at most 32,768 (the
    /// kernel's limit). A ring that runs dry anyway costs a re-armed
    /// receive, not data (ENOBUFS leaves the bytes in the socket), and a
    /// peer that does not read holds at most the per-connection cap. With 4 KB
    /// buffers: 1,000 connections → 1,024 buffers, 4 MB; 10,000 → 16,384,
    /// 64 MB (2 KB buffers halve it).
    package static func bufferCount(forConnections connections: Int) -> UInt32 {
        var count: UInt32 = 64
        while Int(count) < connections && count < 32768 { count <<= 1 }
        return count
    }

    /// The default per-connection cap for a ring of `bufferCount` buffers:
    /// a 64th of the ring, at least 2 and at most 16 (64 KB of 4 KB buffers:
    /// enough to keep one connection's echo streaming; 64 peers that never
    /// read then hold a quarter of a 4,096-buffer ring).
    package static func defaultPerConnectionBuffers(bufferCount: UInt32) -> Int {
        min(16, max(2, Int(bufferCount) / 64))
    }

    /// Creates an engine on a new ring.
    ///
    /// - Parameters:
    ///   - entries: Submission queue entries (8 is enough: a full queue is
    ///     submitted and retried).
    ///   - bufferCount: Buffers in the provided ring (a power of two); size it
    ///     to the connections expected to have data in flight at once.
    ///   - bufferSize: Bytes per buffer.
    ///   - perConnectionBuffers: The most buffers one connection may hold
    ///     (received and not yet sent back) before it stops receiving until
    ///     its sends drain to half of it; nil: ``defaultPerConnectionBuffers(bufferCount:)``.
    ///     Exact for full buffers on Linux 6.17 and later (the multishot
    ///     receive's byte limit); before, a multishot receive may overshoot
    ///     it by what its socket held when the cap was reached.
    package convenience init(entries: UInt32 = 256, bufferCount: UInt32 = 1024, bufferSize: Int = 4096,
                             perConnectionBuffers: Int? = nil) throws(SockErrno) {
        try self.init(entries: entries, bufferCount: bufferCount, bufferSize: bufferSize,
                      perConnectionBuffers: perConnectionBuffers, descriptorCapacity: nil, submits: true)
    }

    init(entries: UInt32, bufferCount: UInt32, bufferSize: Int, perConnectionBuffers: Int?,
         descriptorCapacity: Int?, submits: Bool) throws(SockErrno) {
        ring = try IOUring(entries: entries)
        do throws(SockErrno) {
            buffers = try IOUringBufferRing(ring: ring, entries: bufferCount, bufferSize: bufferSize, group: 1)
        } catch {
            ring.close()
            throw error
        }
        if let descriptorCapacity {
            self.descriptorCapacity = max(1, descriptorCapacity)
        } else {
            var limit = rlimit()
            getrlimit(RLIMIT_NOFILE_VALUE, &limit)
            self.descriptorCapacity = Int(min(limit.rlim_cur, 1 << 20))
        }
        let cap = max(1, perConnectionBuffers ?? Self.defaultPerConnectionBuffers(bufferCount: bufferCount))
        self.perConnectionBuffers = cap
        resumeBelow = cap / 2
        self.submits = submits
        func table<T>(_ count: Int, _ value: T) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: count)
            pointer.initialize(repeating: value, count: count)
            return pointer
        }
        let capacity = self.descriptorCapacity
        inFlight = table(capacity, 0)
        flags = table(capacity, 0)
        held = table(capacity, 0)
        queueHead = table(capacity, -1)
        queueTail = table(capacity, -1)
        sendingBuffer = table(capacity, -1)
        starvedNext = table(capacity, -1)
        starvedPrevious = table(capacity, -1)
        length = table(Int(bufferCount), 0)
        sent = table(Int(bufferCount), 0)
        next = table(Int(bufferCount), -1)
        owner = table(Int(bufferCount), -1)
        timeout = table(1, KernelTimespec())
        scratchEntry = table(1, IOUringSQE())
    }

    deinit {
        ring.close()
        for pointer in [UnsafeMutableRawPointer(inFlight), UnsafeMutableRawPointer(flags), UnsafeMutableRawPointer(held),
                        UnsafeMutableRawPointer(queueHead), UnsafeMutableRawPointer(queueTail),
                        UnsafeMutableRawPointer(sendingBuffer), UnsafeMutableRawPointer(starvedNext),
                        UnsafeMutableRawPointer(starvedPrevious), UnsafeMutableRawPointer(length),
                        UnsafeMutableRawPointer(sent), UnsafeMutableRawPointer(next), UnsafeMutableRawPointer(owner),
                        UnsafeMutableRawPointer(timeout), UnsafeMutableRawPointer(scratchEntry)] {
            pointer.deallocate()
        }
    }

    /// Operations in flight on `fd`.
    func operationsInFlight(_ fd: CInt) -> UInt32 { isTracked(fd) ? inFlight[Int(fd)] : 0 }

    /// Provided buffers `fd` holds (received, waiting for or in their send).
    func buffersHeld(by fd: CInt) -> Int { isTracked(fd) ? Int(held[Int(fd)]) : 0 }

    /// Whether `fd` has a receive in flight.
    func isReceiving(_ fd: CInt) -> Bool { isTracked(fd) && flags[Int(fd)] & Flag.receiving != 0 }

    /// Whether `fd`'s IORING_OP_CLOSE has been submitted (and not yet completed).
    func isClosing(_ fd: CInt) -> Bool { isTracked(fd) && flags[Int(fd)] & Flag.closing != 0 }

    /// Whether `fd` is open in the engine (served and not yet closed).
    func isOpen(_ fd: CInt) -> Bool { isTracked(fd) && flags[Int(fd)] & Flag.open != 0 }

    private func isTracked(_ fd: CInt) -> Bool { fd >= 0 && Int(fd) < descriptorCapacity }

    // MARK: Submitting

    static func userData(_ kind: Kind, fd: CInt, extra: UInt16 = 0) -> UInt64 {
        kind.rawValue << 56 | UInt64(extra) << 32 | UInt64(UInt32(bitPattern: fd))
    }

    /// The next submission entry; submits the queue when it is full.
    private func entry() -> UnsafeMutablePointer<IOUringSQE> {
        guard submits else {
            scratchEntry.initialize(to: IOUringSQE())
            return scratchEntry
        }
        while true {
            if let entry = ring.nextEntry() { return entry }
            statistics.submissionQueueFull += 1
            _ = try? ring.submit()
        }
    }

    /// Starts a multishot accept on `listener` (a listening socket).
    package func listen(on listener: CInt) {
        self.listener = listener
        armAccept()
    }

    private func armAccept() {
        let sqe = entry()
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_ACCEPT)
        sqe.pointee.fd = listener
        sqe.pointee.ioprio = UInt16(SockBindings.IORING_ACCEPT_MULTISHOT)
        sqe.pointee.accept_flags = UInt32(SockBindings.SOCK_CLOEXEC)
        sqe.pointee.user_data = Self.userData(.accept, fd: listener)
    }

    /// Serves `fd` (a connected socket): arms its receive — single-shot
    /// first, multishot once a receive finds the socket drained (a peer that
    /// sent a megabyte before it was accepted would otherwise have it all
    /// taken in one burst of buffers). Ignored for a descriptor out of the
    /// tables' range or already served.
    func serve(_ fd: CInt) {
        guard isTracked(fd), flags[Int(fd)] == 0 else { return }
        flags[Int(fd)] = Flag.open | Flag.careful
        armReceive(fd)
    }

    /// Arms a receive on `fd`: multishot limited to the bytes of the
    /// buffers left under the cap, or (a kernel without the limit)
    /// single-shot.
    private func armReceive(_ fd: CInt) {
        let index = Int(fd)
        let multishot = limitsMultishot
        let sqe = entry()
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_RECV)
        sqe.pointee.fd = fd
        sqe.pointee.flags = UInt8(SockBindings.IOSQE_BUFFER_SELECT)
        sqe.pointee.buf_group = buffers.group
        var armed = Flag.receiving
        if multishot {
            sqe.pointee.ioprio = UInt16(SockBindings.IORING_RECV_MULTISHOT)
            armed |= Flag.multishot
            if limitsMultishot {
                let room = max(1, perConnectionBuffers - Int(held[index]))
                sqe.pointee.optlen = UInt32(min(room * buffers.bufferSize, Int(Int32.max)))
                armed |= Flag.limited
            }
        } else {
            sqe.pointee.len = UInt32(buffers.bufferSize)
            statistics.singleShotReceives += 1
        }
        sqe.pointee.user_data = Self.userData(.receive, fd: fd)
        inFlight[index] += 1
        flags[index] |= armed
    }

    private func submitSend(_ fd: CInt, buffer id: Int32) {
        let sqe = entry()
        let offset = Int(sent[Int(id)])
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_SEND)
        sqe.pointee.fd = fd
        sqe.pointee.addr = UInt64(UInt(bitPattern: buffers.buffer(UInt16(id)) + offset))
        sqe.pointee.len = UInt32(length[Int(id)]) - UInt32(offset)
        sqe.pointee.msg_flags = UInt32(SockBindings.MSG_NOSIGNAL)
        sqe.pointee.user_data = Self.userData(.send, fd: fd, extra: UInt16(id))
        inFlight[Int(fd)] += 1
        flags[Int(fd)] |= Flag.sending
        sendingBuffer[Int(fd)] = id
    }

    /// Cancels `fd`'s receive (IORING_OP_ASYNC_CANCEL matching its user_data):
    /// the connection reached its cap. Counted in flight until it completes,
    /// so that no receive is armed (with the same user_data) meanwhile.
    private func cancelReceive(_ fd: CInt) {
        let sqe = entry()
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_ASYNC_CANCEL)
        sqe.pointee.fd = -1
        sqe.pointee.addr = Self.userData(.receive, fd: fd)
        sqe.pointee.user_data = Self.userData(.cancel, fd: fd, extra: CancelTarget.receive.rawValue)
        inFlight[Int(fd)] += 1
        flags[Int(fd)] |= Flag.cancellingReceive
    }

    /// Cancels every operation in flight on `fd` (IORING_OP_ASYNC_CANCEL by
    /// descriptor); a cancelled receive completes with ECANCELED and
    /// `onCancelled`, a cancelled send with ECANCELED.
    private func cancelAll(_ fd: CInt) {
        let sqe = entry()
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_ASYNC_CANCEL)
        sqe.pointee.fd = fd
        sqe.pointee.cancel_flags = SockBindings.IORING_ASYNC_CANCEL_FD | SockBindings.IORING_ASYNC_CANCEL_ALL
        sqe.pointee.user_data = Self.userData(.cancel, fd: fd, extra: CancelTarget.all.rawValue)
        inFlight[Int(fd)] += 1
        flags[Int(fd)] |= Flag.cancellingAll
    }

    /// Closes `fd`: stops receiving, drops the data waiting to be sent,
    /// cancels what is in flight (a send to a peer that does not read would
    /// never complete) and closes the descriptor, with IORING_OP_CLOSE,
    /// once nothing is left in flight (at once if nothing was).
    package func close(_ fd: CInt) {
        guard isTracked(fd), flags[Int(fd)] & (Flag.open | Flag.closing) == Flag.open else { return }
        abort(fd)
    }

    /// The peer is gone (or `close`): drop the queued sends, cancel what is
    /// in flight, close when idle.
    private func abort(_ fd: CInt) {
        let index = Int(fd)
        if flags[index] & Flag.aborted == 0 { statistics.aborted += 1 }
        flags[index] |= Flag.peerClosed | Flag.aborted
        leaveStarved(fd)
        while queueHead[index] >= 0 { returnBuffer(dequeue(fd)) }
        if flags[index] & (Flag.receiving | Flag.sending) != 0 && flags[index] & Flag.cancellingAll == 0 {
            cancelAll(fd)
        }
        closeIfIdle(fd)
    }

    private func closeIfIdle(_ fd: CInt) {
        let index = Int(fd)
        guard flags[index] & (Flag.open | Flag.peerClosed | Flag.closing) == Flag.open | Flag.peerClosed else { return }
        if inFlight[index] != 0 || queueHead[index] >= 0 {
            statistics.deferredCloses += 1
            return
        }
        leaveStarved(fd)
        flags[index] |= Flag.closing
        let sqe = entry()
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_CLOSE)
        sqe.pointee.fd = fd
        sqe.pointee.user_data = Self.userData(.close, fd: fd)
        inFlight[index] += 1
    }

    /// Arms `fd`'s receive again if it should receive and nothing stops it:
    /// not closing, not starved (the FIFO arms it), not at its cap, no
    /// receive or receive cancellation in flight.
    private func resumeReceiving(_ fd: CInt) {
        let index = Int(fd)
        let stops = Flag.receiving | Flag.peerClosed | Flag.closing | Flag.aborted | Flag.starved | Flag.cancellingReceive
        guard flags[index] & Flag.open != 0, flags[index] & stops == 0 else { return }
        if flags[index] & Flag.capped != 0 {
            guard Int(held[index]) <= resumeBelow else { return }
            flags[index] &= ~Flag.capped
        }
        if Int(held[index]) >= perConnectionBuffers {
            flags[index] |= Flag.capped | Flag.careful | Flag.heavy
            statistics.capped += 1
            return
        }
        statistics.receiveRearms += 1
        armReceive(fd)
    }

    // MARK: Running

    /// Submits what is queued, waits for at least one completion (or until
    /// `timeoutNanoseconds` passes, with IORING_OP_TIMEOUT; nil: no limit;
    /// 0: do not wait), and handles the completions. Returns how many.
    @discardableResult
    package func runOnce(timeoutNanoseconds: Int64? = nil) throws(SockErrno) -> Int {
        var wait: UInt32 = 1
        if let nanoseconds = timeoutNanoseconds {
            if nanoseconds <= 0 {
                wait = 0
            } else if !timeoutArmed {
                timeout.pointee.tv_sec = nanoseconds / 1_000_000_000
                timeout.pointee.tv_nsec = nanoseconds % 1_000_000_000
                let sqe = entry()
                sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_TIMEOUT)
                sqe.pointee.fd = -1
                sqe.pointee.addr = UInt64(UInt(bitPattern: timeout))
                sqe.pointee.len = 1
                sqe.pointee.user_data = Self.userData(.timeout, fd: -1)
                timeoutArmed = true
            }
        }
        if ring.readyCompletions > 0 { wait = 0 }
        do throws(SockErrno) {
            try ring.submit(waitingFor: wait)
        } catch where error.rawValue == SockBindings.EBUSY || error.rawValue == SockBindings.ETIME {
            // EBUSY: completions overflowed; reaping below makes room.
        }
        let count = ring.reap { userData, result, flags in
            self.complete(userData, result, flags)
        }
        endPass()
        return count
    }

    /// Publishes the buffers handed back during the pass, then arms the
    /// starved receives, oldest first, one for each buffer the kernel has.
    func endPass() {
        buffers.publish()
        var available = Int(buffers.entries) - heldTotal
        while available > 0 && starvedHead >= 0 {
            let fd = starvedHead
            leaveStarved(fd)
            resumeReceiving(fd)
            available -= 1
        }
    }

    /// Handles one completion (internal, not private: tests feed it
    /// completions the kernel rarely produces on demand). A completion that
    /// does not fit the engine's state is counted and ignored.
    func complete(_ userData: UInt64, _ result: Int32, _ cqeFlags: UInt32) {
        let fd = CInt(bitPattern: UInt32(truncatingIfNeeded: userData))
        let extra = UInt16(truncatingIfNeeded: userData >> 32)
        let more = cqeFlags & SockBindings.IORING_CQE_F_MORE != 0
        switch Kind(rawValue: userData >> 56) {
        case .accept:
            completeAccept(fd, result, more: more)
        case .receive:
            completeReceive(fd, result, cqeFlags, more: more)
        case .send:
            completeSend(fd, buffer: Int32(extra), result)
        case .cancel:
            completeCancel(fd, CancelTarget(rawValue: extra))
        case .close:
            completeClose(fd)
        case .timeout:
            timeoutArmed = false
        case .nop:
            break
        case nil:
            statistics.rejectedCompletions += 1
        }
    }

    private func completeAccept(_ fd: CInt, _ result: Int32, more: Bool) {
        guard fd == listener, listener >= 0 else {
            statistics.rejectedCompletions += 1
            return
        }
        if result >= 0 {
            statistics.accepted += 1
            if Int(result) >= descriptorCapacity {
                statistics.acceptedBeyondCapacity += 1
                if submits { _ = Glibc.close(result) }
            } else if flags[Int(result)] != 0 {
                // The kernel never hands out a descriptor that is still open.
                statistics.rejectedCompletions += 1
            } else {
                onAccept(result)
                serve(result)
            }
        } else {
            onAcceptError(0 &- result)
        }
        if !more {
            if 0 &- result == SockBindings.EMFILE || 0 &- result == SockBindings.ENFILE {
                acceptPaused = true
            } else {
                statistics.acceptRearms += 1
                armAccept()
            }
        }
    }

    private func completeReceive(_ fd: CInt, _ result: Int32, _ cqeFlags: UInt32, more: Bool) {
        guard isTracked(fd), flags[Int(fd)] & Flag.receiving != 0 else {
            statistics.rejectedCompletions += 1
            return
        }
        let index = Int(fd)
        // A multishot receive may post more; a single-shot one never does.
        let ended = !more || flags[index] & Flag.multishot == 0
        var id: Int32 = -1
        if result > 0 {
            let bufferId = Int(cqeFlags >> UInt32(SockBindings.IORING_CQE_BUFFER_SHIFT))
            guard cqeFlags & SockBindings.IORING_CQE_F_BUFFER != 0, bufferId < Int(buffers.entries),
                  owner[bufferId] < 0, Int(result) <= buffers.bufferSize else {
                statistics.rejectedCompletions += 1
                return
            }
            id = Int32(bufferId)
        }
        let wasMultishot = flags[index] & Flag.multishot != 0
        let wasLimited = flags[index] & Flag.limited != 0
        if ended {
            inFlight[index] -= 1
            flags[index] &= ~(Flag.receiving | Flag.multishot | Flag.limited)
        }
        if result > 0 {
            take(id, for: fd)
            var action = IOUringReceiveAction.consumed
            if flags[index] & Flag.aborted == 0 {
                action = onData(fd, UnsafeRawBufferPointer(start: buffers.buffer(UInt16(id)), count: Int(result)))
            }
            // (The handler may have closed the descriptor.)
            if action == .echo && flags[index] & Flag.aborted == 0 {
                length[Int(id)] = result
                sent[Int(id)] = 0
                enqueueSend(fd, id)
            } else {
                returnBuffer(id)
            }
            if Int(held[index]) >= perConnectionBuffers && flags[index] & Flag.capped == 0 {
                flags[index] |= Flag.capped | Flag.careful | Flag.heavy
                statistics.capped += 1
            }
            if !ended && flags[index] & Flag.capped != 0 && flags[index] & Flag.cancellingReceive == 0 {
                // At the cap with the multishot still running: stop it; the
                // rest of the peer's data waits in its socket.
                cancelReceive(fd)
            }
            if ended {
                let drained = Int(result) < buffers.bufferSize || cqeFlags & SockBindings.IORING_CQE_F_SOCK_NONEMPTY == 0
                if !drained && wasMultishot {
                    // Ended with data still queued (the CQ was full, say):
                    // take it a buffer at a time rather than in a burst.
                    flags[index] |= Flag.careful
                } else if drained && Int(held[index]) <= resumeBelow && flags[index] & (Flag.capped | Flag.heavy) == 0 {
                    flags[index] &= ~Flag.careful
                }
            }
        } else if result == 0 {
            flags[index] |= Flag.peerClosed
        } else if 0 &- result == SockBindings.ENOBUFS {
            statistics.noBuffers += 1
            flags[index] |= Flag.careful
            if ended && flags[index] & (Flag.peerClosed | Flag.aborted | Flag.capped) == 0 {
                enterStarved(fd)
            }
        } else if 0 &- result == SockBindings.ECANCELED {
            if flags[index] & Flag.peerClosed != 0 { onCancelled(fd) }
        } else if 0 &- result == SockBindings.EINVAL && wasLimited && ended {
            // A kernel before 6.17 rejects the multishot byte limit: receive
            // without it (armed again below, single-shot until drained).
            limitsMultishot = false
            statistics.multishotLimitRejected += 1
            flags[index] |= Flag.careful
        } else {
            // ECONNRESET and the like: the peer is gone.
            abort(fd)
        }
        if ended { resumeReceiving(fd) }
        closeIfIdle(fd)
    }

    private func completeSend(_ fd: CInt, buffer id: Int32, _ result: Int32) {
        guard isTracked(fd), flags[Int(fd)] & Flag.sending != 0, sendingBuffer[Int(fd)] == id else {
            statistics.rejectedCompletions += 1
            return
        }
        let index = Int(fd)
        inFlight[index] -= 1
        flags[index] &= ~Flag.sending
        sendingBuffer[index] = -1
        if result > 0 && flags[index] & Flag.aborted == 0 && Int(sent[Int(id)]) + Int(result) < Int(length[Int(id)]) {
            statistics.partialSends += 1
            sent[Int(id)] += result
            submitSend(fd, buffer: id)
            return
        }
        returnBuffer(id)
        if result <= 0 {
            // The peer is gone (EPIPE, ECONNRESET), or the send was
            // cancelled; 0 bytes of a non-empty buffer counts as gone too.
            abort(fd)
        } else if queueHead[index] >= 0 && flags[index] & Flag.aborted == 0 {
            submitSend(fd, buffer: dequeue(fd))
        }
        resumeReceiving(fd)
        closeIfIdle(fd)
    }

    private func completeCancel(_ fd: CInt, _ target: CancelTarget?) {
        guard isTracked(fd), let target else {
            statistics.rejectedCompletions += 1
            return
        }
        let index = Int(fd)
        let flag = target == .receive ? Flag.cancellingReceive : Flag.cancellingAll
        guard flags[index] & flag != 0 else {
            statistics.rejectedCompletions += 1
            return
        }
        // Whatever its result (found, ENOENT: the receive had already ended,
        // EALREADY), the cancellation is over.
        inFlight[index] -= 1
        flags[index] &= ~flag
        resumeReceiving(fd)
        closeIfIdle(fd)
    }

    private func completeClose(_ fd: CInt) {
        guard isTracked(fd), flags[Int(fd)] & Flag.closing != 0, inFlight[Int(fd)] == 1 else {
            statistics.rejectedCompletions += 1
            return
        }
        let index = Int(fd)
        inFlight[index] = 0
        flags[index] = 0
        statistics.closed += 1
        onClose(fd)
        if acceptPaused {
            acceptPaused = false
            statistics.acceptRearms += 1
            armAccept()
        }
    }

    // MARK: Buffers and queues

    /// `fd` takes buffer `id` from the kernel (a receive completion).
    private func take(_ id: Int32, for fd: CInt) {
        owner[Int(id)] = fd
        held[Int(fd)] += 1
        heldTotal += 1
        if Int(held[Int(fd)]) > statistics.peakHeld { statistics.peakHeld = Int(held[Int(fd)]) }
    }

    /// Hands buffer `id` back to the kernel (visible after `endPass`).
    private func returnBuffer(_ id: Int32) {
        let holder = owner[Int(id)]
        guard holder >= 0 else {
            statistics.doubleReturns += 1
            return
        }
        owner[Int(id)] = -1
        held[Int(holder)] -= 1
        heldTotal -= 1
        buffers.provide(UInt16(id))
    }

    private func enqueueSend(_ fd: CInt, _ id: Int32) {
        let index = Int(fd)
        if flags[index] & Flag.sending == 0 && queueHead[index] < 0 {
            submitSend(fd, buffer: id)
            return
        }
        next[Int(id)] = -1
        if queueTail[index] >= 0 { next[Int(queueTail[index])] = id } else { queueHead[index] = id }
        queueTail[index] = id
    }

    private func dequeue(_ fd: CInt) -> Int32 {
        let index = Int(fd)
        let id = queueHead[index]
        queueHead[index] = next[Int(id)]
        if queueHead[index] < 0 { queueTail[index] = -1 }
        next[Int(id)] = -1
        return id
    }

    private func enterStarved(_ fd: CInt) {
        let index = Int(fd)
        guard flags[index] & Flag.starved == 0 else { return }
        flags[index] |= Flag.starved
        starvedNext[index] = -1
        starvedPrevious[index] = starvedTail
        if starvedTail >= 0 { starvedNext[Int(starvedTail)] = fd } else { starvedHead = fd }
        starvedTail = fd
        starvedCount += 1
    }

    private func leaveStarved(_ fd: CInt) {
        let index = Int(fd)
        guard flags[index] & Flag.starved != 0 else { return }
        flags[index] &= ~Flag.starved
        let before = starvedPrevious[index], after = starvedNext[index]
        if before >= 0 { starvedNext[Int(before)] = after } else { starvedHead = after }
        if after >= 0 { starvedPrevious[Int(after)] = before } else { starvedTail = before }
        starvedNext[index] = -1
        starvedPrevious[index] = -1
        starvedCount -= 1
    }

    /// Descriptors waiting in the starved FIFO, oldest first.
    func starvedDescriptors() -> [CInt] {
        var result: [CInt] = []
        var fd = starvedHead
        while fd >= 0 && result.count <= starvedCount {
            result.append(fd)
            fd = starvedNext[Int(fd)]
        }
        return result
    }

    // MARK: Checking

    /// Checks the engine's bookkeeping against itself; nil when it is
    /// consistent, otherwise what is not. (For tests and the fuzzer: walks
    /// every table.)
    func consistencyProblem() -> String? {
        if statistics.doubleReturns != 0 { return "\(statistics.doubleReturns) buffers handed back twice" }
        var heldBy = [Int32](repeating: 0, count: descriptorCapacity)
        var total = 0
        for id in 0..<Int(buffers.entries) where owner[id] >= 0 {
            let fd = Int(owner[id])
            guard fd < descriptorCapacity, flags[fd] & Flag.open != 0 else { return "buffer \(id) held by \(fd), not open" }
            heldBy[fd] += 1
            total += 1
        }
        if total != heldTotal { return "\(total) buffers held, counted \(heldTotal)" }
        for fd in 0..<descriptorCapacity {
            let f = flags[fd]
            if f & Flag.open == 0 {
                if f != 0 || inFlight[fd] != 0 || held[fd] != 0 || queueHead[fd] >= 0 || sendingBuffer[fd] >= 0 {
                    return "closed descriptor \(fd): flags \(f), in flight \(inFlight[fd]), held \(held[fd])"
                }
                continue
            }
            var expected: UInt32 = 0
            for flag in [Flag.receiving, Flag.sending, Flag.closing, Flag.cancellingReceive, Flag.cancellingAll]
            where f & flag != 0 { expected += 1 }
            if inFlight[fd] != expected { return "descriptor \(fd): \(inFlight[fd]) in flight, flags say \(expected) (\(f))" }
            if heldBy[fd] != held[fd] { return "descriptor \(fd) holds \(heldBy[fd]) buffers, counted \(held[fd])" }
            if (f & Flag.sending != 0) != (sendingBuffer[fd] >= 0) { return "descriptor \(fd): sending flag and buffer disagree" }
            if sendingBuffer[fd] >= 0 && owner[Int(sendingBuffer[fd])] != fd { return "descriptor \(fd) sends a buffer it does not hold" }
            var queued: Int32 = 0
            var id = queueHead[fd]
            while id >= 0 {
                guard owner[Int(id)] == fd, queued < Int32(buffers.entries) else { return "descriptor \(fd): bad send queue" }
                queued += 1
                id = next[Int(id)]
            }
            if queued + (sendingBuffer[fd] >= 0 ? 1 : 0) != held[fd] {
                return "descriptor \(fd): \(queued) queued and \(sendingBuffer[fd] >= 0 ? 1 : 0) sending, holds \(held[fd])"
            }
            if queued > 0 && f & Flag.sending == 0 { return "descriptor \(fd): a queue without a send in flight" }
            if f & Flag.multishot != 0 && f & Flag.receiving == 0 { return "descriptor \(fd): multishot without a receive" }
            if f & Flag.limited != 0 && f & Flag.multishot == 0 { return "descriptor \(fd): a limit without a multishot" }
            if f & Flag.starved != 0 && f & (Flag.receiving | Flag.peerClosed) != 0 {
                return "descriptor \(fd): starved while receiving or closing"
            }
        }
        var count = 0
        var previous: Int32 = -1
        var fd = starvedHead
        while fd >= 0 {
            guard count < descriptorCapacity, flags[Int(fd)] & Flag.starved != 0, starvedPrevious[Int(fd)] == previous else {
                return "starved list broken at \(fd)"
            }
            count += 1
            previous = fd
            fd = starvedNext[Int(fd)]
        }
        if previous != starvedTail || count != starvedCount { return "starved list: \(count) linked, counted \(starvedCount)" }
        let flagged = (0..<descriptorCapacity).filter { flags[$0] & Flag.starved != 0 }.count
        if flagged != count { return "\(flagged) descriptors flagged starved, \(count) in the list" }
        return nil
    }
}

/// `RLIMIT_NOFILE` as the type `getrlimit` takes (an enum in glibc's headers).
private var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(7) }
