// The completion engine (IOUring/IOUringEngine.swift) serving echo
// connections over loopback: half-close, a dry buffer ring (ENOBUFS),
// multishot re-arming, cancellation, 2,000 connections through 8 submission
// entries, allocations in steady state; the per-connection buffer cap (a
// peer that does not read cannot take the ring), reset peers closed, the
// starved FIFO, and completions that do not fit (also fuzzed:
// Fuzz/Sources/fuzz-uring-cqe, whose seeds are replayed here).
#if canImport(Glibc)
import Glibc
#endif
@_spi(Fuzzing) @testable import Sock
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

/// An engine that submits nothing (its completions are fed by hand): for the
/// state machine's own rules, with made-up descriptor numbers.
private func dryEngine(bufferCount: UInt32 = 64, cap: Int = 4) throws -> IOUringEngine {
    try IOUringEngine(entries: 8, bufferCount: bufferCount, bufferSize: 1024, perConnectionBuffers: cap,
                      descriptorCapacity: 64, submits: false)
}

/// CQE flags of a receive completion in buffer `id`.
private func received(_ id: Int, more: Bool, nonEmpty: Bool = false) -> UInt32 {
    SockBindings.IORING_CQE_F_BUFFER | (more ? SockBindings.IORING_CQE_F_MORE : 0)
        | (nonEmpty ? SockBindings.IORING_CQE_F_SOCK_NONEMPTY : 0)
        | UInt32(id) << UInt32(SockBindings.IORING_CQE_BUFFER_SHIFT)
}

/// Closes `fd` with a reset (SO_LINGER 0).
private func resetClose(_ fd: CInt) {
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    _ = Glibc.setsockopt(fd, SockBindings.SOL_SOCKET, SockBindings.SO_LINGER, &linger,
                         socklen_t(MemoryLayout<Glibc.linger>.size))
    Glibc.close(fd)
}

private func setNonBlocking(_ fd: CInt) {
    _ = Glibc.fcntl(fd, Glibc.F_SETFL, Glibc.fcntl(fd, Glibc.F_GETFL) | Glibc.O_NONBLOCK)
}

