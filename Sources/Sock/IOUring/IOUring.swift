// The io_uring ring: the one place in Sock that reads and writes memory the
// kernel shares with us. Everything unsafe about io_uring is in this file:
// the mmap of the submission ring, completion ring and submission entries,
// and the head/tail protocol over them.
//
// Ordering, as the kernel documents it (io_uring(7), liburing's barrier.h):
// - submitting: fill the entry and the SQ array slot, then store the SQ tail
//   with release ordering (the kernel loads it with acquire);
// - free SQ space: load the SQ head (written by the kernel) with acquire;
// - completing: load the CQ tail with acquire, read the entries up to it,
//   then store the CQ head with release (so the kernel does not overwrite an
//   entry before we have read it).
// Our own indices (the SQ tail, the CQ head) are read plainly: only this
// side writes them. `Synchronization.Atomic<UInt32>` is laid over the mapped
// words (4 bytes, 4-aligned, the same representation as `__u32`).
//
// A ring belongs to one thread (the reactor's): it is not `Sendable`.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings
import Synchronization

/// An io_uring instance with its three mapped regions.
internal final class IOUring {
    /// The ring's descriptor.
    let fd: CInt
    /// The `io_uring_params` the kernel filled in at setup.
    let params: IOUringParams
    /// Submission queue entries (a power of two).
    let sqEntries: UInt32
    /// Completion queue entries.
    let cqEntries: UInt32

    private let sqRing: UnsafeMutableRawPointer
    private let sqRingSize: Int
    private let cqRing: UnsafeMutableRawPointer
    private let cqRingSize: Int
    /// Whether SQ and CQ share one mapping (`IORING_FEAT_SINGLE_MMAP`).
    let singleMapping: Bool
    private let sqes: UnsafeMutablePointer<IOUringSQE>
    private let sqesSize: Int

    private let sqHead: UnsafeMutablePointer<Atomic<UInt32>>
    private let sqTail: UnsafeMutablePointer<Atomic<UInt32>>
    private let sqMask: UInt32
    private let sqFlags: UnsafeMutablePointer<Atomic<UInt32>>
    private let cqHead: UnsafeMutablePointer<Atomic<UInt32>>
    private let cqTail: UnsafeMutablePointer<Atomic<UInt32>>
    private let cqMask: UInt32
    private let cqOverflow: UnsafeMutablePointer<Atomic<UInt32>>
    private let cqes: UnsafeMutablePointer<IOUringCQE>

    /// Our SQ tail: entries up to here are prepared; the kernel sees them
    /// when ``flush()`` publishes it.
    private var localTail: UInt32
    /// The tail last published to the kernel.
    private var publishedTail: UInt32
    /// Entries published but not yet passed to `io_uring_enter`.
    private(set) var unsubmitted: UInt32 = 0
    private var closed = false

    /// Whether ``close()`` ran.
    var isClosed: Bool { closed }

