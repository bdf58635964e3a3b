// Shared helpers for the runtime-core tests (descriptor, errors, syscalls,
// deadlines, back-off). Constants are written `SockBindings.X`, because Glibc
// declares the same names.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Synchronization
import Testing

/// The runtime-core tests. Serialized: they measure timing, count open
/// descriptors and install process-wide syscall fakes, so they must not run
/// alongside each other. (Suites of other files may still run in parallel.)
@Suite(.serialized, .exclusiveLoad)
struct RuntimeCoreTests {}

// MARK: Sockets

let streamType = SockBindings.SOCK_STREAM
let datagramType = SockBindings.SOCK_DGRAM

/// A connected AF_UNIX stream pair.
func streamPair() throws(SockError) -> (Descriptor, Descriptor) {
    try Descriptor.socketPair(family: SockBindings.AF_UNIX, type: streamType)
}

/// A loopback IPv4 address with `port` (host order).
func loopback(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(SockBindings.AF_INET)
    address.sin_port = port.bigEndian
    _ = inet_pton(SockBindings.AF_INET, "127.0.0.1", &address.sin_addr)
    return address
}

/// A TCP socket bound to 127.0.0.1 on an ephemeral port; listening when asked.
/// Returns the socket and its port.
func boundTCP(listening: Bool) throws -> (Descriptor, UInt16) {
    let socket = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try socket.withFileDescriptor { fd throws(SockError) in
        _ = try Syscall.bind(fd, &address, length).mapped()
        if listening {
            _ = try Syscall.listen(fd, 16).mapped()
        }
        _ = try Syscall.getsockname(fd, &address, &length).mapped()
    }
    return (socket, UInt16(bigEndian: address.sin_port))
}

/// Reads one byte; returns the result and the byte.
func readByte(_ descriptor: Descriptor, deadline: Deadline = .none) throws(SockError) -> (IOResult<Int>, UInt8) {
    var byte: UInt8 = 0
    let result = try withUnsafeMutableBytes(of: &byte) { raw throws(SockError) in
        try descriptor.read(into: raw, deadline: deadline)
    }
    return (result, byte)
}

/// Writes one byte.
@discardableResult
func writeByte(_ descriptor: Descriptor, _ value: UInt8 = 1, deadline: Deadline = .none) throws(SockError) -> IOResult<Int> {
    try withUnsafeBytes(of: value) { raw throws(SockError) in try descriptor.write(raw, deadline: deadline) }
}

// MARK: Descriptor inspection

/// The inode of `fd`, or nil when `fd` is not open.
func inode(of fd: CInt) -> UInt? {
    var status = stat()
    guard fstat(fd, &status) == 0 else { return nil }
    return UInt(status.st_ino)
}

/// Whether `fd` is an open descriptor.
func isOpen(_ fd: CInt) -> Bool {
    Glibc.fcntl(fd, SockBindings.F_GETFD) != -1
}

/// The name of a directory entry. Read as a C string through a pointer:
/// copying `d_name` (a 256-byte tuple) would read past a short record at
/// the end of readdir's buffer (AddressSanitizer reports it).
func direntName(_ entry: UnsafeMutablePointer<dirent>) -> String {
    let name = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    return String(cString: name.assumingMemoryBound(to: CChar.self))
}

/// The number of entries in /proc/self/fd (the process's open descriptors).
func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let name = direntName(entry)
        if name != "." && name != ".." { count += 1 }
    }
    return count
}

// MARK: Time and threads

/// Monotonic nanoseconds.
func now() -> Int64 { Deadline.monotonicNow() }

/// Sleeps `nanoseconds` on the calling thread.
func sleep(nanoseconds: Int64) { sleepUninterrupted(nanoseconds: nanoseconds) }

/// How late an operation with a deadline (or a wake-up a test waits for)
/// may end before the test fails: 500 ms.
///
/// Tests check the outcome of a deadline — the operation ended with
/// `.timedOut`, not before the deadline, and not absurdly late — never how
/// late Sock is: that figure belongs to the benchmarks (`make bench`). The
/// bound is generous because the suite also runs under QEMU without KVM
/// (`make test-kernels`, several times slower than the host) and on a shared
/// 2-core machine, where one wake-up can be late by a scheduler slice or more.
let lateBound: Int64 = 500_000_000

/// Expects an operation that started at `start` (monotonic ns) and had a
/// deadline at `deadline` to have ended at `end`: not before the deadline and
/// less than ``lateBound`` after it.
func expectDeadlineHeld(
    start: Int64, deadline: Int64, end: Int64,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(end >= deadline, "ended \(deadline - end) ns before its deadline (\(end - start) ns after the start)",
            sourceLocation: sourceLocation)
    #expect(end - deadline < lateBound, "ended \(end - deadline) ns after its deadline", sourceLocation: sourceLocation)
}

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// A plain POSIX thread, so that tests which block do not occupy the
/// cooperative pool.
struct TestThread {
    private let thread: pthread_t

    init(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        self.thread = thread
    }

    func join() {
        pthread_join(thread, nil)
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    /// Adds one and returns the new value.
    @discardableResult
    func increment() -> Int { storage.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue }
    var value: Int { storage.load(ordering: .sequentiallyConsistent) }
}

/// A thread-safe slot for one value.
final class Slot<Value: Sendable>: Sendable {
    private let storage = SockMutex<Value?>(nil)
    func set(_ value: Value) { storage.withLock { $0 = value } }
    var value: Value? { storage.withLock { $0 } }
}

/// A thread-safe flag.
final class Flag: Sendable {
    private let storage = Atomic<Bool>(false)
    func raise() { storage.store(true, ordering: .releasing) }
    var isRaised: Bool { storage.load(ordering: .acquiring) }
}

// MARK: Syscall fakes

/// Runs `body` with a syscall table built from the system one by `configure`.
@discardableResult
func withSyscalls<Result>(
    _ configure: (inout SyscallTable) -> Void,
    _ body: () throws -> Result
) rethrows -> Result {
    var table = SyscallTable.system
    configure(&table)
    return try SyscallTable.withInstalled(table) { () throws -> Result in try body() }
}

// MARK: Allocation counting

/// For tests that count allocations: skipped, with the reason, where the
/// counter cannot see the Swift runtime's allocations (under
/// ThreadSanitizer; see `AllocationCounting` in SockTestSupport).
extension Trait where Self == ConditionTrait {
    static var countingAllocations: Self {
        .enabled(if: AllocationCounting.isAvailable,
                 "allocation counting is unavailable here (ThreadSanitizer does not report the Swift runtime's allocations to the malloc hook)")
    }
}
