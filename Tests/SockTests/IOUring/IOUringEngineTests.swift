// The completion engine (IOUring/IOUringEngine.swift) serving echo
// connections over loopback: half-close, a dry buffer ring (ENOBUFS),
// multishot re-arming, cancellation, 2,000 connections through 8 submission
// entries, and allocations in steady state.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

private let engineAvailable: Bool = {
    if case .success = ReactorBackendSelection.check() { return true }
    return false
}()

/// A loopback TCP listener (raw, so that the engine test depends only on the
/// engine) and its port.
private func loopbackListener() -> (fd: CInt, port: UInt16) {
    let fd = Glibc.socket(SockBindings.AF_INET, SockBindings.SOCK_STREAM | SockBindings.SOCK_CLOEXEC, 0)
    precondition(fd >= 0)
    var address = RawSockaddrInet4()
    address.sin_family = sa_family_t(SockBindings.AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var length = socklen_t(MemoryLayout<RawSockaddrInet4>.size)
    withUnsafePointer(to: &address) {
        _ = Glibc.bind(fd, UnsafeRawPointer($0).assumingMemoryBound(to: sockaddr.self), length)
    }
    precondition(Glibc.listen(fd, 4096) == 0)
    withUnsafeMutablePointer(to: &address) {
        _ = Glibc.getsockname(fd, UnsafeMutableRawPointer($0).assumingMemoryBound(to: sockaddr.self), &length)
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}

/// A blocking client connected to 127.0.0.1:`port`, with a 10 s receive timeout.
private func connectClient(_ port: UInt16) -> CInt {
    let fd = Glibc.socket(SockBindings.AF_INET, SockBindings.SOCK_STREAM | SockBindings.SOCK_CLOEXEC, 0)
    precondition(fd >= 0)
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    _ = Glibc.setsockopt(fd, SockBindings.SOL_SOCKET, SockBindings.SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = RawSockaddrInet4()
    address.sin_family = sa_family_t(SockBindings.AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    let result = withUnsafePointer(to: &address) {
        Glibc.connect(fd, UnsafeRawPointer($0).assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<RawSockaddrInet4>.size))
    }
    precondition(result == 0, "connect: errno \(errno)")
    return fd
}

/// Sends all of `bytes` (blocking).
private func sendAll(_ fd: CInt, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, SockBindings.MSG_NOSIGNAL) }
        precondition(sent > 0, "send: errno \(errno)")
        offset += sent
    }
}

/// Reads until end of stream (or `limit` bytes, or a timeout); returns the bytes and whether EOF was seen.
private func readAll(_ fd: CInt, limit: Int = .max) -> (bytes: [UInt8], eof: Bool) {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while result.count < limit {
        let count = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, min($0.count, limit - result.count), 0) }
        if count == 0 { return (result, true) }
        if count < 0 { return (result, false) }
        result += buffer[..<count]
    }
    return (result, false)
}

/// Runs the engine on this thread until `done` is raised (at most 60 s).
private func drive(_ engine: IOUringEngine, until done: Flag) throws {
    let start = ContinuousClock.now
    while !done.isRaised {
        try engine.runOnce(timeoutNanoseconds: 5_000_000)
        if ContinuousClock.now - start > .seconds(60) {
            Issue.record("the engine did not finish within 60 s: \(engine.statistics)")
            return
        }
    }
}

/// A connected Unix stream pair as raw descriptors (the engine closes its side itself).
private func rawPair() -> (CInt, CInt) {
    var fds: [CInt] = [-1, -1]
    precondition(Glibc.socketpair(SockBindings.AF_UNIX, SockBindings.SOCK_STREAM | SockBindings.SOCK_CLOEXEC, 0, &fds) == 0)
    return (fds[0], fds[1])
}

private func pattern(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) }
}

