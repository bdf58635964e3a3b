// Helpers for the reactor tests: an async echo server on a reactor, raising
// the descriptor limit, and patterned payloads with checksums.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Synchronization
import Testing

/// The backends every reactor test runs on: epoll, and io_uring when this
/// kernel and sandbox allow it (the io_uring suite's fallback tests say why
/// not, when not).
let reactorBackends: [ReactorBackend] = {
    if case .success = ReactorBackendSelection.check() { return [.epoll, .ioUring] }
    return [.epoll]
}()

/// Raises the soft RLIMIT_NOFILE to the hard limit; true when at least
/// `needed` descriptors are then allowed.
func raiseDescriptorLimit(toAtLeast needed: rlim_t) -> Bool {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
    if limit.rlim_cur < limit.rlim_max {
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    return limit.rlim_cur >= needed
}

/// A heap buffer owned by one task (freed with it).
final class TaskBuffer: @unchecked Sendable {
    // @unchecked: used by one task at a time (the one that created it).
    let raw: UnsafeMutableRawBufferPointer
    init(count: Int) { raw = .allocate(byteCount: count, alignment: 16) }
    deinit { raw.deallocate() }
}

/// Echoes `conn` until end of stream (then closes it) or an error.
func echo<Base: Socket>(_ conn: AsyncConnection<Base>, bufferSize: Int = 4096) async {
    let buffer = TaskBuffer(count: bufferSize)
    defer { try? conn.close() }
    while true {
        guard let count = try? await conn.read(into: buffer.raw), count > 0 else { return }
        do {
            try await conn.write(all: UnsafeRawBufferPointer(rebasing: buffer.raw[..<count]))
        } catch {
            return
        }
    }
}

/// A TCP echo server on `reactor` (a task per connection on its executor);
/// close the returned listener to stop accepting.
func startEchoServer(on reactor: Reactor, backlog: Int = 4096) throws -> AsyncTCPListener {
    let listener = try AsyncTCPListener(
        try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0), backlog: backlog), on: reactor)
    Task(executorPreference: reactor.executor) {
        while let conn = try? await listener.accept() {
            Task(executorPreference: reactor.executor) { await echo(conn) }
        }
    }
    return listener
}

/// Fills `buffer` with bytes derived from `seed` and returns their checksum.
func fillPattern(_ buffer: UnsafeMutableRawBufferPointer, seed: UInt64) -> UInt64 {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var sum: UInt64 = 0
    for index in buffer.indices {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        buffer[index] = UInt8(truncatingIfNeeded: state)
        sum = sum &* 31 &+ UInt64(buffer[index])
    }
    return sum
}

/// The checksum `fillPattern` computes, of `buffer`'s bytes.
func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt64 {
    var sum: UInt64 = 0
    for byte in buffer { sum = sum &* 31 &+ UInt64(byte) }
    return sum
}

/// Runs `body` with the reactor's executor preferred (so it, and the
/// resumptions of its socket operations, run on the reactor thread).
func onReactor<T: Sendable>(
    _ reactor: Reactor, _ body: @Sendable () async throws -> T
) async throws -> T {
    try await withTaskExecutorPreference(reactor.executor) { try await body() }
}

/// The SockError `body` throws, or nil.
func asyncSockError<T>(_ body: () async throws -> T) async -> SockError? {
    do {
        _ = try await body()
        return nil
    } catch let error as SockError {
        return error
    } catch {
        Issue.record("not a SockError: \(error)")
        return nil
    }
}

/// The milliseconds since `start` (a monotonic nanosecond reading).
func millisecondsSince(_ start: Int64) -> Int64 {
    (Deadline.monotonicNow() - start) / 1_000_000
}

// MARK: Exclusive load

/// A process-wide async lock for suites that must not overlap: the reactor
/// load tests (thousands of descriptors, both cores busy) and the suites
/// that measure timing or count open descriptors.
private actor ExclusiveLoadLock {
    static let shared = ExclusiveLoadLock()
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            held = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// Runs a suite while holding ``ExclusiveLoadLock``.
struct ExclusiveLoadTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await ExclusiveLoadLock.shared.acquire()
        do {
            try await function()
        } catch {
            await ExclusiveLoadLock.shared.release()
            throw error
        }
        await ExclusiveLoadLock.shared.release()
    }
}

extension Trait where Self == ExclusiveLoadTrait {
    /// Keeps this suite from running alongside the other `.exclusiveLoad` suites.
    static var exclusiveLoad: Self { Self() }
}
