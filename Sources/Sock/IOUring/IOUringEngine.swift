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
// - a multishot operation whose completion lacks IORING_CQE_F_MORE has ended
//   and is armed again (receive: unless it ended at EOF, error or
//   cancellation);
// - a receive that ends with ENOBUFS (every buffer in use) waits on a list
//   and is armed again when a buffer comes back; its data stays in the
//   socket, so nothing is lost;
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

    let ring: IOUring
    let buffers: IOUringBufferRing
    /// Descriptors the tables have room for (the soft RLIMIT_NOFILE).
    let descriptorCapacity: Int

    // Per descriptor.
    private let inFlight: UnsafeMutablePointer<UInt32>
    private let flags: UnsafeMutablePointer<UInt8>
    private let queueHead: UnsafeMutablePointer<Int32>
    private let queueTail: UnsafeMutablePointer<Int32>
    // Per buffer id.
    private let length: UnsafeMutablePointer<Int32>
    private let sent: UnsafeMutablePointer<Int32>
    private let next: UnsafeMutablePointer<Int32>
    // Descriptors whose receive ended with ENOBUFS.
    private let starved: UnsafeMutablePointer<Int32>
    private var starvedCount = 0
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
    /// Called when a receive ended by cancellation (ECANCELED).
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
    }
    package private(set) var statistics = Statistics()

    private enum Flag {
        static let open: UInt8 = 1
        static let receiving: UInt8 = 2
        static let peerClosed: UInt8 = 4
        static let closing: UInt8 = 8
        static let sending: UInt8 = 16
        static let starved: UInt8 = 32
    }

    /// Buffers for a provided ring serving `connections` active connections:
    /// one per connection (each holds at most one buffer between its
    /// receive and the send that returns it, unless its peer does not read),
    /// rounded up to a power of two, at least 64 and at most 32,768 (the
    /// kernel's limit). A ring that runs dry anyway costs a re-armed
    /// receive, not data (ENOBUFS leaves the bytes in the socket). With 4 KB
    /// buffers: 1,000 connections → 1,024 buffers, 4 MB; 10,000 → 16,384,
    /// 64 MB (2 KB buffers halve it).
    package static func bufferCount(forConnections connections: Int) -> UInt32 {
        var count: UInt32 = 64
        while Int(count) < connections && count < 32768 { count <<= 1 }
        return count
    }

    /// Creates an engine on a new ring.
    ///
    /// - Parameters:
    ///   - entries: Submission queue entries (8 is enough: a full queue is
    ///     submitted and retried).
    ///   - bufferCount: Buffers in the provided ring (a power of two); size it
    ///     to the connections expected to have data in flight at once.
    ///   - bufferSize: Bytes per buffer.
    package init(entries: UInt32 = 256, bufferCount: UInt32 = 1024, bufferSize: Int = 4096) throws(SockErrno) {
        ring = try IOUring(entries: entries)
        do throws(SockErrno) {
            buffers = try IOUringBufferRing(ring: ring, entries: bufferCount, bufferSize: bufferSize, group: 1)
        } catch {
            ring.close()
            throw error
        }
        var limit = rlimit()
        getrlimit(RLIMIT_NOFILE_VALUE, &limit)
        descriptorCapacity = Int(min(limit.rlim_cur, 1 << 20))
        func table<T>(_ count: Int, _ value: T) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: count)
            pointer.initialize(repeating: value, count: count)
            return pointer
        }
        inFlight = table(descriptorCapacity, 0)
        flags = table(descriptorCapacity, 0)
        queueHead = table(descriptorCapacity, -1)
        queueTail = table(descriptorCapacity, -1)
        starved = table(descriptorCapacity, -1)
        length = table(Int(bufferCount), 0)
        sent = table(Int(bufferCount), 0)
        next = table(Int(bufferCount), -1)
        timeout = table(1, KernelTimespec())
    }

    deinit {
        ring.close()
        for pointer in [UnsafeMutableRawPointer(inFlight), UnsafeMutableRawPointer(flags), UnsafeMutableRawPointer(queueHead),
                        UnsafeMutableRawPointer(queueTail), UnsafeMutableRawPointer(starved), UnsafeMutableRawPointer(length),
                        UnsafeMutableRawPointer(sent), UnsafeMutableRawPointer(next), UnsafeMutableRawPointer(timeout)] {
            pointer.deallocate()
        }
    }

    /// Operations in flight on `fd`.
    func operationsInFlight(_ fd: CInt) -> UInt32 { inFlight[Int(fd)] }

    // MARK: Submitting

    static func userData(_ kind: Kind, fd: CInt, extra: UInt16 = 0) -> UInt64 {
        kind.rawValue << 56 | UInt64(extra) << 32 | UInt64(UInt32(bitPattern: fd))
    }

    /// The next submission entry; submits the queue when it is full.
    private func entry() -> UnsafeMutablePointer<IOUringSQE> {
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

    /// Serves `fd` (a connected socket): arms its multishot receive.
    func serve(_ fd: CInt) {
        flags[Int(fd)] = Flag.open
        armReceive(fd)
    }

    private func armReceive(_ fd: CInt) {
        let sqe = entry()
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_RECV)
        sqe.pointee.fd = fd
        sqe.pointee.ioprio = UInt16(SockBindings.IORING_RECV_MULTISHOT)
        sqe.pointee.flags = UInt8(SockBindings.IOSQE_BUFFER_SELECT)
        sqe.pointee.buf_group = buffers.group
        sqe.pointee.user_data = Self.userData(.receive, fd: fd)
        inFlight[Int(fd)] += 1
        flags[Int(fd)] |= Flag.receiving
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
    }

    /// Cancels every operation in flight on `fd` (IORING_OP_ASYNC_CANCEL);
    /// a cancelled receive completes with ECANCELED and `onCancelled`.
    func cancel(_ fd: CInt) {
        let sqe = entry()
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_ASYNC_CANCEL)
        sqe.pointee.fd = fd
        sqe.pointee.cancel_flags = SockBindings.IORING_ASYNC_CANCEL_FD | SockBindings.IORING_ASYNC_CANCEL_ALL
        sqe.pointee.user_data = Self.userData(.cancel, fd: fd)
    }

    /// Closes `fd` once its operations have completed (now if none is in
    /// flight), with IORING_OP_CLOSE.
    package func close(_ fd: CInt) {
        flags[Int(fd)] |= Flag.peerClosed
        if flags[Int(fd)] & Flag.receiving != 0 { cancel(fd) }
        closeIfIdle(fd)
    }

    private func closeIfIdle(_ fd: CInt) {
        let index = Int(fd)
        guard flags[index] & (Flag.peerClosed | Flag.closing) == Flag.peerClosed else { return }
        if inFlight[index] != 0 || queueHead[index] >= 0 {
            statistics.deferredCloses += 1
            return
        }
        flags[index] |= Flag.closing
        let sqe = entry()
        sqe.pointee.opcode = UInt8(SockBindings.IORING_OP_CLOSE)
        sqe.pointee.fd = fd
        sqe.pointee.user_data = Self.userData(.close, fd: fd)
        inFlight[index] += 1
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
        buffers.publish()
        return count
    }

    /// Handles one completion (internal, not private: tests feed it
    /// completions the kernel rarely produces on demand).
    func complete(_ userData: UInt64, _ result: Int32, _ cqeFlags: UInt32) {
        let fd = CInt(bitPattern: UInt32(truncatingIfNeeded: userData))
        let more = cqeFlags & SockBindings.IORING_CQE_F_MORE != 0
        switch Kind(rawValue: userData >> 56) {
        case .accept:
            if result >= 0 {
                statistics.accepted += 1
                if Int(result) >= descriptorCapacity {
                    Glibc.close(result)
                } else {
                    onAccept(result)
                    serve(result)
                }
            }
            if result < 0 { onAcceptError(-result) }
            if !more && listener >= 0 {
                if -result == SockBindings.EMFILE || -result == SockBindings.ENFILE {
                    acceptPaused = true
                } else {
                    statistics.acceptRearms += 1
                    armAccept()
                }
            }
        case .receive:
            let index = Int(fd)
            if !more {
                inFlight[index] -= 1
                flags[index] &= ~Flag.receiving
            }
            if result > 0 {
                let id = Int32(cqeFlags >> UInt32(SockBindings.IORING_CQE_BUFFER_SHIFT))
                let bytes = UnsafeRawBufferPointer(start: buffers.buffer(UInt16(id)), count: Int(result))
                switch onData(fd, bytes) {
                case .consumed:
                    returnBuffer(id)
                case .echo:
                    length[Int(id)] = result
                    sent[Int(id)] = 0
                    enqueueSend(fd, id)
                }
                if !more && flags[index] & (Flag.peerClosed | Flag.closing) == 0 {
                    statistics.receiveRearms += 1
                    armReceive(fd)
                }
            } else if result == 0 {
                flags[index] |= Flag.peerClosed
                closeIfIdle(fd)
            } else if -result == SockBindings.ENOBUFS {
                statistics.noBuffers += 1
                if flags[index] & Flag.starved == 0 {
                    flags[index] |= Flag.starved
                    starved[starvedCount] = fd
                    starvedCount += 1
                }
            } else if -result == SockBindings.ECANCELED {
                onCancelled(fd)
                closeIfIdle(fd)
            } else {
                flags[index] |= Flag.peerClosed
                closeIfIdle(fd)
            }
        case .send:
            let index = Int(fd)
            let id = Int32(UInt16(truncatingIfNeeded: userData >> 32))
            inFlight[index] -= 1
            flags[index] &= ~Flag.sending
            if result > 0 && sent[Int(id)] + result < length[Int(id)] {
                statistics.partialSends += 1
                sent[Int(id)] += result
                submitSend(fd, buffer: id)
                return
            }
            returnBuffer(id)
            if result < 0 {
                // The peer is gone: drop what is queued.
                while queueHead[index] >= 0 { returnBuffer(dequeue(fd)) }
                flags[index] |= Flag.peerClosed
            } else if queueHead[index] >= 0 {
                submitSend(fd, buffer: dequeue(fd))
            }
            closeIfIdle(fd)
        case .close:
            let index = Int(fd)
            inFlight[index] -= 1
            flags[index] = 0
            statistics.closed += 1
            onClose(fd)
            if acceptPaused {
                acceptPaused = false
                statistics.acceptRearms += 1
                armAccept()
            }
        case .timeout:
            timeoutArmed = false
        case .cancel, .nop, nil:
            break
        }
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
        return id
    }

    /// Hands a buffer back to the kernel and re-arms one starved receive.
    private func returnBuffer(_ id: Int32) {
        buffers.provide(UInt16(id))
        while starvedCount > 0 {
            starvedCount -= 1
            let fd = starved[starvedCount]
            flags[Int(fd)] &= ~Flag.starved
            if flags[Int(fd)] & (Flag.peerClosed | Flag.closing | Flag.receiving) == 0 {
                statistics.receiveRearms += 1
                armReceive(fd)
                break
            }
        }
    }
}

/// `RLIMIT_NOFILE` as the type `getrlimit` takes (an enum in glibc's headers).
private var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(7) }
