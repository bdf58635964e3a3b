// Shared pieces of the benchmarks: what is measured (protocol, mode,
// implementation), threads with optional CPU pinning, and small helpers.
#if canImport(Glibc)
import Glibc
#endif
import CSockRef
@_exported import Sock

/// The transport of a ping-pong.
public enum Proto: String, CaseIterable, Sendable {
    case tcp, udp, unix

    /// The CSockRef constant.
    public var cValue: CInt {
        switch self {
        case .tcp: CInt(CSR_TCP)
        case .udp: CInt(CSR_UDP)
        case .unix: CInt(CSR_UNIX)
        }
    }
}

/// How a ping-pong waits.
public enum Mode: String, CaseIterable, Sendable {
    /// Non-blocking attempts retried by the caller (busy loop on would-block).
    case spin
    /// Calls with a deadline (5 s, taken once per round trip), waiting through
    /// Sock's adaptive I/O (strike, spin 10 µs, ppoll).
    case deadline
}

/// Who makes the system calls.
public enum Impl: String, CaseIterable, Sendable {
    /// Sock.
    case sock
    /// CSockRef: C making exactly Sock's system calls (in deadline mode, Sock's
    /// adaptive wait mirrored in C).
    case c
    /// C with blocking sockets and plain recv/send (deadline mode only): the
    /// cheapest possible waiting round trip, not Sock's strategy.
    case cBlock = "c-block"
    /// SwiftNIO (NIOPosix event loops, one per side). It always waits in
    /// epoll; it never spins.
    case nio
}

/// A failure of the benchmark machinery itself.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Pins the calling thread to `cpu` (sched_setaffinity).
@discardableResult
public func pinCurrentThread(to cpu: Int) -> Bool {
    csr_pin_current_thread(CInt(cpu)) == 0
}

/// The monotonic clock in nanoseconds.
@inline(__always)
public func nowNanoseconds() -> Int64 { csr_now_ns() }

/// A joinable POSIX thread running a closure (optionally pinned to a CPU).
public final class BenchThread: @unchecked Sendable {
    private var thread = pthread_t()
    private final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }

    public init(cpu: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box {
            if let cpu { pinCurrentThread(to: cpu) }
            body()
        })
        let result = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    public func join() {
        pthread_join(thread, nil)
    }
}

/// Exits with a message on standard error.
public func fail(_ message: String) -> Never {
    var text = "error: \(message)\n"
    text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    exit(1)
}
