// The ping-pong with SwiftNIO, written the way a NIO user would: one event
// loop per side (a MultiThreadedEventLoopGroup of two threads), an echo
// handler on the server, a client handler that sends the next message when the
// previous one has come back. NIO always waits in epoll_wait; it has no spin
// mode.
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Echoes everything back (TCP and Unix).
private final class StreamEcho: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// Echoes every datagram back to its sender (UDP).
private final class DatagramEcho: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: envelope.data)), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// The client side: sends a message, counts the bytes that come back, and sends
/// the next one once a whole message has returned. All state lives on the
/// client channel's event loop. `Message` is `ByteBuffer` (TCP, Unix) or
/// `AddressedEnvelope<ByteBuffer>` (UDP).
private final class PingClient<Message>: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Message
    typealias OutboundOut = Message

    let size: Int
    var message: Message
    let byteCount: (Message) -> Int
    var context: ChannelHandlerContext?
    var remaining = 0
    var received = 0
    var start: Int64 = 0
    var promise: EventLoopPromise<Int64>?

    init(size: Int, message: Message, byteCount: @escaping (Message) -> Int) {
        self.size = size
        self.message = message
        self.byteCount = byteCount
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func begin(rounds: Int, promise: EventLoopPromise<Int64>) {
        remaining = rounds
        received = 0
        self.promise = promise
        start = nowNanoseconds()
        send()
    }

    func send() {
        context?.writeAndFlush(wrapOutboundOut(message), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += byteCount(unwrapInboundIn(data))
        guard received >= size else { return }
        received -= size
        remaining -= 1
        if remaining == 0 {
            promise?.succeed(nowNanoseconds() - start)
            promise = nil
        } else {
            send()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise?.fail(error)
        promise = nil
        context.close(promise: nil)
    }
}

/// A NIO ping-pong: two event loops, a server channel with an echo handler, a
/// client channel; rounds are started from the caller, who waits for them.
public final class NIOPingPong: @unchecked Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let server: Channel
    private let client: Channel
    private let begin: @Sendable (Int, EventLoopPromise<Int64>) -> Void
    private let unixPath: String?

    public init(proto: Proto, size: Int, pin: Bool) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let serverLoop = group.next(), clientLoop = group.next()
        if pin {
            // Client on CPU 0 (as the caller in the other implementations), server on CPU 1.
            _ = try clientLoop.submit { pinCurrentThread(to: 0) }.wait()
            _ = try serverLoop.submit { pinCurrentThread(to: 1) }.wait()
        }
        let payload = ByteBuffer(repeating: UInt8(ascii: "p"), count: size)
        switch proto {
        case .tcp, .unix:
            let handler = PingClient(size: size, message: payload, byteCount: { $0.readableBytes })
            begin = { rounds, promise in handler.begin(rounds: rounds, promise: promise) }
            let bootstrap = ServerBootstrap(group: serverLoop, childGroup: serverLoop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: proto == .tcp ? 1 : 0)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(StreamEcho()) }
                }
            let clientBootstrap = ClientBootstrap(group: clientLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
            if proto == .tcp {
                unixPath = nil
                server = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
                client = try clientBootstrap.channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .connect(to: server.localAddress!).wait()
            } else {
                let path = "/tmp/sock-bench-nio-\(getpid()).sock"
                unixPath = path
                server = try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).wait()
                client = try clientBootstrap.connect(unixDomainSocketPath: path).wait()
            }
        case .udp:
            unixPath = nil
            let handler = PingClient<AddressedEnvelope<ByteBuffer>>(
                size: size, message: AddressedEnvelope(remoteAddress: try NIOCore.SocketAddress(ipAddress: "127.0.0.1", port: 1), data: payload),
                byteCount: { $0.data.readableBytes })
            begin = { rounds, promise in handler.begin(rounds: rounds, promise: promise) }
            server = try DatagramBootstrap(group: serverLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DatagramEcho()) }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
            client = try DatagramBootstrap(group: clientLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
            let address = server.localAddress!
            try clientLoop.submit { handler.message.remoteAddress = address }.wait()
        }
    }

    /// Runs `rounds` round trips on the event loops; returns the elapsed
    /// nanoseconds measured on the client's loop.
    public func run(rounds: Int) throws -> Int64 {
        let loop = client.eventLoop
        let promise = loop.makePromise(of: Int64.self)
        let begin = self.begin
        loop.execute { begin(rounds, promise) }
        return try promise.futureResult.wait()
    }

    public func stop() {
        try? client.close().wait()
        try? server.close().wait()
        try? group.syncShutdownGracefully()
        if let unixPath { unlink(unixPath) }
    }
}
