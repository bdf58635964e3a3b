// conns-flyingsocks: the FlyingSocks echo server of `make bench-conns`:
// FlyingFox 0.27.1's AsyncSocket on its epoll SocketPool (`.ePoll()`, edge
// triggered), a task per connection reading up to 4096 bytes
// (`read(atMost:)`) and writing them back (`write(_: Data)`).
//
//   conns-flyingsocks [--host 127.0.0.1] [--port N]
import FlyingSocks
import Foundation

#if canImport(Glibc)
import Glibc
#endif

func say(_ message: String) {
    let line = "conns-flyingsocks: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

func fail(_ message: String) -> Never {
    say(message)
    exit(2)
}

func need<T>(_ value: T?, _ usage: String) -> T {
    guard let value else { fail(usage) }
    return value
}

var host = "127.0.0.1"
var port = 0
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--host": host = need(arguments.next(), "--host HOST")
    case "--port": port = need(arguments.next().flatMap(Int.init), "--port N")
    default: fail("usage: conns-flyingsocks [--host H] [--port N]")
    }
}

var limit = rlimit()
if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

let pool: SocketPool<ePoll> = .ePoll(maxEvents: 1024)
try await pool.prepare()

let socket = try Socket(domain: AF_INET, type: .stream)
try socket.setValue(true, for: .localAddressReuse)
try socket.bind(to: .inet(ip4: host, port: UInt16(port)))
try socket.listen(maxPendingConnection: 4096)
let listener = try AsyncSocket(socket: socket, pool: pool)
say("listening on \(try socket.sockname())")

try await withThrowingTaskGroup(of: Void.self) { tasks in
    tasks.addTask { try await pool.run() }
    tasks.addTask {
        try await withThrowingDiscardingTaskGroup { connections in
            for try await connection in listener.sockets {
                var one: Int32 = 1
                _ = setsockopt(connection.socket.file.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                connections.addTask {
                    defer { try? connection.close() }
                    do {
                        while true {
                            let bytes = try await connection.read(atMost: 4096)
                            if bytes.isEmpty { return }
                            try await connection.write(Data(bytes))
                        }
                    } catch {
                        return
                    }
                }
            }
        }
    }
    try await tasks.next()
    tasks.cancelAll()
}