    /// Sets up a ring with `entries` submission entries (rounded up to a
    /// power of two by the kernel) and maps it.
    ///
    /// Flags that an older kernel rejects with EINVAL
    /// (`IORING_SETUP_SUBMIT_ALL`, `IORING_SETUP_COOP_TASKRUN`) are
    /// dropped and setup retried without them.
    ///
    /// - Throws: The errno of `io_uring_setup` (ENOSYS: no io_uring; EPERM:
    ///   forbidden by seccomp or `kernel.io_uring_disabled`), or of `mmap`.
    init(entries: UInt32, flags: UInt32 = 0) throws(SockErrno) {
        var params = IOUringParams()
        // Not IORING_SETUP_SINGLE_ISSUER: a reactor creates its ring on the
        // caller's thread and submits from its own.
        let preferred = flags | SockBindings.IORING_SETUP_SUBMIT_ALL | SockBindings.IORING_SETUP_COOP_TASKRUN
        params.flags = preferred
        var result = withUnsafeMutableBytes(of: &params) { Syscall.ioUringSetup(entries, $0.baseAddress!) }
        if case .failure(let error) = result, error.rawValue == SockBindings.EINVAL {
            params = IOUringParams()
            params.flags = flags
            result = withUnsafeMutableBytes(of: &params) { Syscall.ioUringSetup(entries, $0.baseAddress!) }
        }
        let fd: CInt
        switch result {
        case .success(let value): fd = value
        case .failure(let error): throw error
        }

        let single = params.features & SockBindings.IORING_FEAT_SINGLE_MMAP != 0
        var sqSize = Int(params.sq_off.array) + Int(params.sq_entries) * MemoryLayout<UInt32>.size
        var cqSize = Int(params.cq_off.cqes) + Int(params.cq_entries) * MemoryLayout<IOUringCQE>.size
        if single {
            sqSize = max(sqSize, cqSize)
            cqSize = sqSize
        }
        func map(_ size: Int, _ offset: UInt64) throws(SockErrno) -> UnsafeMutableRawPointer {
            let address = Glibc.mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off_t(offset))
            guard let address, address != MAP_FAILED else {
                throw SockErrno.current
            }
            return address
        }
        let sqRing: UnsafeMutableRawPointer
        let cqRing: UnsafeMutableRawPointer
        let sqesRegion: UnsafeMutableRawPointer
        let sqesSize = Int(params.sq_entries) * MemoryLayout<IOUringSQE>.size
        do throws(SockErrno) {
            sqRing = try map(sqSize, SockBindings.IORING_OFF_SQ_RING)
            do throws(SockErrno) {
                cqRing = single ? sqRing : try map(cqSize, SockBindings.IORING_OFF_CQ_RING)
                do throws(SockErrno) {
                    sqesRegion = try map(sqesSize, SockBindings.IORING_OFF_SQES)
                } catch {
                    if !single { Glibc.munmap(cqRing, cqSize) }
                    throw error
                }
            } catch {
                Glibc.munmap(sqRing, sqSize)
                throw error
            }
        } catch {
            _ = Syscall.close(fd)
            throw error
        }