/// The seed inputs of the fuzz target fuzz-uring-cqe (Fuzz/Corpus/fuzz-uring-cqe).
private func uringSeeds() -> [(name: String, bytes: [UInt8])] {
    var path = "\(#filePath)"
    for _ in 0..<4 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
    let directory = path + "/Fuzz/Corpus/fuzz-uring-cqe"
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var seeds: [(String, [UInt8])] = []
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard !name.hasPrefix(".") else { continue }
        let fd = Glibc.open(directory + "/" + name, Glibc.O_RDONLY)
        guard fd >= 0 else { continue }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while case let count = Glibc.read(fd, &chunk, chunk.count), count > 0 { bytes += chunk[..<count] }
        Glibc.close(fd)
        seeds.append((name, bytes))
    }
    return seeds.sorted { $0.0 < $1.0 }
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
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"),
              arguments: [true, false])
        func bufferRingRunsDry(multishotLimit: Bool) throws {
            // multishotLimit false: the single-shot receives of kernels
            // before 6.17 (no byte limit on a multishot receive).
            // 4 buffers of 256 bytes for 8 connections sending 64 KB each
            // (the cap is set above the ring: one connection can run it dry).
            let engine = try IOUringEngine(entries: 16, bufferCount: 4, bufferSize: 256, perConnectionBuffers: 8)
            engine.limitsMultishot = multishotLimit
            let (listener, port) = loopbackListener()
            defer { Glibc.close(listener) }
            engine.listen(on: listener)
            // All 8 accepted and their receives armed, then data on all 8
            // before the engine runs again: 8 receives compete for 4 buffers
            // (so the ring runs dry on any kernel, multishot or single-shot).
            let sockets = (0..<8).map { _ in connectClient(port) }
            let start = ContinuousClock.now
            while engine.statistics.accepted < 8 && ContinuousClock.now - start < .seconds(30) {
                try engine.runOnce(timeoutNanoseconds: 5_000_000)
            }
            try engine.runOnce(timeoutNanoseconds: 0)
            let payloads = (0..<8).map { pattern(65_536, seed: $0) }
            for (index, fd) in sockets.enumerated() { sendAll(fd, Array(payloads[index][..<1_024])) }
            let done = Flag()
            let failures = Counter()
            let clients = TestThread {
                // The rest (the echo piles up), then read.
                for (index, fd) in sockets.enumerated() { sendAll(fd, Array(payloads[index][1_024...])) }
                for (index, fd) in sockets.enumerated() {
                    let (bytes, _) = readAll(fd, limit: 65_536)
                    if bytes != payloads[index] { failures.increment() }
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

        @Test("A peer that never reads its echo holds at most the per-connection cap and stops receiving; another connection is still served; close cancels its stuck send",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"),
              arguments: [true, false])
        func capHoldsAPeerThatDoesNotRead(multishotLimit: Bool) throws {
            // multishotLimit false: the path of kernels before 6.17 (no byte
            // limit on a multishot receive): single-shot receives.
            let cap = 4
            let engine = try IOUringEngine(entries: 16, bufferCount: 64, bufferSize: 1024, perConnectionBuffers: cap)
            engine.limitsMultishot = multishotLimit
            var closed: [CInt] = []
            engine.onClose = { closed.append($0) }
            let (a, b) = rawPair()   // b writes without end and never reads
            defer { Glibc.close(b) }
            setNonBlocking(b)
            let chunk = [UInt8](repeating: 0x5a, count: 65_536)
            while Glibc.send(b, chunk, chunk.count, SockBindings.MSG_NOSIGNAL) > 0 {}
            let stop = Flag()
            let writer = TestThread {
                while !stop.isRaised {
                    if Glibc.send(b, chunk, chunk.count, SockBindings.MSG_NOSIGNAL) <= 0 { usleep(500) }
                }
            }
            engine.serve(a)
            // Long enough for a's echo to fill what b does not read.
            let settle = ContinuousClock.now
            while ContinuousClock.now - settle < .milliseconds(500) { try engine.runOnce(timeoutNanoseconds: 1_000_000) }
            let heldByA = engine.buffersHeld(by: a)
            #expect(heldByA >= 1 && heldByA <= cap, "held \(heldByA) of 64 buffers (cap \(cap)): \(engine.statistics)")
            #expect(engine.statistics.peakHeld <= cap, "\(engine.statistics)")
            #expect(engine.statistics.capped >= 1)
            #expect(!engine.isReceiving(a), "its data waits in its socket")
            // A kernel before 6.17 rejects the byte limit: the engine then falls
        // back to single-shot receives for good.
        #expect(engine.statistics.multishotLimitRejected == 0 || !engine.limitsMultishot)

            // Another connection is served meanwhile.
            let (c, d) = rawPair()
            defer { Glibc.close(d) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            _ = Glibc.setsockopt(d, SockBindings.SOL_SOCKET, SockBindings.SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            engine.serve(c)
            sendAll(d, pattern(100, seed: 3))
            let done = Flag()
            let echoed = Slot<[UInt8]>()
            let reader = TestThread {
                echoed.set(readAll(d, limit: 100).bytes)
                done.raise()
            }
            try drive(engine, until: done)
            reader.join()
            #expect(echoed.value == pattern(100, seed: 3))
            #expect(engine.buffersHeld(by: a) <= cap)

            // Closing the stalled connection cancels its send, which would never complete.
            engine.close(a)
            engine.close(c)
            let closing = ContinuousClock.now
            while closed.count < 2 && ContinuousClock.now - closing < .seconds(10) { try engine.runOnce(timeoutNanoseconds: 5_000_000) }
            stop.raise()
            writer.join()
            #expect(Set(closed) == [a, c])
            #expect(engine.consistencyProblem() == nil)
            #expect(engine.statistics.rejectedCompletions == 0)
        }

        @Test("A peer that resets while its echo is stuck is closed; its echo is not sent on into the dead socket",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func resetPeerIsClosed() throws {
            let engine = try IOUringEngine(entries: 16, bufferCount: 64, bufferSize: 4096)
            let (listener, port) = loopbackListener()
            defer { Glibc.close(listener) }
            var accepted: [CInt] = []
            var closed: [CInt] = []
            engine.onAccept = { accepted.append($0) }
            engine.onClose = { closed.append($0) }
            engine.listen(on: listener)
            let client = connectClient(port)
            setNonBlocking(client)
            // Write without reading until neither side takes more: the echo is stuck.
            let chunk = [UInt8](repeating: 7, count: 65_536)
            var idle = 0
            let start = ContinuousClock.now
            while idle < 50 && ContinuousClock.now - start < .seconds(10) {
                let sent = Glibc.send(client, chunk, chunk.count, SockBindings.MSG_NOSIGNAL)
                idle = sent > 0 ? 0 : idle + 1
                try engine.runOnce(timeoutNanoseconds: 2_000_000)
            }
            try #require(accepted.count == 1)
            #expect(engine.operationsInFlight(accepted[0]) >= 1, "a send is stuck")
            resetClose(client)
            let reset = ContinuousClock.now
            while closed.isEmpty && ContinuousClock.now - reset < .seconds(10) { try engine.runOnce(timeoutNanoseconds: 5_000_000) }
            #expect(closed == accepted, "\(engine.statistics)")
            #expect(engine.statistics.aborted == 1)
            #expect(engine.consistencyProblem() == nil)
        }

        @Test("A failed send cancels the receive (the kernel may never end it) and the descriptor closes",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func failedSendCancelsReceive() throws {
            // Measured with sock-echo on Linux 6.18: after a reset failed the
            // send, a multishot receive stayed armed on the dead socket and
            // the descriptor was never closed.
            let engine = try dryEngine()
            var cancelled: [CInt] = []
            var closed: [CInt] = []
            engine.onCancelled = { cancelled.append($0) }
            engine.onClose = { closed.append($0) }
            let fd: CInt = 5
            engine.serve(fd)
            engine.complete(IOUringEngine.userData(.receive, fd: fd), 100, received(0, more: true))
            #expect(engine.operationsInFlight(fd) == 2)   // the receive and the echo's send
            engine.complete(IOUringEngine.userData(.send, fd: fd, extra: 0), -SockBindings.ECONNRESET, 0)
            #expect(engine.operationsInFlight(fd) == 2, "the receive and the cancellation of everything on the descriptor")
            #expect(engine.statistics.aborted == 1)
            // Bytes still arriving are dropped, not echoed into the dead socket.
            engine.complete(IOUringEngine.userData(.receive, fd: fd), 50, received(1, more: true))
            #expect(engine.buffersHeld(by: fd) == 0)
            #expect(engine.operationsInFlight(fd) == 2)
            engine.complete(IOUringEngine.userData(.cancel, fd: fd, extra: 2), 1, 0)
            #expect(!engine.isClosing(fd), "the receive's own completion is still due")
            engine.complete(IOUringEngine.userData(.receive, fd: fd), -SockBindings.ECANCELED, 0)
            #expect(engine.isClosing(fd))
            engine.complete(IOUringEngine.userData(.close, fd: fd), 0, 0)
            #expect(closed == [fd])
            #expect(cancelled == [fd])
            #expect(engine.consistencyProblem() == nil)
            #expect(engine.statistics.rejectedCompletions == 0)
        }

        @Test("A receive that ends with ENOBUFS after its peer is gone still lets the descriptor close",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func noBuffersAfterPeerGoneStillCloses() throws {
            let engine = try dryEngine()
            var closed: [CInt] = []
            engine.onClose = { closed.append($0) }
            let fd: CInt = 6
            engine.serve(fd)
            engine.complete(IOUringEngine.userData(.receive, fd: fd), 64, received(3, more: true))
            engine.complete(IOUringEngine.userData(.send, fd: fd, extra: 3), -SockBindings.EPIPE, 0)
            // The cancellation finds nothing yet (the receive is between
            // attempts); then the receive ends for want of a buffer.
            engine.complete(IOUringEngine.userData(.cancel, fd: fd, extra: 2), -SockBindings.ENOENT, 0)
            #expect(!engine.isClosing(fd))
            engine.complete(IOUringEngine.userData(.receive, fd: fd), -SockBindings.ENOBUFS, 0)
            #expect(engine.starvedDescriptors().isEmpty)
            #expect(engine.isClosing(fd))
            engine.complete(IOUringEngine.userData(.close, fd: fd), 0, 0)
            #expect(closed == [fd])
            #expect(engine.consistencyProblem() == nil)
        }

        @Test("At the cap the multishot receive is cancelled; it is armed again only when the sends drain to half the cap",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func capCancelsAndResumesAtHalf() throws {
            let engine = try dryEngine(cap: 4)
            let fd: CInt = 7
            engine.serve(fd)
            for id in 0..<4 {
                engine.complete(IOUringEngine.userData(.receive, fd: fd), 1024, received(id, more: true, nonEmpty: true))
            }
            #expect(engine.buffersHeld(by: fd) == 4)
            #expect(engine.statistics.capped == 1)
            #expect(engine.operationsInFlight(fd) == 3)   // receive, send, the receive's cancellation
            // A completion the multishot posted before the cancellation landed: kept (nothing is lost).
            engine.complete(IOUringEngine.userData(.receive, fd: fd), 1024, received(4, more: true, nonEmpty: true))
            #expect(engine.buffersHeld(by: fd) == 5)
            #expect(engine.operationsInFlight(fd) == 3, "no second cancellation")
            engine.complete(IOUringEngine.userData(.receive, fd: fd), -SockBindings.ECANCELED, 0)
            engine.complete(IOUringEngine.userData(.cancel, fd: fd, extra: 1), 1, 0)
            #expect(!engine.isReceiving(fd))
            for id in 0..<2 {
                engine.complete(IOUringEngine.userData(.send, fd: fd, extra: UInt16(id)), 1024, 0)
                #expect(!engine.isReceiving(fd), "holds \(engine.buffersHeld(by: fd))")
            }
            engine.complete(IOUringEngine.userData(.send, fd: fd, extra: 2), 1024, 0)
            #expect(engine.buffersHeld(by: fd) == 2)
            #expect(engine.isReceiving(fd))
            #expect(engine.consistencyProblem() == nil)
            #expect(engine.statistics.rejectedCompletions == 0)
        }

        @Test("Starved receives are armed again oldest first, one per buffer the kernel has; a closing one leaves the line",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func starvedReceivesFirstInFirstOut() throws {
            let engine = try dryEngine(bufferCount: 2, cap: 2)
            for fd: CInt in [3, 4, 5, 6] { engine.serve(fd) }
            // 6 holds both buffers (one sending, one queued).
            engine.complete(IOUringEngine.userData(.receive, fd: 6), 1024, received(0, more: true, nonEmpty: true))
            engine.complete(IOUringEngine.userData(.receive, fd: 6), 1024, received(1, more: true, nonEmpty: true))
            for fd: CInt in [5, 3, 4] { engine.complete(IOUringEngine.userData(.receive, fd: fd), -SockBindings.ENOBUFS, 0) }
            #expect(engine.starvedDescriptors() == [5, 3, 4])
            engine.endPass()
            #expect(engine.starvedDescriptors() == [5, 3, 4], "no buffer to take")
            engine.complete(IOUringEngine.userData(.send, fd: 6, extra: 0), 1024, 0)
            engine.endPass()
            #expect(engine.isReceiving(5))
            #expect(!engine.isReceiving(3) && !engine.isReceiving(4))
            #expect(engine.starvedDescriptors() == [3, 4])
            engine.close(3)
            #expect(engine.starvedDescriptors() == [4])
            #expect(engine.isClosing(3))
            #expect(engine.consistencyProblem() == nil)
        }

        @Test("A kernel that rejects the multishot byte limit (EINVAL, before 6.17): receives go on without it",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func multishotLimitRejected() throws {
            let engine = try dryEngine()
            engine.serve(9)
            engine.complete(IOUringEngine.userData(.receive, fd: 9), -SockBindings.EINVAL, 0)
            #expect(!engine.limitsMultishot)
            #expect(engine.statistics.multishotLimitRejected == 1)
            #expect(engine.isReceiving(9), "armed again, without the limit")
            #expect(engine.statistics.aborted == 0)
            #expect(engine.consistencyProblem() == nil)
        }

        @Test("Completions that do not fit are counted and ignored, never trapped on",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func bogusCompletionsRejected() throws {
            let engine = try dryEngine()
            let fd: CInt = 8
            engine.serve(fd)
            let receive = IOUringEngine.userData(.receive, fd: fd)
            let bogus: [(UInt64, Int32, UInt32)] = [
                (0, 0, 0),                                                   // kind 0
                (0x7f << 56 | UInt64(fd), 0, 0),                             // unknown kind
                (IOUringEngine.userData(.receive, fd: -1), 10, received(0, more: true)),
                (IOUringEngine.userData(.receive, fd: 64), 10, received(0, more: true)),   // past the tables
                (IOUringEngine.userData(.receive, fd: 9), 10, received(0, more: true)),    // not served
                (receive, 10, received(64, more: true)),                     // buffer id past the ring
                (receive, 10, received(65_535, more: true)),
                (receive, 1025, received(0, more: true)),                    // more bytes than a buffer
                (receive, 10, SockBindings.IORING_CQE_F_MORE),               // bytes without a buffer
                (IOUringEngine.userData(.send, fd: fd, extra: 3), 10, 0),    // no send in flight
                (IOUringEngine.userData(.send, fd: fd, extra: 0xffff), 10, 0),
                (IOUringEngine.userData(.close, fd: fd), 0, 0),              // no close in flight
                (IOUringEngine.userData(.cancel, fd: fd, extra: 1), 0, 0),   // no cancellation in flight
                (IOUringEngine.userData(.cancel, fd: fd, extra: 9), 0, 0),   // unknown target
                (IOUringEngine.userData(.accept, fd: fd), 12, 0),            // not the listener
            ]
            for (userData, result, flags) in bogus { engine.complete(userData, result, flags) }
            #expect(engine.statistics.rejectedCompletions == bogus.count)
            #expect(engine.operationsInFlight(fd) == 1)
            #expect(engine.consistencyProblem() == nil)
            // A buffer the engine already holds cannot be received again.
            engine.complete(receive, 10, received(2, more: true))
            engine.complete(receive, 10, received(2, more: true))
            #expect(engine.statistics.rejectedCompletions == bogus.count + 1)
            #expect(engine.buffersHeld(by: fd) == 1)
            // Extreme results: an error, not a trap.
            engine.complete(receive, .min, 0)
            #expect(engine.statistics.aborted == 1)
            #expect(engine.statistics.doubleReturns == 0)
            #expect(engine.consistencyProblem() == nil)
        }

        @Test("The fuzz target's seed inputs replay with the engine consistent after every completion",
              .enabled(if: engineAvailable, "io_uring (with the reactor's operations) is not usable here"))
        func fuzzSeedsReplay() throws {
            let seeds = uringSeeds()
            #expect(seeds.count >= 5, "seeds in Fuzz/Corpus/fuzz-uring-cqe")
            for (name, bytes) in seeds {
                let problem = bytes.withUnsafeBytes { IOUringEngineReplay.replay($0) }
                #expect(problem == nil, "\(name)")
            }
        }
    }
}
