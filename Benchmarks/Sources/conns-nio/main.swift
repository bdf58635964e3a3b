// conns-nio: the SwiftNIO echo servers of `make bench-conns`, on one event loop.
//
//   conns-nio --mode nio|nio-async [--host 127.0.0.1] [--port N]
//
// nio:        NIOPosix ServerBootstrap, an echo ChannelInboundHandler that
//             writes on channelRead and flushes on channelReadComplete.
// nio-async:  the same bootstrap binding NIOAsyncChannel<ByteBuffer, ByteBuffer>
//             children, a child task (discarding task group) per connection
//             that writes back every inbound buffer (remote half-closure
//             allowed, so that the echo completes before the close). The tasks run on Swift's
//             global executor (the process is pinned to one CPU by the runner).
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

func say(_ message: String) {
    let line = "conns-nio: \(message)\n"
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

var mode = "nio"
var host = "127.0.0.1"
var port = 0
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--mode": mode = need(arguments.next(), "--mode nio|nio-async")
    case "--host": host = need(arguments.next(), "--host HOST")
    case "--port": port = need(arguments.next().flatMap(Int.init), "--port N")
    default: fail("usage: conns-nio --mode nio|nio-async [--host H] [--port N]")
    }
}

// Fact 14: the soft descriptor limit up to the hard one.
var limit = rlimit()
if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

switch mode {
case "nio":
    let channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 4096)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(EchoHandler())
            }
        }
        .bind(host: host, port: port).get()
    say("nio listening on \(channel.localAddress!)")
    try await channel.closeFuture.get()

case "nio-async":
    let server = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 4096)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        // Without it NIO closes the channel at the peer's EOF, before the child
        // task has written back what it read: a half-closing peer loses its echo.
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .bind(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    say("nio-async listening on \(server.channel.localAddress!)")
    try await withThrowingDiscardingTaskGroup { tasks in
        try await server.executeThenClose { connections in
            for try await connection in connections {
                tasks.addTask {
                    try? await connection.executeThenClose { inbound, outbound in
                        for try await buffer in inbound {
                            try await outbound.write(buffer)
                        }
                    }
                }
            }
        }
    }

default:
    fail("--mode nio|nio-async")
}