        self.fd = fd
        self.params = params
        self.sqEntries = params.sq_entries
        self.cqEntries = params.cq_entries
        self.sqRing = sqRing
        self.sqRingSize = sqSize
        self.cqRing = cqRing
        self.cqRingSize = cqSize
        self.singleMapping = single
        self.sqes = sqesRegion.bindMemory(to: IOUringSQE.self, capacity: Int(params.sq_entries))
        self.sqesSize = sqesSize
        func word(_ base: UnsafeMutableRawPointer, _ offset: UInt32) -> UnsafeMutablePointer<Atomic<UInt32>> {
            (base + Int(offset)).assumingMemoryBound(to: Atomic<UInt32>.self)
        }
        sqHead = word(sqRing, params.sq_off.head)
        sqTail = word(sqRing, params.sq_off.tail)
        sqFlags = word(sqRing, params.sq_off.flags)
        sqMask = (sqRing + Int(params.sq_off.ring_mask)).load(as: UInt32.self)
        cqHead = word(cqRing, params.cq_off.head)
        cqTail = word(cqRing, params.cq_off.tail)
        cqOverflow = word(cqRing, params.cq_off.overflow)
        cqMask = (cqRing + Int(params.cq_off.ring_mask)).load(as: UInt32.self)
        cqes = (cqRing + Int(params.cq_off.cqes)).bindMemory(to: IOUringCQE.self, capacity: Int(params.cq_entries))
        // The SQ array maps ring slots to entries; Sock keeps it the
        // identity, so slot i always uses entry i.
        let array = (sqRing + Int(params.sq_off.array)).assumingMemoryBound(to: UInt32.self)
        for index in 0..<Int(params.sq_entries) { array[index] = UInt32(index) }
        let tail = sqTail.pointee.load(ordering: .relaxed)
        localTail = tail
        publishedTail = tail
    }

    deinit { close() }

    /// Unmaps the regions and closes the descriptor (the kernel cancels
    /// what is still in flight). Idempotent.
    func close() {
        if closed { return }
        closed = true
        Glibc.munmap(UnsafeMutableRawPointer(sqes), sqesSize)
        if !singleMapping { Glibc.munmap(cqRing, cqRingSize) }
        Glibc.munmap(sqRing, sqRingSize)
        _ = Syscall.close(fd)
    }

    /// Whether the kernel offers `feature` (`IORING_FEAT_*`).
    func has(feature: UInt32) -> Bool { params.features & feature != 0 }

    // MARK: Submission

    /// Free submission slots: entries not yet taken by the kernel count.
    var freeSubmissionSlots: UInt32 {
        sqEntries &- (localTail &- sqHead.pointee.load(ordering: .acquiring))
    }

    /// The next free submission entry, zeroed, or nil when the submission
    /// queue is full (``submit(waitingFor:)`` then makes room). The entry
    /// is the kernel's once ``flush()`` has run; fill it before.
    func nextEntry() -> UnsafeMutablePointer<IOUringSQE>? {
        let head = sqHead.pointee.load(ordering: .acquiring)
        guard localTail &- head < sqEntries else { return nil }
        let entry = sqes + Int(localTail & sqMask)
        entry.initialize(to: IOUringSQE())
        localTail &+= 1
        return entry
    }

    /// Publishes the prepared entries to the kernel (release store of the
    /// SQ tail). Returns how many are waiting for `io_uring_enter`.
    @discardableResult
    func flush() -> UInt32 {
        if localTail != publishedTail {
            unsubmitted &+= localTail &- publishedTail
            publishedTail = localTail
            sqTail.pointee.store(localTail, ordering: .releasing)
        }
        return unsubmitted
    }

    /// Publishes and submits the prepared entries and waits for at least
    /// `minimum` completions (0: do not wait). Returns the number submitted.
    ///
    /// `flushingOverflow` enters the kernel with `IORING_ENTER_GETEVENTS`
    /// even when nothing is to be submitted or awaited: the kernel then
    /// posts the completions it kept back while the completion queue was
    /// full (`IORING_SQ_CQ_OVERFLOW`).
    @discardableResult
    func submit(waitingFor minimum: UInt32 = 0, flushingOverflow: Bool = false) throws(SockErrno) -> Int {
        let count = flush()
        let flags: UInt32 = minimum > 0 || flushingOverflow ? SockBindings.IORING_ENTER_GETEVENTS : 0
        if count == 0 && minimum == 0 && !flushingOverflow { return 0 }
        switch Syscall.ioUringEnter(fd, count, minimum, flags) {
        case .success(let submitted):
            unsubmitted &-= min(UInt32(submitted), unsubmitted)
            return Int(submitted)
        case .failure(let error):
            throw error
        }
    }

    // MARK: Completion

    /// Completions ready to be reaped.
    var readyCompletions: UInt32 {
        cqTail.pointee.load(ordering: .acquiring) &- cqHead.pointee.load(ordering: .relaxed)
    }

    /// Calls `body` with each ready completion (user data, result, flags).
    /// Each slot is handed back to the kernel (release store of the CQ head)
    /// before `body` runs, so that `body` may submit — even with a full
    /// submission queue, which makes it enter the kernel — while the kernel
    /// has room to post. Returns how many completions it saw.
    @discardableResult
    func reap(_ body: (_ userData: UInt64, _ result: Int32, _ flags: UInt32) -> Void) -> Int {
        var head = cqHead.pointee.load(ordering: .relaxed)
        var tail = cqTail.pointee.load(ordering: .acquiring)
        var count = 0
        while head != tail {
            let cqe = cqes[Int(head & cqMask)]
            head &+= 1
            cqHead.pointee.store(head, ordering: .releasing)
            body(cqe.user_data, cqe.res, cqe.flags)
            count += 1
            if head == tail { tail = cqTail.pointee.load(ordering: .acquiring) }
        }
        return count
    }

    /// Completions the kernel could not post because the CQ was full (with
    /// `IORING_FEAT_NODROP` it keeps them and posts them later).
    var overflowCount: UInt32 { cqOverflow.pointee.load(ordering: .relaxed) }

    /// The SQ ring's flags (`IORING_SQ_CQ_OVERFLOW`, `IORING_SQ_TASKRUN` ...).
    var submissionFlags: UInt32 { sqFlags.pointee.load(ordering: .relaxed) }

    // MARK: Registration

    /// `io_uring_register(fd, opcode, arg, count)`.
    @discardableResult
    func register(_ opcode: CInt, _ arg: UnsafeMutableRawPointer?, count: UInt32) throws(SockErrno) -> CInt {
        switch Syscall.ioUringRegister(fd, UInt32(opcode), arg, count) {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }
}
