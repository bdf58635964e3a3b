// sock-echo: an echo server on Sock's reactor, in two modes (poller, async),
// on epoll or io_uring (--backend).
// See Options.swift for the command line.
#if canImport(Glibc)
import Glibc
#endif
import Sock

blockTerminationSignals()  // before any thread starts: only sigwait gets them

let options: Options
do {
    guard let parsed = try Options.parse(Array(CommandLine.arguments.dropFirst())) else {
        print(Options.usage)
        exit(0)
    }
    options = parsed
} catch {
    log(error.message)
    log(Options.usage)
    exit(2)
}

let descriptorLimit = raiseDescriptorLimit()

/// Opens the listeners: per thread for TCP (SO_REUSEPORT), one shared for Unix.
func openListeners() throws(SockError) -> (perThread: [any Listener], shown: String) {
    if let listen = options.listen {
        let requested = try AnySocketAddress(listen)
        let first = try TCPListener.listen(on: requested, reusePort: true)
        var listeners: [any Listener] = [first]
        for _ in 1..<options.threads {
            listeners.append(try TCPListener.listen(on: first.address, reusePort: true))
        }
        return (listeners, "\(first.address)")
    }
    let path = options.unixPath!
    let address = try SockaddrUnix(path: path)
    let listener = try UnixListener.listen(on: address)
    return (Array(repeating: listener, count: options.threads), path)
}

let listeners: [any Listener]
do {
    let opened = try openListeners()
    listeners = opened.perThread
    let threads = options.threads == 1 ? "1 thread" : "\(options.threads) threads"
    log("listening on \(opened.shown) (mode \(options.mode.rawValue), \(threads), descriptor limit \(descriptorLimit))")
} catch {
    log("cannot listen: \(error)")
    exit(1)
}

/// Whether io_uring serves the connections (--backend), decided before any thread starts.
let useUring: Bool = {
    switch options.backend {
    case .epoll:
        return false
    case .uring:
        if case .failure(let reason) = ReactorBackendSelection.check() {
            log("--backend uring: \(reason)")
            exit(1)
        }
        log("backend io_uring")
        return true
    case .auto:
        if case .failure(let reason) = ReactorBackendSelection.check() {
            log("backend epoll (auto: \(reason))")
            return false
        }
        log("backend io_uring (auto)")
        return true
    }
}()

var stops: [@Sendable () -> Void] = []
var threads: [pthread_t] = []
do {
    switch options.mode {
    case .poller where useUring:
        for listener in listeners {
            let server = UringServer(listener: listener.descriptor, descriptorLimit: Int(descriptorLimit))
            stops.append { server.stop() }
            threads.append(startThread { server.run() })
        }
    case .poller:
        for listener in listeners {
            let server = try PollerServer(listeners: [listener.descriptor], capacity: 4096)
            stops.append { server.stop() }
            threads.append(startThread { server.run() })
        }
    case .async:
        for listener in listeners {
            let reactor = try Reactor(backend: useUring ? .ioUring : .epoll)
            let server = AsyncServer(listener: listener, reactor: reactor)
            try server.start()
            stops.append { server.stop() }
        }
    }
} catch {
    log("cannot start: \(error)")
    exit(1)
}

let signal = waitForTerminationSignal()
log("\(signal == SIGINT ? "SIGINT" : "SIGTERM"): closing listeners and connections")
for stop in stops { stop() }
for thread in threads { pthread_join(thread, nil) }
if let path = options.unixPath, !path.hasPrefix("@") { unlink(path) }
log("stopped")
exit(0)
