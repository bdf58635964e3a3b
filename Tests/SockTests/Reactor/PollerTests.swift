// The Poller: tokens, edge- and level-triggered readiness, deregistration,
// closing while registered and while waiting, stale events for reused
// descriptor numbers, the cross-thread wake-up, timers, and a steady state
// without allocation.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Synchronization
import Testing

/// One byte into `descriptor`, waiting for room.
private func poke(_ descriptor: Descriptor) throws {
    var byte: UInt8 = 1
    _ = try withUnsafeBytes(of: &byte) { bytes throws(SockError) in try descriptor.write(bytes, deadline: soon()) }
}

/// Reads whatever is queued (up to 64 bytes).
private func drain(_ descriptor: Descriptor) throws {
    var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    _ = try withUnsafeMutableBytes(of: &bytes) { raw throws(SockError) in try descriptor.read(into: raw) }
}

/// The events of one wait.
private func waitEvents(_ poller: Poller, _ events: inout PollerEvents, deadline: Deadline) throws -> [PollerEvent] {
    let count = try poller.wait(into: &events, deadline: deadline)
    return (0..<count).map { events[$0] }
}

@Suite("Poller")
struct PollerTests {
    @Test("readable and writable events carry the caller's token; modify and deregister")
    func tokensAndInterest() throws {
        let poller = try Poller()
        defer { poller.close() }
        let (a, b) = try streamPair()
        defer { try? a.close(); try? b.close() }
        var events = PollerEvents(capacity: 8)

        let registration = try poller.register(a, interest: .readable, token: 42)
        #expect(try waitEvents(poller, &events, deadline: .none).isEmpty)
        try poke(b)
        let ready = try waitEvents(poller, &events, deadline: soon())
        #expect(ready.count == 1)
        #expect(ready.first?.kind == .io)
        #expect(ready.first?.token == 42)
        #expect(ready.first?.readiness.contains(.readable) == true)
        // Edge-triggered: no new event until new data arrives.
        #expect(try waitEvents(poller, &events, deadline: .none).isEmpty)

        try poller.modify(registration, interest: [.readable, .writable], trigger: .level)
        let level1 = try waitEvents(poller, &events, deadline: soon())
        let level2 = try waitEvents(poller, &events, deadline: soon())
        #expect(level1.first?.readiness.contains([.readable, .writable]) == true)
        #expect(level2.first?.token == 42, "level-triggered repeats while ready")

        poller.deregister(registration)
        poller.deregister(registration)  // idempotent
        #expect(try waitEvents(poller, &events, deadline: .none).isEmpty)
        #expect(poller.registeredCount == 0)
        #expect(throws: SockError.closed) { try poller.modify(registration, interest: .readable) }
    }

    @Test("a wake-up from another thread ends a wait without limit; repeated wake-ups coalesce")
    func wakeUp() throws {
        let poller = try Poller()
        defer { poller.close() }
        let waker = TestThread {
            usleep(50_000)
            poller.wake()
        }
        var events = PollerEvents(capacity: 4)
        let woken = try waitEvents(poller, &events, deadline: .after(.seconds(30)))
        waker.join()
        #expect(woken.map(\.kind).contains(.wakeUp))
        // Several wake-ups before a wait: one event, then nothing.
        poller.wake()
        poller.wake()
        poller.wake()
        #expect(try waitEvents(poller, &events, deadline: soon()).filter { $0.kind == .wakeUp }.count == 1)
        #expect(try waitEvents(poller, &events, deadline: .after(.milliseconds(20))).isEmpty)
    }

