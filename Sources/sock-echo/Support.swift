// Process-level helpers: logging, the descriptor limit, signals.
#if canImport(Glibc)
import Glibc
#endif
import Sock
import Synchronization

/// Writes "sock-echo: message" to stderr.
func log(_ message: String) {
    let line = "sock-echo: \(message)\n"
    var bytes = Array(line.utf8)
    _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}

/// Raises the soft descriptor limit to the hard limit (fact 14); returns it.
@discardableResult
func raiseDescriptorLimit() -> rlim_t {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    if limit.rlim_cur < limit.rlim_max {
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return raised.rlim_cur }
    }
    return limit.rlim_cur
}

/// Whether an accept error means "out of descriptors" (EMFILE, ENFILE).
func isOutOfDescriptors(_ error: SockError) -> Bool {
    error.errnoCode == Glibc.EMFILE || error.errnoCode == Glibc.ENFILE
}

/// Says "out of descriptors" once per process, however often it recurs.
let outOfDescriptorsLogged = Atomic<Bool>(false)

func logOutOfDescriptorsOnce(_ error: SockError) {
    if !outOfDescriptorsLogged.exchange(true, ordering: .relaxed) {
        log("out of file descriptors (\(error)); serving the open connections, accepting again when one closes")
    }
}

/// Blocks SIGINT and SIGTERM in this thread and every thread it starts
/// afterwards, so that only `waitForTerminationSignal` receives them (no
/// work in a signal handler).
func blockTerminationSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_BLOCK, &set, nil)
}

/// Waits for SIGINT or SIGTERM (blocked beforehand) and returns its number.
func waitForTerminationSignal() -> Int32 {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    var signal: Int32 = 0
    while sigwait(&set, &signal) != 0 {}
    return signal
}

/// Starts a thread running `body`.
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var id = pthread_t()
    let result = pthread_create(&id, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    precondition(result == 0, "pthread_create failed: \(result)")
    return id
}
