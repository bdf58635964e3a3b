// A provided buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19): the kernel
// picks a buffer for each receive, so a connection keeps no buffer of its
// own while it waits (fact 18). Unsafe like IOUring.swift: the ring of
// `io_uring_buf` entries is shared with the kernel, and its tail (which
// overlays the first entry's `resv` field, byte 14 of the ring) is stored
// with release ordering after the entries are written.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings
import Synchronization

/// A group of equal buffers the kernel selects from (`IOSQE_BUFFER_SELECT`).
internal final class IOUringBufferRing {
    /// The buffer group id (`sqe.buf_group`).
    let group: UInt16
    /// Buffers in the ring (a power of two).
    let entries: UInt32
    /// Bytes per buffer.
    let bufferSize: Int
    private let ringMemory: UnsafeMutableRawPointer
    private let ringBytes: Int
    private let storage: UnsafeMutableRawPointer
    private let tailWord: UnsafeMutablePointer<Atomic<UInt16>>
    private var localTail: UInt16
    private var publishedTail: UInt16
    private let ring: IOUring
    private var registered = true

    /// Resident memory of the buffers and the ring itself.
    var residentBytes: Int { ringBytes + Int(entries) * bufferSize }

    /// Allocates `entries` buffers of `bufferSize` bytes (page-aligned), registers
    /// them as group `group` of `ring`, and provides them all.
    ///
    /// - Throws: EINVAL for a kernel without buffer rings (before 5.19), or
    ///   the allocation's ENOMEM.
    init(ring: IOUring, entries: UInt32, bufferSize: Int, group: UInt16) throws(SockErrno) {
        precondition(entries > 0 && entries & (entries - 1) == 0 && entries <= 32768, "entries: a power of two up to 32768")
        self.ring = ring
        self.group = group
        self.entries = entries
        self.bufferSize = bufferSize
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        ringBytes = (Int(entries) * MemoryLayout<IOUringBuf>.size + page - 1) / page * page
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, page, ringBytes) == 0, let memory else { throw SockErrno(rawValue: SockBindings.ENOMEM) }
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: ringBytes)
        ringMemory = memory
        storage = UnsafeMutableRawPointer.allocate(byteCount: Int(entries) * bufferSize, alignment: page)
        tailWord = (memory + 14).assumingMemoryBound(to: Atomic<UInt16>.self)
        localTail = 0
        publishedTail = 0
        var registration = IOUringBufReg()
        registration.ring_addr = UInt64(UInt(bitPattern: memory))
        registration.ring_entries = entries
        registration.bgid = group
        do throws(SockErrno) {
            try withUnsafeMutableBytes(of: &registration) { (bytes) throws(SockErrno) in
                try ring.register(SockBindings.IORING_REGISTER_PBUF_RING, bytes.baseAddress, count: 1)
            }
        } catch {
            registered = false
            free(memory)
            storage.deallocate()
            throw error
        }
        for id in 0..<UInt16(truncatingIfNeeded: entries) { provide(id) }
        publish()
    }

    deinit {
        if registered && !ring.isClosed {
            var registration = IOUringBufReg()
            registration.bgid = group
            _ = try? withUnsafeMutableBytes(of: &registration) { (bytes) throws(SockErrno) in
                try ring.register(SockBindings.IORING_UNREGISTER_PBUF_RING, bytes.baseAddress, count: 1)
            }
        }
        free(ringMemory)
        storage.deallocate()
    }

    /// The bytes of buffer `id`.
    func buffer(_ id: UInt16) -> UnsafeMutableRawPointer { storage + Int(id) * bufferSize }

    /// Hands buffer `id` back to the kernel (visible after ``publish()``).
    func provide(_ id: UInt16) {
        let slot = (ringMemory + Int(localTail & UInt16(truncatingIfNeeded: entries - 1)) * MemoryLayout<IOUringBuf>.size)
        // Write addr, len and bid; never resv (it is the tail for slot 0).
        slot.storeBytes(of: UInt64(UInt(bitPattern: buffer(id))), toByteOffset: 0, as: UInt64.self)
        slot.storeBytes(of: UInt32(bufferSize), toByteOffset: 8, as: UInt32.self)
        slot.storeBytes(of: id, toByteOffset: 12, as: UInt16.self)
        localTail &+= 1
    }

    /// Publishes the buffers provided since the last call (release store of
    /// the ring's tail).
    func publish() {
        if localTail != publishedTail {
            publishedTail = localTail
            tailWord.pointee.store(localTail, ordering: .releasing)
        }
    }
}
