#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

extension RuntimeCoreTests {
    @Suite("Deadline and adaptive I/O")
    struct DeadlineTests {
        // MARK: Deadline values

        @Test("none is the zero value; after() never yields none; overflow gives never")
        func values() {
            #expect(Deadline.none.isNone)
            #expect(Deadline(nanoseconds: 0) == .none)
            #expect(!Deadline.after(.zero).isNone)
            #expect(Deadline.after(.zero).hasPassed)
            #expect(!Deadline.after(nanoseconds: -5).isNone)
            #expect(Deadline.after(.seconds(Int64.max)).isNever)
            #expect(!Deadline.never.hasPassed)
            #expect(!Deadline.none.hasPassed)
            let deadline = Deadline.after(.seconds(10))
            let left = deadline.remainingNanoseconds()
            #expect(left > 10_000_000_000 - lateBound && left <= 10_000_000_000)
            #expect(Deadline.none.description == "none")
            #expect(Deadline.never.description == "never")
            #expect(deadline.description.hasPrefix("deadline in "))
        }

        @Test("the clock is monotonic")
        func monotonic() {
            var previous = Deadline.monotonicNow()
            for _ in 0..<1_000 {
                let next = Deadline.monotonicNow()
                #expect(next >= previous)
                previous = next
            }
        }

        // MARK: Would-block