extension RuntimeCoreTests {
    @Suite("io_uring completion engine: echo over multishot accept and receive with a buffer ring")
    struct IOUringEngineTests {
        @Test("Peers that half-close right after sending get their whole echo, then EOF (fact 16)",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func halfCloseGetsWholeEcho() throws {
            let engine = try IOUringEngine(entries: 64, bufferCount: 64, bufferSize: 4096)
            let (listener, port) = loopbackListener()
            defer { Glibc.close(listener) }
            engine.listen(on: listener)
            let done = Flag()
            let failures = Counter()
            let clients = TestThread {
                let sockets = (0..<20).map { _ in connectClient(port) }
                for (index, fd) in sockets.enumerated() {
                    sendAll(fd, pattern(100_000 + index * 7, seed: index))
                    Glibc.shutdown(fd, SockBindings.SHUT_WR)
                }
                for (index, fd) in sockets.enumerated() {
                    let (bytes, eof) = readAll(fd)
                    if bytes != pattern(100_000 + index * 7, seed: index) || !eof { failures.increment() }
                    Glibc.close(fd)
                }
                done.raise()
            }
            try drive(engine, until: done)
            clients.join()
            #expect(failures.value == 0)
            #expect(engine.statistics.accepted == 20)
            // Every server side closed only after its last send completed.
            while engine.statistics.closed < 20 { try engine.runOnce(timeoutNanoseconds: 5_000_000) }
            #expect(engine.statistics.closed == 20)
        }

        @Test("A buffer ring running dry (ENOBUFS) recovers without losing bytes; receives are re-armed",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func bufferRingRunsDry() throws {
            // 4 buffers of 256 bytes for 8 connections sending 64 KB each.
            let engine = try IOUringEngine(entries: 16, bufferCount: 4, bufferSize: 256)
            let (listener, port) = loopbackListener()
            defer { Glibc.close(listener) }
            engine.listen(on: listener)
            let done = Flag()
            let failures = Counter()
            let clients = TestThread {
                let sockets = (0..<8).map { _ in connectClient(port) }
                // Send everything first (the echo piles up), then read.
                for (index, fd) in sockets.enumerated() { sendAll(fd, pattern(65_536, seed: index)) }
                for (index, fd) in sockets.enumerated() {
                    let (bytes, _) = readAll(fd, limit: 65_536)
                    if bytes != pattern(65_536, seed: index) { failures.increment() }
                    Glibc.close(fd)
                }
                done.raise()
            }
            try drive(engine, until: done)
            clients.join()
            #expect(failures.value == 0)
            #expect(engine.statistics.noBuffers > 0, "the ring never ran dry: \(engine.statistics)")
            #expect(engine.statistics.receiveRearms > 0)
        }

        @Test("Cancelling an in-flight receive ends it with ECANCELED; the descriptor then closes",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func cancelInFlightReceive() throws {
            let engine = try IOUringEngine(entries: 8, bufferCount: 8, bufferSize: 1024)
            let (a, b) = rawPair()
            defer { Glibc.close(b) }
            var cancelled: [CInt] = []
            engine.onCancelled = { cancelled.append($0) }
            engine.serve(a)
            try engine.runOnce(timeoutNanoseconds: 0)
            #expect(engine.operationsInFlight(a) == 1)
            engine.close(a)   // cancels the receive, then closes
            var closed: [CInt] = []
            engine.onClose = { closed.append($0) }
            for _ in 0..<100 where closed.isEmpty { try engine.runOnce(timeoutNanoseconds: 10_000_000) }
            #expect(cancelled == [a])
            #expect(closed == [a])
            #expect(engine.operationsInFlight(a) == 0)
        }

        @Test("A ring of 8 entries serves 2,000 connections (the submission queue fills and is submitted)",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func eightEntriesTwoThousandConnections() throws {
            let engine = try IOUringEngine(entries: 8, bufferCount: 2048, bufferSize: 512)
            let (listener, port) = loopbackListener()
            defer { Glibc.close(listener) }
            engine.listen(on: listener)
            let done = Flag()
            let failures = Counter()
            let clients = TestThread {
                let sockets = (0..<2000).map { _ in connectClient(port) }
                for (index, fd) in sockets.enumerated() { sendAll(fd, pattern(100, seed: index)) }
                for (index, fd) in sockets.enumerated() {
                    if readAll(fd, limit: 100).bytes != pattern(100, seed: index) { failures.increment() }
                }
                for fd in sockets { Glibc.close(fd) }
                done.raise()
            }
            try drive(engine, until: done)
            clients.join()
            #expect(failures.value == 0)
            #expect(engine.statistics.accepted == 2000)
            #expect(engine.statistics.submissionQueueFull > 0)
            while engine.statistics.closed < 2000 { try engine.runOnce(timeoutNanoseconds: 5_000_000) }
            #expect(engine.statistics.closed == 2000)
        }

        @Test("Steady-state echo allocates nothing per operation",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func steadyStateAllocations() throws {
            let engine = try IOUringEngine(entries: 16, bufferCount: 16, bufferSize: 1024)
            let (a, b) = rawPair()
            defer { Glibc.close(b) }
            engine.serve(a)
            let message = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
            defer { message.deallocate() }
            message.initializeMemory(as: UInt8.self, repeating: 7)
            let client = b
            func roundTrip() throws {
                _ = Glibc.send(client, message.baseAddress, 64, SockBindings.MSG_NOSIGNAL)
                var received = 0
                while received < 64 {
                    try engine.runOnce(timeoutNanoseconds: 0)
                    let count = Glibc.recv(client, message.baseAddress, 64, SockBindings.MSG_DONTWAIT)
                    if count > 0 { received += count }
                }
            }
            for _ in 0..<200 { try roundTrip() }
            let count = try allocations { for _ in 0..<2_000 { try roundTrip() } }
            #expect(count == 0, "\(count) allocations in 2,000 echo round trips")
            engine.close(a)
            while engine.operationsInFlight(a) > 0 { try engine.runOnce(timeoutNanoseconds: 10_000_000) }
        }

        @Test("A multishot accept that ends (no IORING_CQE_F_MORE) is armed again and keeps accepting",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func multishotAcceptRearmedWithoutMore() throws {
            // (A multishot receive ending without F_MORE is covered by the
            // dry-ring test: ENOBUFS ends it, and it is armed again.)
            let engine = try IOUringEngine(entries: 8, bufferCount: 8, bufferSize: 1024)
            let (listener, port) = loopbackListener()
            defer { Glibc.close(listener) }
            engine.listen(on: listener)
            try engine.runOnce(timeoutNanoseconds: 0)
            // The kernel ends a multishot accept with an error (here ENOMEM,
            // as when it cannot allocate): a completion without F_MORE.
            engine.complete(IOUringEngine.userData(.accept, fd: listener), -SockBindings.ENOMEM, 0)
            #expect(engine.statistics.acceptRearms == 1)
            // Both the original and the re-armed accept are live; connections
            // are still accepted and echoed.
            let client = connectClient(port)
            defer { Glibc.close(client) }
            sendAll(client, [1, 2, 3])
            let done = Flag()
            let echoed = Slot<[UInt8]>()
            let reader = TestThread {
                echoed.set(readAll(client, limit: 3).bytes)
                done.raise()
            }
            try drive(engine, until: done)
            reader.join()
            #expect(echoed.value == [1, 2, 3])
            #expect(engine.statistics.accepted == 1)
        }

        @Test("A wait with a timeout (IORING_OP_TIMEOUT) returns when it passes; buffer counts follow the connections",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func waitTimeoutAndSizing() throws {
            let engine = try IOUringEngine(entries: 8, bufferCount: 8, bufferSize: 256)
            let start = ContinuousClock.now
            let completions = try engine.runOnce(timeoutNanoseconds: 20_000_000)
            let elapsed = ContinuousClock.now - start
            #expect(completions == 1)   // the timeout itself
            #expect(elapsed >= .milliseconds(15) && elapsed < .seconds(2), "\(elapsed)")
            #expect(IOUringEngine.bufferCount(forConnections: 1) == 64)
            #expect(IOUringEngine.bufferCount(forConnections: 1000) == 1024)
            #expect(IOUringEngine.bufferCount(forConnections: 10_000) == 16384)
            #expect(IOUringEngine.bufferCount(forConnections: 1_000_000) == 32768)
            #expect(engine.buffers.residentBytes == 4096 + 8 * 256)
        }
    }
}
