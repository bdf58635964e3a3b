// Poller mode: one edge-triggered epoll loop per thread. Connection state
// lives in a slab indexed by the poller token; one read buffer per thread;
// a connection whose echo cannot be written keeps the rest in a pooled
// buffer and is not read again until it is writable (bounded buffering).
// Per request: one recv and one send; the epoll_wait is shared.
#if canImport(Glibc)
import Glibc
#endif
import Sock
import Synchronization

/// Bytes read per recv, and the size of a stalled connection's buffer.
let echoBufferSize = 64 * 1024

/// One thread's epoll loop.
final class PollerServer: Sendable {
    let poller: Poller
    let listeners: [Descriptor]
    let stopping: Atomic<Bool> = Atomic(false)

    init(listeners: [Descriptor], capacity: Int) throws(SockError) {
        self.listeners = listeners
        poller = try Poller(capacity: capacity, timerCapacity: 16)
    }

    /// Asks the loop to close everything and return (any thread).
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        poller.wake()
    }

    /// Runs the loop until ``stop()``.
    func run() {
        var loop = PollerLoop(server: self)
        loop.run()
        loop.closeAll()
        poller.close()
    }
}

/// The state of one connection in the slab.
private struct Connection {
    var descriptor: Descriptor?
    var registration: PollerRegistration?
    /// Bytes read but not yet echoed (the connection is not read meanwhile).
    var pending: UnsafeMutableRawPointer?
    var pendingStart = 0
    var pendingEnd = 0
    var nextFree = -1
}

/// The loop's single-threaded state.
private struct PollerLoop: ~Copyable {
    let server: PollerServer
    var poller: Poller { server.poller }
    var slots: [Connection] = []
    var firstFree = -1
    var open = 0
    var bufferPool: [UnsafeMutableRawPointer] = []
    let scratch: UnsafeMutableRawBufferPointer
    var acceptPaused = false
    var retryTimer: PollerTimer?
    var listenerRegistrations: [PollerRegistration] = []

    /// Listener tokens count down from the top of the token space.
    static func listenerToken(_ index: Int) -> UInt64 { UInt64.max - UInt64(index) }
    static let retryToken: UInt64 = UInt64.max / 2

    init(server: PollerServer) {
        self.server = server
        scratch = .allocate(byteCount: echoBufferSize, alignment: 64)
        slots.reserveCapacity(1024)
        bufferPool.reserveCapacity(64)
    }

    deinit {
        scratch.deallocate()
        for buffer in bufferPool { buffer.deallocate() }
    }

    mutating func run() {
        for (index, listener) in server.listeners.enumerated() {
            do throws(SockError) {
                listenerRegistrations.append(
                    try poller.register(listener, interest: .readable, token: Self.listenerToken(index)))
            } catch {
                log("cannot watch listener: \(error)")
                return
            }
        }
        var events = PollerEvents(capacity: 512)
        while !server.stopping.load(ordering: .acquiring) {
            let count: Int
            do throws(SockError) {
                count = try poller.wait(into: &events, deadline: .never)
            } catch {
                log("epoll_wait: \(error)")
                return
            }
            for index in 0..<count {
                let event = events[index]
                switch event.kind {
                case .io:
                    if event.token >= Self.listenerToken(server.listeners.count - 1) {
                        acceptAll(Int(UInt64.max - event.token))
                    } else {
                        serve(Int(event.token), event.readiness, mayStopShort: true)
                    }
                case .timer:
                    retryTimer = nil
                    resumeAccepting()
                case .wakeUp:
                    break
                }
            }
        }
    }

    // MARK: Accepting

    mutating func resumeAccepting() {
        guard acceptPaused else { return }
        acceptPaused = false
        if let timer = retryTimer {
            poller.cancel(timer)
            retryTimer = nil
        }
        for index in server.listeners.indices { acceptAll(index) }
    }

    mutating func acceptAll(_ index: Int) {
        guard !acceptPaused else { return }
        let listener = server.listeners[index]
        while true {
            let accepted: IOResult<Descriptor>
            do throws(SockError) {
                accepted = try listener.accept()
            } catch {
                if isOutOfDescriptors(error) {
                    logOutOfDescriptorsOnce(error)
                    // Stop accepting (no spinning on the listener's edge);
                    // resume when a connection closes, or in 100 ms.
                    acceptPaused = true
                    retryTimer = poller.schedule(at: .after(.milliseconds(100)), token: Self.retryToken)
                } else if error != .closed {
                    log("accept: \(error)")
                }
                return
            }
            guard case .completed(let descriptor) = accepted else { return }
            add(descriptor)
        }
    }