        @Test("without a deadline an empty socket reports would-block at once, 0 bytes")
        func wouldBlockRead() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            var buffer = [UInt8](repeating: 0, count: 16)
            let start = now()
            let result = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try a.read(into: raw) }
            #expect(now() - start < lateBound)  // does not wait (a bound on speed is the benchmarks' business)
            #expect(result == .wouldBlock)
            #expect(result.count == 0)
        }

        @Test("without a deadline a full socket reports would-block on write, 0 bytes")
        func wouldBlockWrite() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let chunk = [UInt8](repeating: 1, count: 65_536)
            var last: IOResult<Int> = .completed(0)
            for _ in 0..<10_000 {
                last = try chunk.withUnsafeBytes { raw throws(SockError) in try a.write(raw) }
                if last.isWouldBlock { break }
            }
            #expect(last == .wouldBlock)
            #expect(last.count == 0)
        }

        @Test("an empty buffer completes with 0 bytes (not would-block, not a syscall)")
        func emptyBuffer() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let result = try a.read(into: UnsafeMutableRawBufferPointer(start: nil, count: 0))
            #expect(result == .completed(0))
        }

        @Test("a read on a stream whose peer closed completes with 0 bytes")
        func endOfStream() throws {
            let (a, b) = try streamPair()
            try b.close()
            let result = try readByte(a).0
            #expect(result == .completed(0))
        }

        @Test("accept without a pending connection reports would-block")
        func wouldBlockAccept() throws {
            let (listener, _) = try boundTCP(listening: true)
            #expect(try listener.accept().isWouldBlock)
        }

        // MARK: Deadlines hold
        //
        // Each test checks the outcome: .timedOut, not before the deadline,
        // and not absurdly late (`lateBound`). How late Sock is belongs to
        // the benchmarks, not to tests that must pass under emulation.

        @Test("a 20 ms read deadline: .timedOut, not before the deadline, not absurdly late")
        func readDeadlineHolds() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let start = now()
            let deadline = Deadline.after(.milliseconds(20))
            #expect(throws: SockError.timedOut) { _ = try readByte(a, deadline: deadline) }
            expectDeadlineHeld(start: start, deadline: deadline.nanoseconds, end: now())
        }

        @Test("a 20 ms write deadline on a full socket: .timedOut, not before the deadline, not absurdly late")
        func writeDeadlineHolds() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let chunk = [UInt8](repeating: 1, count: 65_536)
            while try !chunk.withUnsafeBytes({ raw throws(SockError) in try a.write(raw) }).isWouldBlock {}
            let start = now()
            let deadline = Deadline.after(.milliseconds(20))
            #expect(throws: SockError.timedOut) {
                _ = try chunk.withUnsafeBytes { raw throws(SockError) in try a.write(raw, deadline: deadline) }
            }
            expectDeadlineHeld(start: start, deadline: deadline.nanoseconds, end: now())
        }

        @Test("a deadline set long before the call holds: the wait is for the time left, not the whole duration")
        func earlyDeadline() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let target = a.rawValue
            // 0.6 ms pass between setting the deadline and the read, so less
            // than 200 ms are left; the wait must ask for no more than that
            // (deterministic: the timeout handed to ppoll is recorded; 200 ms
            // so that even an emulated CPU reaches ppoll before the deadline).
            let deadline = Deadline.after(.milliseconds(200))
            sleep(nanoseconds: 600_000)
            let requested = Slot<Int64>()
            withSyscalls({ table in
                table.ppoll = { fds, count, timeout in
                    if fds.pointee.fd == target, let timeout, requested.value == nil {
                        requested.set(Int64(timeout.pointee.tv_sec) * 1_000_000_000 + Int64(timeout.pointee.tv_nsec))
                    }
                    return SyscallTable.system.ppoll(fds, count, timeout)
                }
            }) {
                let called = now()
                #expect(throws: SockError.timedOut) { _ = try readByte(a, deadline: deadline) }
                // Computed after the call began: at most the time left then
                // (rounding it up to whole milliseconds would exceed it).
                let timeout = requested.value ?? 0
                #expect(requested.value != nil)
                #expect(timeout <= deadline.nanoseconds - called, "asked ppoll for \(timeout) ns, \(deadline.nanoseconds - called) ns were left")
            }
            expectDeadlineHeld(start: deadline.nanoseconds - 200_000_000, deadline: deadline.nanoseconds, end: now())
        }

        @Test("EINTR while waiting recomputes the time left: the deadline still holds")
        func pollInterrupted() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let target = a.rawValue
            let interruptions = Counter()
            // When each interrupted wait ended, and the timeouts asked for.
            let lastReturn = Slot<Int64>()
            let overAsked = Slot<Int64>()
            let deadline = Deadline.after(.milliseconds(200))
            let start = now()
            withSyscalls({ table in
                table.ppoll = { fds, count, timeout in
                    guard fds.pointee.fd == target else { return SyscallTable.system.ppoll(fds, count, timeout) }
                    if let timeout, let previous = lastReturn.value {
                        // Computed after the previous wait returned, so it
                        // cannot exceed the time left then (1 ms for rounding).
                        let asked = Int64(timeout.pointee.tv_sec) * 1_000_000_000 + Int64(timeout.pointee.tv_nsec)
                        let left = deadline.nanoseconds - previous
                        if asked > left + 1_000_000 { overAsked.set(asked - left) }
                    }
                    if interruptions.increment() % 6 != 0 {
                        // A signal arrives after 2 ms of waiting.
                        sleep(nanoseconds: 2_000_000)
                        lastReturn.set(now())
                        errno = SockBindings.EINTR
                        return -1
                    }
                    let result = SyscallTable.system.ppoll(fds, count, timeout)
                    lastReturn.set(now())
                    return result
                }
            }) {
                #expect(throws: SockError.timedOut) { _ = try readByte(a, deadline: deadline) }
            }
            let end = now()
            #expect(interruptions.value >= 6)
            #expect(overAsked.value == nil, "a wait after EINTR asked for \(overAsked.value ?? 0) ns more than was left")
            expectDeadlineHeld(start: start, deadline: deadline.nanoseconds, end: end)
        }

        @Test("a deadline that has already passed still makes one attempt")
        func passedDeadline() throws {
            let (a, b) = try streamPair()
            let passed = Deadline.after(.zero)
            #expect(throws: SockError.timedOut) {
                _ = try readByte(a, deadline: passed).0
            }
            try writeByte(b, 9)
            let result = try readByte(a, deadline: passed).0
            #expect(result == .completed(1))
        }

        @Test("data arriving 50 µs after a blocked read starts wakes it, long before its deadline")
        func wakeOnData() throws {
            do {
                let (a, b) = try streamPair()
                let readerStarted = Flag()
                let sentAt = Slot<Int64>()
                let writer = TestThread {
                    while !readerStarted.isRaised {}
                    sleep(nanoseconds: 50_000)
                    sentAt.set(now())
                    _ = try? writeByte(b, 5)
                }
                readerStarted.raise()
                let start = now()
                let (result, byte) = try readByte(a, deadline: .after(.seconds(1)))
                let returned = now()
                writer.join()
                #expect(result == .completed(1))
                #expect(byte == 5)
                let sent = try #require(sentAt.value)
                #expect(sent - start >= 50_000)
                // Woken by the data, not by the deadline (the latency figure
                // is the benchmarks' business).
                #expect(returned - sent < lateBound, "returned \(returned - sent) ns after the data was sent")
            }
        }

        @Test("Deadline.never waits until data arrives")
        func never() throws {
            let (a, b) = try streamPair()
            let writer = TestThread {
                sleep(nanoseconds: 5_000_000)
                _ = try? writeByte(b, 3)
            }
            let result = try readByte(a, deadline: .never).0
            writer.join()
            #expect(result == .completed(1))
        }

        // MARK: Accept and connect

        @Test("accept with a deadline waits for a connection")
        func acceptWithDeadline() throws {
            let (listener, port) = try boundTCP(listening: true)
            let dialer = TestThread {
                sleep(nanoseconds: 5_000_000)
                guard let client = try? Descriptor.socket(family: SockBindings.AF_INET, type: streamType) else { return }
                var address = loopback(port: port)
                _ = try? client.connect(to: &address, length: socklen_t(MemoryLayout<sockaddr_in>.size),
                                        deadline: .after(.seconds(2)))
                sleep(nanoseconds: 50_000_000)
            }
            let accepted = try listener.accept(deadline: .after(.seconds(2)))
            dialer.join()
            let descriptor = try #require(accepted.value)
            #expect(try descriptor.isNonBlocking)
            #expect(try descriptor.isCloseOnExec)
        }

        @Test("accept returns the peer address")
        func acceptAddress() throws {
            let (listener, port) = try boundTCP(listening: true)
            let client = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
            var address = loopback(port: port)
            _ = try client.connect(to: &address, length: socklen_t(MemoryLayout<sockaddr_in>.size),
                                   deadline: .after(.seconds(2)))
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let accepted = try listener.accept(address: &peer, length: &length, deadline: .after(.seconds(2)))
            #expect(accepted.value != nil)
            #expect(length == socklen_t(MemoryLayout<sockaddr_in>.size))
            #expect(Int32(peer.sin_family) == SockBindings.AF_INET)
        }

        @Test("connect with a deadline: completed to a listener, refused without one")
        func connectWithDeadline() throws {
            let (listener, port) = try boundTCP(listening: true)
            defer { withExtendedLifetime(listener) {} }
            let client = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
            var address = loopback(port: port)
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let result = try client.connect(to: &address, length: length, deadline: .after(.seconds(2)))
            #expect(!result.isWouldBlock)

            let (bound, closedPort) = try boundTCP(listening: false)  // bound, not listening
            defer { withExtendedLifetime(bound) {} }
            let refused = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
            var target = loopback(port: closedPort)
            #expect(throws: SockError.connectionRefused) {
                _ = try refused.connect(to: &target, length: length, deadline: .after(.seconds(2)))
            }
        }

        @Test("connect without a deadline is in progress (would-block), then completes")
        func connectNonBlocking() throws {
            let (listener, port) = try boundTCP(listening: true)
            defer { withExtendedLifetime(listener) {} }
            let client = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
            var address = loopback(port: port)
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let first = try client.connect(to: &address, length: length)
            #expect(first.isWouldBlock)  // EINPROGRESS on loopback, measured
            var outcome: IOResult<Void> = .wouldBlock
            let giveUp = Deadline.after(.seconds(2))
            while outcome.isWouldBlock && !giveUp.hasPassed {
                outcome = try client.finishConnect()
            }
            #expect(!outcome.isWouldBlock)
            // Calling connect again also reports the outcome (EISCONN = done).
            #expect(try !client.connect(to: &address, length: length).isWouldBlock)
        }

        @Test("finishConnect on a socket that never connected is notConnected")
        func finishWithoutConnect() throws {
            let client = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
            #expect(throws: SockError.notConnected) { _ = try client.finishConnect() }
        }

        @Test("connect to a closed port without a deadline: in progress, then refused")
        func connectRefusedNonBlocking() throws {
            let (bound, port) = try boundTCP(listening: false)
            defer { withExtendedLifetime(bound) {} }
            let client = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
            var address = loopback(port: port)
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            #expect(try client.connect(to: &address, length: length).isWouldBlock)
            var pending = pollfd(fd: client.rawValue, events: CShort(SockBindings.POLLOUT), revents: 0)
            _ = Glibc.poll(&pending, 1, 2_000)
            #expect(throws: SockError.connectionRefused) { _ = try client.finishConnect() }
        }
    }
}
