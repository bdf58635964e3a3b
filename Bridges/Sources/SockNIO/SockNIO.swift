// SwiftNIO ⇄ Sock: hand a socket configured with Sock's typed option keys
// to NIO as a server or client channel, and convert socket addresses.
//
// Ownership: the hand-over takes the descriptor number out of the Sock
// socket (`Descriptor.takeOwnership()`); from then on NIO owns it and closes
// it with the channel, and the Sock object counts as closed (its operations
// throw `.closed`, its close and deinit never touch the number).
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Sock

// MARK: - Server channels

extension ServerBootstrap {
    /// Hands a bound Sock TCP socket to NIO as the server channel. NIO calls
    /// `listen(2)` (with the bootstrap's `ChannelOptions.backlog`, default
    /// 128) and then accepts as usual; options set with Sock stay in force.
    ///
    /// ```swift
    /// let socket = try TCPSocket.ipv4()
    /// try socket.setOption(.reusePort, to: true)
    /// try socket.setOption(.fastOpen, to: 256)
    /// try socket.setOption(.deferAccept, to: .seconds(5))
    /// try socket.bind(to: SockaddrInet4(address: .loopback, port: 8080))
    /// let channel = try await ServerBootstrap(group: group)
    ///     .childChannelInitializer { channel in ... }
    ///     .withBoundSocket(socket)
    ///     .get()
    /// ```
    ///
    /// **Ownership:** the descriptor is handed over; NIO closes it with the
    /// channel (also when the future fails after the hand-over). `socket` counts as
    /// closed afterwards.
    ///
    /// - Returns: The server channel, or a future failed with a
    ///   `SockError` when the descriptor cannot be handed over
    ///   (`SockError.closed` for a closed socket, `EBUSY` while an
    ///   operation is in flight on it); nothing changes then.
    public func withBoundSocket(_ socket: TCPSocket) -> EventLoopFuture<Channel> {
        handingOver(socket.descriptor)
    }

    /// Hands a listening Sock TCP listener to NIO as the server channel
    /// (NIO calls `listen(2)` again with its backlog, which only changes
    /// the queue length). See `withBoundSocket(_:)` taking a `TCPSocket`
    /// for ownership: NIO closes the descriptor, `listener` counts as closed.
    public func withBoundSocket(_ listener: TCPListener) -> EventLoopFuture<Channel> {
        handingOver(listener.descriptor)
    }

    /// Hands a listening Sock Unix-domain listener to NIO as the server
    /// channel. NIO closes the descriptor (it does not remove the socket
    /// file); `listener` counts as closed.
    public func withBoundSocket(_ listener: UnixListener) -> EventLoopFuture<Channel> {
        handingOver(listener.descriptor)
    }

    private func handingOver(_ descriptor: Descriptor) -> EventLoopFuture<Channel> {
        handOver(descriptor) { withBoundSocket($0) }
    }
}

// MARK: - Client channels

extension ClientBootstrap {
    /// Hands a connected Sock TCP connection to NIO as a client channel:
    /// dial with Sock (its typed options, deadlines, `TCP_FASTOPEN_CONNECT`,
    /// a bound source address, ...), then let NIO run the protocol.
    ///
    /// ```swift
    /// let conn = try TCPDialer(timeout: .seconds(1)).dial(to: server)
    /// try conn.setOption(.noDelay, to: true)
    /// let channel = try await ClientBootstrap(group: group)
    ///     .channelInitializer { channel in ... }
    ///     .withConnectedSocket(conn)
    ///     .get()
    /// ```
    ///
    /// **Ownership:** the descriptor is handed over; NIO closes it with the
    /// channel. `conn` counts as closed afterwards.
    ///
    /// - Returns: The channel, or a future failed with a `SockError` when
    ///   the descriptor cannot be handed over (`SockError.closed`, `EBUSY`);
    ///   nothing changes then.
    public func withConnectedSocket(_ conn: TCPConn) -> EventLoopFuture<Channel> {
        handingOver(conn.descriptor)
    }

