// Command-line options of sock-echo, parsed by hand (no dependency).

/// How connections are served.
enum Mode: String {
    /// One edge-triggered epoll loop per thread; connection state in a slab.
    case poller
    /// A reactor per thread; a task per connection on the reactor's executor.
    case async
}

/// Which kernel interface serves the connections.
enum BackendOption: String {
    /// epoll readiness (the modes above).
    case epoll
    /// io_uring completions: multishot accept and receive into a provided
    /// buffer ring, send from the received buffer (poller mode only).
    case uring
    /// io_uring where usable, otherwise epoll (the reason is logged).
    case auto
}

/// What the command line asked for.
struct Options {
    var listen: String?
    var unixPath: String?
    var threads = 1
    var mode = Mode.poller
    var backend = BackendOption.epoll

    static let usage = """
        usage: sock-echo (--listen HOST:PORT | --unix PATH) [--threads N] [--mode poller|async]
                 [--backend epoll|uring|auto]

        An echo server: every byte a client sends comes back.

          --listen HOST:PORT   TCP address to listen on (port 0: the kernel picks one;
                               the bound port is logged)
          --unix PATH          Unix stream socket path to listen on (@name: abstract)
          --threads N          serving threads, one epoll loop or reactor each
                               (TCP: a listener per thread with SO_REUSEPORT) [1]
          --mode poller|async  poller: edge-triggered epoll loop, connection state in a slab;
                               async: a task per connection on the reactor's executor [poller]
          --backend epoll|uring|auto
                               epoll: readiness; uring: io_uring completions (poller mode:
                               multishot accept and receive into a provided buffer ring; async
                               mode: the reactor's io_uring backend, a receive and a send per
                               task), failing with the cause where io_uring is unusable;
                               auto: io_uring when usable, otherwise epoll with the reason
                               logged [epoll]
          --help               this text

        Logs to stderr. SIGINT/SIGTERM close the listeners and connections and exit 0.
        """

    /// Parses `arguments` (without the program name); nil after printing
    /// help; throws a message for bad input.
    static func parse(_ arguments: [String]) throws(UsageError) -> Options? {
        var options = Options()
        var index = 0
        func value(_ name: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(name) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--help", "-h":
                return nil
            case "--listen":
                options.listen = try value(argument)
            case "--unix":
                options.unixPath = try value(argument)
            case "--threads":
                let text = try value(argument)
                guard let threads = Int(text), threads >= 1, threads <= 1024 else {
                    throw UsageError("--threads: not a thread count: \(text)")
                }
                options.threads = threads
            case "--mode":
                let text = try value(argument)
                guard let mode = Mode(rawValue: text) else { throw UsageError("--mode: poller or async, not \(text)") }
                options.mode = mode
            case "--backend":
                let text = try value(argument)
                guard let backend = BackendOption(rawValue: text) else {
                    throw UsageError("--backend: epoll, uring or auto, not \(text)")
                }
                options.backend = backend
            default:
                throw UsageError("unknown argument: \(argument)")
            }
            index += 1
        }
        if (options.listen == nil) == (options.unixPath == nil) {
            throw UsageError("give exactly one of --listen HOST:PORT and --unix PATH")
        }
        return options
    }
}

/// A command-line mistake, reported with the usage text.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