    @Test("timers fire in deadline order and never early; cancelled ones never")
    func timers() throws {
        let poller = try Poller(timerCapacity: 4)
        defer { poller.close() }
        let start = Deadline.monotonicNow()
        let offsets: [Int64] = [90, 10, 50, 30, 70, 20, 60]  // milliseconds
        var deadlines: [UInt64: Int64] = [:]
        for (index, offset) in offsets.enumerated() {
            let deadline = Deadline(nanoseconds: start + offset * 1_000_000)
            deadlines[UInt64(index)] = deadline.nanoseconds
            let timer = poller.schedule(at: deadline, token: UInt64(index))
            if offset == 50 { #expect(poller.cancel(timer)) }
        }
        var events = PollerEvents(capacity: 2)  // fewer than the timers: the rest come next time
        var fired: [(token: UInt64, at: Int64)] = []
        let giveUp = Deadline.after(.seconds(30))
        while fired.count < offsets.count - 1 && !giveUp.hasPassed {
            for event in try waitEvents(poller, &events, deadline: giveUp) where event.kind == .timer {
                fired.append((event.token, Deadline.monotonicNow()))
            }
        }
        #expect(fired.map(\.token) == [1, 5, 3, 6, 4, 0])
        for (token, at) in fired {
            #expect(at >= deadlines[token]!, "timer \(token) fired early")
        }
        #expect(try waitEvents(poller, &events, deadline: .after(.milliseconds(30))).isEmpty)
    }

    @Test("closing a registered descriptor deregisters it before the number is released")
    func closeWhileRegistered() throws {
        let poller = try Poller()
        defer { poller.close() }
        let (a, b) = try streamPair()
        defer { try? b.close() }
        _ = try poller.register(a, interest: .readable, token: 7)
        try a.close()
        // Pinned: close(2) has not happened yet; the number is still ours.
        #expect(Glibc.fcntl(a.rawValue, SockBindings.F_GETFD) != -1)
        var events = PollerEvents(capacity: 4)
        let last = try waitEvents(poller, &events, deadline: soon())
        #expect(last.count == 1)
        #expect(last.first?.token == 7)
        #expect(last.first?.readiness.hasHangUpOrError == true)
        #expect(poller.registeredCount == 0)
        // Nothing more for it, ever.
        #expect(try waitEvents(poller, &events, deadline: .after(.milliseconds(20))).isEmpty)
    }

    @Test("closing a registered descriptor while another thread waits wakes that thread safely")
    func closeWhileWaiting() throws {
        let poller = try Poller()
        defer { poller.close() }
        let (a, b) = try streamPair()
        defer { try? b.close() }
        _ = try poller.register(a, interest: .readable, token: 9)
        let seen = Slot<[PollerEvent]>()
        let waiter = TestThread {
            var events = PollerEvents(capacity: 4)
            seen.set((try? waitEvents(poller, &events, deadline: .after(.seconds(30)))) ?? [])
        }
        usleep(50_000)
        try a.close()
        waiter.join()
        #expect(seen.value?.first?.token == 9)
        #expect(poller.registeredCount == 0)
    }

    @Test("closing the poller while a thread waits ends that wait; later waits throw closed")
    func closePollerWhileWaiting() throws {
        let poller = try Poller()
        let done = Flag()
        let waiter = TestThread {
            var events = PollerEvents(capacity: 4)
            _ = try? poller.wait(into: &events, deadline: .after(.seconds(30)))
            done.raise()
        }
        usleep(50_000)
        poller.close()
        waiter.join()
        #expect(done.isRaised)
        var events = PollerEvents(capacity: 4)
        #expect(throws: SockError.closed) { try poller.wait(into: &events, deadline: .none) }
    }

    @Test("an event queued for a closed descriptor never reaches the new owner of its number")
    func reusedNumberGetsNoStaleEvent() throws {
        let poller = try Poller()
        defer { poller.close() }
        var events = PollerEvents(capacity: 8)
        for _ in 0..<20 {
            let (a, peerA) = try streamPair()
            _ = try poller.register(a, interest: .readable, token: 1)
            try poke(peerA)  // an event for `a` is now queued in epoll
            try a.close()    // ... and `a` goes away before anyone waits
            try peerA.close()
            let (b, peerB) = try streamPair()  // often gets a's number
            defer { try? b.close(); try? peerB.close() }
            let registration = try poller.register(b, interest: .readable, token: 2)
            let seen = try waitEvents(poller, &events, deadline: .after(.milliseconds(20)))
            // `a`'s own final event may be delivered under token 1 (the
            // poller removes it then); token 2 must see nothing: b is idle.
            #expect(!seen.contains { $0.token == 2 }, "stale event delivered to the new owner")
            poller.deregister(registration)
            _ = try waitEvents(poller, &events, deadline: .none)
        }
    }

    @Test("the poller's steady state allocates nothing (register once; wake, timers, I/O per round)")
    func steadyStateAllocations() throws {
        let poller = try Poller()
        defer { poller.close() }
        let (a, b) = try streamPair()
        defer { try? a.close(); try? b.close() }
        _ = try poller.register(a, interest: .readable, token: 3)
        var events = PollerEvents(capacity: 16)
        let perRound = try allocations {
            try poke(b)
            let timer = poller.schedule(at: .after(.seconds(60)), token: 99)
            poller.wake()
            var sawIO = false
            while !sawIO {
                let count = try poller.wait(into: &events, deadline: soon())
                for index in 0..<count where events[index].kind == .io { sawIO = true }
            }
            poller.cancel(timer)
            _ = poller.schedule(at: Deadline(nanoseconds: 1), token: 5)  // due at once
            _ = try poller.wait(into: &events, deadline: .none)
            try drain(a)
        }
        #expect(perRound == 0, "\(perRound) allocations per 100 rounds")
    }
}

extension RuntimeCoreTests {
    @Suite("Poller with a faked epoll_wait")
    struct PollerFakes {
        @Test("a stale generation in an event (removed after the kernel queued it) is dropped")
        func staleGenerationDropped() throws {
            let poller = try Poller()
            defer { poller.close() }
            let (a, peerA) = try streamPair()
            defer { try? peerA.close() }
            let old = try poller.register(a, interest: .readable, token: 1)
            poller.deregister(old)
            let (b, peerB) = try streamPair()
            defer { try? b.close(); try? peerB.close(); try? a.close() }
            let new = try poller.register(b, interest: .readable, token: 2)
            #expect(new.slot == old.slot && new.generation != old.generation)
            // The kernel "returns" one event carrying the old registration's
            // data, and one carrying the new one's.
            let staleData = old.epollData
            let liveData = new.epollData
            try withSyscalls({ table in
                table.epollWait = { epfd, events, capacity, timeout in
                    EpollDeclarations.store(events: EpollDeclarations.readable, data: staleData, at: events)
                    EpollDeclarations.store(events: EpollDeclarations.readable, data: liveData,
                                            at: events + EpollDeclarations.eventStride)
                    return 2
                }
            }) {
                var events = PollerEvents(capacity: 4)
                let seen = try waitEvents(poller, &events, deadline: .none)
                #expect(seen.map(\.token) == [2])
            }
        }

        @Test("EINTR from epoll_wait ends the wait with no events")
        func interrupted() throws {
            let poller = try Poller()
            defer { poller.close() }
            try withSyscalls({ table in
                table.epollWait = { _, _, _, _ in
                    errno = SockBindings.EINTR
                    return -1
                }
            }) {
                var events = PollerEvents(capacity: 4)
                let count = try poller.wait(into: &events, deadline: .after(.seconds(30)))
                #expect(count == 0)
            }
        }
    }
}