    /// Hands a connected Sock Unix-domain stream connection to NIO as a
    /// client channel. NIO closes the descriptor; `conn` counts as closed.
    public func withConnectedSocket(_ conn: UnixConn) -> EventLoopFuture<Channel> {
        handingOver(conn.descriptor)
    }

    private func handingOver(_ descriptor: Descriptor) -> EventLoopFuture<Channel> {
        handOver(descriptor) { withConnectedSocket($0) }
    }
}

/// Takes the descriptor number away from Sock and gives it to `adopt` (a
/// bootstrap's `withBoundSocket` or `withConnectedSocket`), or, when Sock
/// cannot hand it over, a failed future with the `SockError`. The
/// bootstraps do not expose their group, so the failure is reported on
/// NIO's shared singleton group.
private func handOver(
    _ descriptor: Descriptor, to adopt: (CInt) -> EventLoopFuture<Channel>
) -> EventLoopFuture<Channel> {
    let number: CInt
    do throws(SockError) {
        number = try descriptor.takeOwnership()
    } catch {
        return MultiThreadedEventLoopGroup.singleton.next().makeFailedFuture(error)
    }
    return adopt(number)
}

// MARK: - Addresses

extension NIOCore.SocketAddress {
    /// NIO's address for a Sock address: `.v4`, `.v6` (with scope ID and
    /// flow info) or `.unixDomainSocket`. The host name part is empty (NIO
    /// then shows the numeric address).
    ///
    /// ```swift
    /// let nio = NIOCore.SocketAddress(SockaddrInet4(address: .loopback, port: 80))  // [IPv4]127.0.0.1:80
    /// ```
    ///
    /// - Throws: `SockError.addressFamilyNotSupported` for a family NIO
    ///   has no case for; `SockError.invalidParameter` for an abstract or
    ///   unnamed Unix address (NIO addresses Unix sockets by path only).
    public init(_ address: some Sock.SocketAddress) throws(SockError) {
        let converted = address.withSockaddrPointer { (pointer, length) -> Result<NIOCore.SocketAddress, SockError> in
            let raw = UnsafeRawPointer(pointer)
            switch address.family {
            case AF_INET:
                return .success(NIOCore.SocketAddress(raw.loadUnaligned(as: sockaddr_in.self)))
            case AF_INET6:
                return .success(NIOCore.SocketAddress(raw.loadUnaligned(as: sockaddr_in6.self)))
            case AF_UNIX:
                // A path: sun_path is NUL-terminated within `length`.
                var storage = sockaddr_un()
                let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
                let pathLength = Int(length) - pathOffset
                guard pathLength > 0, raw.load(fromByteOffset: pathOffset, as: UInt8.self) != 0 else {
                    return .failure(.invalidParameter)
                }
                withUnsafeMutableBytes(of: &storage) { bytes in
                    bytes.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: min(Int(length), bytes.count)))
                }
                return .success(NIOCore.SocketAddress(storage))
            default:
                return .failure(.addressFamilyNotSupported)
            }
        }
        self = try converted.get()
    }
}

extension AnySocketAddress {
    /// Sock's address for a NIO address: `AnySocketAddress.inet4(_:)`,
    /// `AnySocketAddress.inet6(_:)` (with scope ID and flow info) or
    /// `AnySocketAddress.unix(_:)`.
    ///
    /// ```swift
    /// let sock = try AnySocketAddress(channel.localAddress!)
    /// ```
    ///
    /// - Throws: `SockError.addressFamilyNotSupported` for a family Sock
    ///   has no address type for.
    public init(_ address: NIOCore.SocketAddress) throws(SockError) {
        let decoded = address.withSockAddr { (pointer, length) -> Result<AnySocketAddress, SockError> in
            Result { () throws(SockError) -> AnySocketAddress in
                try AnySocketAddress(
                    decoding: UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: length),
                    length: socklen_t(length))
            }
        }
        self = try decoded.get()
    }
}
