#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Sock
import SockNIO
import Testing

/// Echoes every byte back.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// Collects bytes until `expected` arrived, then fulfils `promise`.
final class CollectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let expected: Int
    private let promise: EventLoopPromise<[UInt8]>
    private var received: [UInt8] = []

    init(expected: Int, promise: EventLoopPromise<[UInt8]>) {
        self.expected = expected
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        if received.count >= expected {
            promise.succeed(received)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }
}

@Suite("SockNIO: Sock-configured sockets as NIO channels, exchanging data with Sock peers")
struct SockNIOTests {
    @Test("server: a Sock socket with SO_REUSEPORT, TCP_FASTOPEN, TCP_DEFER_ACCEPT serves as NIO's server channel")
    func serverChannel() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let socket = try TCPSocket.ipv4()
        try socket.setOption(.reusePort, to: true)
        try socket.setOption(.fastOpen, to: 16)
        try socket.setOption(.deferAccept, to: .seconds(2))
        try socket.bind(to: SockaddrInet4(address: .loopback, port: 0))
        let local = try socket.localAddress
        let number = socket.descriptor.rawValue

        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .withBoundSocket(socket)
            .get()
        // Handed over: Sock no longer owns it, NIO does.
        #expect(socket.descriptor.isClosed)
        #expect(throws: SockError.closed) { try socket.setOption(.noDelay, to: true) }
        #expect(fcntl(number, F_GETFD) != -1)
        // The options set through Sock are in force on NIO's channel.
        let reusePort = try await channel.getOption(ChannelOptions.Types.SocketOption(level: .socket, name: .init(rawValue: CInt(SO_REUSEPORT)))).get()
        #expect(reusePort != 0)
        let deferAccept = try await channel.getOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: CInt(TCP_DEFER_ACCEPT)))).get()
        #expect(deferAccept > 0)
        let fastOpen = try await channel.getOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: CInt(TCP_FASTOPEN)))).get()
        #expect(fastOpen == 16)
        // NIO reports the address Sock bound, converted both ways.
        let nioLocal = try #require(channel.localAddress)
        #expect(try AnySocketAddress(nioLocal) == local)
        #expect(try NIOCore.SocketAddress(local) == nioLocal)

        // A Sock client: both directions through NIO's echo.
        let client = try TCPDialer(timeout: .seconds(2)).dial(to: local)
        try client.write(all: Array("ping from sock".utf8))
        client.setReadDeadline(.after(.seconds(5)))
        #expect(try client.read(exactly: 14) == Array("ping from sock".utf8))
        try client.write(all: Array(repeating: 0xAB, count: 100_000))
        #expect(try client.read(exactly: 100_000) == Array(repeating: 0xAB, count: 100_000))
        try client.close()

        try await channel.close()
        try await group.shutdownGracefully()
    }

    @Test("server: a Sock TCPListener (already listening) serves as NIO's server channel")
    func listenerChannel() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try TCPListener.listen(on: SockaddrInet6(address: .loopback, port: 0))
        let address = listener.address
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .withBoundSocket(listener)
            .get()
        #expect(listener.descriptor.isClosed)
        let client = try TCPDialer(timeout: .seconds(2)).dial(to: address)
        try client.write(all: Array("v6".utf8))
        client.setReadDeadline(.after(.seconds(5)))
        #expect(try client.read(exactly: 2) == Array("v6".utf8))
        try client.close()
        try await channel.close()
        try await group.shutdownGracefully()
    }

    @Test("client: a connection dialled by Sock becomes a NIO channel talking to a Sock server")
    func clientChannel() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? listener.close() }
        let conn = try TCPDialer(timeout: .seconds(2)).dial(to: listener.address)
        try conn.setOption(.noDelay, to: true)
        try conn.setOption(.keepAlive, to: true)  // NIO does not set it by default
        let connLocal = try conn.localAddress
        listener.setDeadline(.after(.seconds(2)))
        guard case .completed(let server) = try listener.accept() else {
            Issue.record("no connection")
            return
        }

        let received = group.next().makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CollectHandler(expected: 9, promise: received))
                }
            }
            .withConnectedSocket(conn)
            .get()
        #expect(conn.descriptor.isClosed)
        #expect(throws: SockError.closed) { try conn.write(all: [1]) }
        #expect(try AnySocketAddress(try #require(channel.localAddress)) == connLocal)
        #expect(try AnySocketAddress(try #require(channel.remoteAddress)) == listener.address)
        let noDelay = try await channel.getOption(ChannelOptions.tcpOption(.tcp_nodelay)).get()
        #expect(noDelay != 0)
        let keepAlive = try await channel.getOption(ChannelOptions.socketOption(.so_keepalive)).get()
        #expect(keepAlive != 0)

        // Sock → NIO.
        try server.write(all: Array("from sock".utf8))
        #expect(try await received.futureResult.get() == Array("from sock".utf8))
        // NIO → Sock.
        try await channel.writeAndFlush(ByteBuffer(string: "from nio")).get()
        server.setReadDeadline(.after(.seconds(5)))
        #expect(try server.read(exactly: 8) == Array("from nio".utf8))
        // NIO owns the descriptor: closing the channel closes the connection.
        try await channel.close()
        do throws(SockError) {
            _ = try server.read(exactly: 1)
            Issue.record("expected end of stream")
        } catch {
            #expect(error.code == .endOfStream)
        }
        try server.close()
        try await group.shutdownGracefully()
    }

    @Test("client over a Unix socket pair, and a closed connection is refused with SockError.closed")
    func unixAndClosed() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (mine, peer) = try UnixConn.pair()
        let received = group.next().makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CollectHandler(expected: 4, promise: received))
                }
            }
            .withConnectedSocket(mine)
            .get()
        try peer.write(all: Array("unix".utf8))
        #expect(try await received.futureResult.get() == Array("unix".utf8))
        try await channel.writeAndFlush(ByteBuffer(string: "back")).get()
        peer.setReadDeadline(.after(.seconds(5)))
        #expect(try peer.read(exactly: 4) == Array("back".utf8))
        try await channel.close()

        let closed = try TCPSocket.ipv4()
        try closed.close()
        await #expect(throws: SockError.closed) {
            _ = try await ServerBootstrap(group: group).withBoundSocket(closed).get()
        }
        try await group.shutdownGracefully()
    }

    @Test("addresses convert both ways: IPv4, IPv6 with scope and flow info, Unix paths")
    func addresses() throws {
        let v4 = try SockaddrInet4(ip: "192.0.2.7", port: 8080)
        let nio4 = try NIOCore.SocketAddress(v4)
        #expect(nio4 == (try NIOCore.SocketAddress(ipAddress: "192.0.2.7", port: 8080)))
        #expect(nio4.port == 8080)
        #expect(try AnySocketAddress(nio4) == .inet4(v4))

        let v6 = SockaddrInet6(address: .loopback, port: 443, scopeID: 3, flowInfo: 0)
        let nio6 = try NIOCore.SocketAddress(v6)
        #expect(nio6.port == 443)
        #expect(nio6.ipAddress == "::1")
        #expect(try AnySocketAddress(nio6) == .inet6(v6))
        guard case .inet6(let back) = try AnySocketAddress(nio6) else {
            Issue.record("not IPv6")
            return
        }
        #expect(back.scopeID == 3)

        let unix = try SockaddrUnix(path: "/tmp/sock-nio-test.sock")
        let nioUnix = try NIOCore.SocketAddress(unix)
        #expect(nioUnix == (try NIOCore.SocketAddress(unixDomainSocketPath: "/tmp/sock-nio-test.sock")))
        #expect(nioUnix.pathname == "/tmp/sock-nio-test.sock")
        #expect(try AnySocketAddress(nioUnix) == .unix(unix))

        #expect(throws: SockError.invalidParameter) { _ = try NIOCore.SocketAddress(try SockaddrUnix(abstractName: "sock-test")) }
        #expect(try AnySocketAddress(try NIOCore.SocketAddress(ipAddress: "2001:db8::1", port: 1)) == .inet6(try SockaddrInet6(ip: "2001:db8::1", port: 1)))
    }
}
