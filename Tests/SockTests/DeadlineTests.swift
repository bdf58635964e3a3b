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
            let deadline = Deadline.after(.milliseconds(50))
            let left = deadline.remainingNanoseconds()
            #expect(left > 40_000_000 && left <= 50_000_000)
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
            #expect(now() - start < 1_000_000)
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

        // MARK: Deadline accuracy

        @Test("a 20 ms read deadline fires after >= 20 ms and < 22 ms")
        func readDeadlineAccuracy() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let samples = measureUntilWithin(22_000_000) {
                let start = now()
                let deadline = Deadline.after(.milliseconds(20))
                #expect(throws: SockError.timedOut) { _ = try readByte(a, deadline: deadline) }
                return now() - start
            }
            #expect(samples.allSatisfy { $0 >= 20_000_000 }, "elapsed \(samples) ns")
            #expect(samples.last! < 22_000_000, "elapsed \(samples) ns")
        }

        @Test("a 20 ms write deadline on a full socket fires after >= 20 ms and < 22 ms")
        func writeDeadlineAccuracy() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let chunk = [UInt8](repeating: 1, count: 65_536)
            while try !chunk.withUnsafeBytes({ raw throws(SockError) in try a.write(raw) }).isWouldBlock {}
            let samples = measureUntilWithin(22_000_000) {
                let start = now()
                let deadline = Deadline.after(.milliseconds(20))
                #expect(throws: SockError.timedOut) {
                    _ = try chunk.withUnsafeBytes { raw throws(SockError) in try a.write(raw, deadline: deadline) }
                }
                return now() - start
            }
            #expect(samples.allSatisfy { $0 >= 20_000_000 }, "elapsed \(samples) ns")
            #expect(samples.last! < 22_000_000, "elapsed \(samples) ns")
        }

        @Test("a deadline set long before the call still fires within 2 ms (no whole-millisecond rounding)")
        func earlyDeadline() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let samples = measureUntilWithin(2_000_000) {
                // 0.6 ms pass between setting the deadline and the read, so
                // 19.4 ms are left: rounding up to 20 ms would overshoot.
                let deadline = Deadline.after(.milliseconds(20))
                sleep(nanoseconds: 600_000)
                #expect(throws: SockError.timedOut) { _ = try readByte(a, deadline: deadline) }
                return now() - deadline.nanoseconds
            }
            #expect(samples.allSatisfy { $0 >= 0 }, "overshoot \(samples) ns")
            #expect(samples.last! < 2_000_000, "overshoot \(samples) ns")
        }

        @Test("EINTR while waiting recomputes the time left: the deadline still holds")
        func pollInterrupted() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let target = a.rawValue
            let interruptions = Counter()
            let samples = withSyscalls({ table in
                table.ppoll = { fds, count, timeout in
                    if fds.pointee.fd == target && interruptions.increment() % 6 != 0 {
                        // A signal arrives after 2 ms of waiting.
                        sleep(nanoseconds: 2_000_000)
                        errno = SockBindings.EINTR
                        return -1
                    }
                    return SyscallTable.system.ppoll(fds, count, timeout)
                }
            }) {
                measureUntilWithin(22_000_000) {
                    let start = now()
                    #expect(throws: SockError.timedOut) {
                        _ = try readByte(a, deadline: .after(.milliseconds(20)))
                    }
                    return now() - start
                }
            }
            #expect(interruptions.value >= 6)
            #expect(samples.allSatisfy { $0 >= 20_000_000 }, "elapsed \(samples) ns")
            #expect(samples.last! < 22_000_000, "elapsed \(samples) ns")
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

        @Test("data arriving 50 µs after a blocked read starts is returned within 500 µs")
        func wakeLatency() throws {
            let samples = try measureUntilWithin(500_000) { () throws -> Int64 in
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
                return returned - sent
            }
            #expect(samples.last! < 500_000, "latency \(samples) ns")
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
