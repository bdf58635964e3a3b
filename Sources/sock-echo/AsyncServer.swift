// Async mode: a reactor per thread, an accept task and a task per connection
// on the reactor's executor. On epoll, every connection task of a reactor
// reads into that reactor's one buffer and echoes from it before it can
// suspend again; only an echo that would block is copied to a buffer of its
// own. On io_uring, a read is in flight while its task is suspended, so each
// connection reads into a buffer of its own.
#if canImport(Glibc)
import Glibc
#endif
import Sock
import Synchronization

/// One reactor's read buffer.
///
/// `@unchecked Sendable`: it is used only by tasks running on one reactor's
/// thread (its executor), each between two suspension points, so no two
/// uses overlap.
final class ReactorScratch: @unchecked Sendable {
    let raw: UnsafeMutableRawBufferPointer
    init(size: Int) { raw = .allocate(byteCount: size, alignment: 64) }
    deinit { raw.deallocate() }
}

/// One thread's reactor and its listener.
final class AsyncServer: Sendable {
    let reactor: Reactor
    private let listener: Descriptor
    private let startAccepting: @Sendable (AsyncServer) throws(SockError) -> Void
    /// Open connections, closed on stop.
    let connections = SockMutex<[CInt: Descriptor]>([:])
    let scratch = ReactorScratch(size: echoBufferSize)
    let stopping = Atomic<Bool>(false)

    init<L: Listener>(listener: L, reactor: Reactor) {
        self.reactor = reactor
        self.listener = listener.descriptor
        startAccepting = { server throws(SockError) in
            let asyncListener = try AsyncListener(listener, on: server.reactor)
            Task(executorPreference: server.reactor.executor) {
                await server.acceptLoop(asyncListener)
            }
        }
    }

    func start() throws(SockError) {
        try startAccepting(self)
    }

    private func acceptLoop<L: Listener>(_ listener: AsyncListener<L>) async {
        while !stopping.load(ordering: .acquiring) {
            let conn: AsyncConnection<L.Connection>
            do throws(SockError) {
                conn = try await listener.accept()
            } catch {
                if error == .closed || error == .cancelled { return }
                if isOutOfDescriptors(error) {
                    logOutOfDescriptorsOnce(error)
                    // Do not spin on the full table: retry in 100 ms (a
                    // closing connection frees a descriptor meanwhile). The
                    // reactor's timer needs no descriptor; Task.sleep's does.
                    try? await reactor.sleep(for: .milliseconds(100))
                } else {
                    log("accept: \(error)")
                }
                continue
            }
            let descriptor = conn.base.descriptor
            connections.withLock { $0[descriptor.rawValue] = descriptor }
            if stopping.load(ordering: .acquiring) { try? descriptor.close() }
            Task(executorPreference: reactor.executor) {
                await self.echo(conn)
                self.connections.withLock { _ = $0.removeValue(forKey: descriptor.rawValue) }
                try? conn.close()
            }
        }
    }

    /// Echoes until end of stream (then closes: everything was echoed), a
    /// reset, or a close on stop.
    private func echo<C: Socket>(_ conn: AsyncConnection<C>) async {
        if reactor.backend == .ioUring {
            await echoOnRing(conn)
            return
        }
        let buffer = scratch.raw
        let descriptor = conn.base.descriptor
        while true {
            let count: Int
            do throws(SockError) {
                count = try await conn.read(into: buffer)
            } catch {
                return
            }
            if count == 0 { return }
            // Echo from the shared buffer before anything can suspend.
            var sent = 0
            do throws(SockError) {
                while sent < count {
                    guard case .completed(let wrote) = try descriptor.write(
                        UnsafeRawBufferPointer(rebasing: buffer[sent..<count])) else { break }
                    sent += wrote
                }
            } catch {
                return
            }
            if sent < count {
                // The peer is not reading: keep the rest in a buffer of our
                // own and stop reading until it is written (bounded).
                let rest = UnsafeMutableRawBufferPointer.allocate(byteCount: count - sent, alignment: 16)
                defer { rest.deallocate() }
                rest.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[sent..<count]))
                do throws(SockError) {
                    try await conn.write(all: UnsafeRawBufferPointer(rest))
                } catch {
                    return
                }
            }
        }
    }

    /// The echo loop on an io_uring reactor: the kernel fills the buffer
    /// while the task is suspended, so each connection has its own (one
    /// allocation per connection, none per request); the echo is an
    /// asynchronous send from it.
    private func echoOnRing<C: Socket>(_ conn: AsyncConnection<C>) async {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: echoBufferSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            do throws(SockError) {
                let count = try await conn.read(into: buffer)
                if count == 0 { return }
                try await conn.write(all: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            } catch {
                return
            }
        }
    }

    /// Closes the listener and every connection, lets the tasks end, and
    /// stops the reactor (any thread).
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        try? listener.close()
        let open = connections.withLock { Array($0.values) }
        for descriptor in open { try? descriptor.close() }
        // The tasks see their descriptors closed and end; give them a moment.
        let deadline = Deadline.after(.seconds(2))
        while connections.withLock({ !$0.isEmpty }) && !deadline.hasPassed {
            usleep(1_000)
        }
        reactor.shutdown()
    }
}