    mutating func add(_ descriptor: Descriptor) {
        let slot: Int
        if firstFree >= 0 {
            slot = firstFree
            firstFree = slots[slot].nextFree
        } else {
            slot = slots.count
            slots.append(Connection())
        }
        do throws(SockError) {
            let registration = try poller.register(descriptor, interest: [.readable, .writable], token: UInt64(slot))
            slots[slot] = Connection(descriptor: descriptor, registration: registration)
            open += 1
        } catch {
            try? descriptor.close()
            slots[slot] = Connection(nextFree: firstFree)
            firstFree = slot
        }
    }

    // MARK: Echoing

    mutating func serve(_ slot: Int, _ readiness: PollerReadiness, mayStopShort: Bool) {
        guard slot < slots.count, let descriptor = slots[slot].descriptor else { return }
        if slots[slot].pending != nil {
            guard readiness.allowsWriting else { return }  // stalled: read again once the echo drains
            guard flush(slot, descriptor) else { return }
            readLoop(slot, descriptor, readiness, mayStopShort: false)
            return
        }
        if readiness.allowsReading {
            readLoop(slot, descriptor, readiness, mayStopShort: mayStopShort)
        }
    }

    /// Reads and echoes until would-block, a short read that may end the
    /// burst (fact 13: only without a half-close, hang-up or error), end of
    /// stream, or a stalled write.
    mutating func readLoop(_ slot: Int, _ descriptor: Descriptor, _ readiness: PollerReadiness, mayStopShort: Bool) {
        while true {
            let count: Int
            do throws(SockError) {
                guard case .completed(let read) = try descriptor.read(into: scratch) else { return }
                count = read
            } catch {
                close(slot)
                return
            }
            if count == 0 {
                close(slot)  // end of stream, everything echoed
                return
            }
            var sent = 0
            do throws(SockError) {
                while sent < count {
                    guard case .completed(let wrote) = try descriptor.write(
                        UnsafeRawBufferPointer(rebasing: scratch[sent..<count])) else { break }
                    sent += wrote
                }
            } catch {
                close(slot)
                return
            }
            if sent < count {
                stash(slot, from: sent, to: count)
                return
            }
            if count < scratch.count && mayStopShort && !readiness.hasHangUpOrError {
                return
            }
        }
    }

    /// Keeps scratch[start..<end] for the next writable event.
    mutating func stash(_ slot: Int, from start: Int, to end: Int) {
        let buffer = bufferPool.popLast() ?? UnsafeMutableRawPointer.allocate(byteCount: echoBufferSize, alignment: 64)
        buffer.copyMemory(from: scratch.baseAddress! + start, byteCount: end - start)
        slots[slot].pending = buffer
        slots[slot].pendingStart = 0
        slots[slot].pendingEnd = end - start
    }

    /// Writes the stashed bytes; true once all are written.
    mutating func flush(_ slot: Int, _ descriptor: Descriptor) -> Bool {
        guard let pending = slots[slot].pending else { return true }
        while slots[slot].pendingStart < slots[slot].pendingEnd {
            let start = slots[slot].pendingStart
            let end = slots[slot].pendingEnd
            do throws(SockError) {
                guard case .completed(let wrote) = try descriptor.write(
                    UnsafeRawBufferPointer(start: pending + start, count: end - start)) else { return false }
                slots[slot].pendingStart += wrote
            } catch {
                close(slot)
                return false
            }
        }
        slots[slot].pending = nil
        bufferPool.append(pending)
        return true
    }

    mutating func close(_ slot: Int) {
        guard let descriptor = slots[slot].descriptor else { return }
        if let registration = slots[slot].registration { poller.deregister(registration) }
        try? descriptor.close()
        if let pending = slots[slot].pending { bufferPool.append(pending) }
        slots[slot] = Connection(nextFree: firstFree)
        firstFree = slot
        open -= 1
        if acceptPaused { resumeAccepting() }
    }

    /// Closes the listeners and every connection (on stop).
    mutating func closeAll() {
        for registration in listenerRegistrations { poller.deregister(registration) }
        for listener in server.listeners { try? listener.close() }
        for slot in slots.indices where slots[slot].descriptor != nil {
            close(slot)
        }
    }
}
