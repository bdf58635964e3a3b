// --backend uring: one io_uring completion engine per thread (Sock's
// IOUringEngine, package access). Multishot accept and multishot receive
// into a provided buffer ring; each received buffer is sent back from the
// same memory and handed back to the kernel when the send completes; a
// descriptor is closed only when its operations have completed.
#if canImport(Glibc)
import Glibc
#endif
import Sock
import Synchronization

/// One thread's io_uring loop.
final class UringServer: Sendable {
    let listener: Descriptor
    let descriptorLimit: Int
    let stopping: Atomic<Bool> = Atomic(false)

    init(listener: Descriptor, descriptorLimit: Int) {
        self.listener = listener
        self.descriptorLimit = descriptorLimit
    }

    /// Asks the loop to return (any thread); it notices within 100 ms.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
    }

    /// Runs the loop until ``stop()``.
    func run() {
        // Buffers for up to 4,096 connections with data in flight at once
        // (4 KB each: 16 MB); a ring running dry only delays a receive, and
        // one connection holds at most 16 of them (the engine's
        // per-connection cap), so peers that do not read their echo cannot
        // take the ring from the others.
        let engine: IOUringEngine
        do throws(SockErrno) {
            engine = try IOUringEngine(entries: 256, bufferCount: IOUringEngine.bufferCount(forConnections: 4096),
                                       bufferSize: 4096)
        } catch {
            log("cannot set up io_uring: \(error)")
            exit(1)
        }
        engine.onAcceptError = { errno in
            let error = SockError(errno: errno)
            if isOutOfDescriptors(error) { logOutOfDescriptorsOnce(error) }
        }
        engine.listen(on: listener.rawValue)
        while !stopping.load(ordering: .relaxed) {
            do throws(SockErrno) {
                try engine.runOnce(timeoutNanoseconds: 100_000_000)
            } catch {
                log("io_uring_enter failed: \(error)")
                break
            }
        }
    }
}
