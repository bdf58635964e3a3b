// Async reads and writes on a reactor. With epoll: strike first (the same
// non-blocking system call as the synchronous API), and only on would-block
// suspend until the poller reports readiness. With io_uring: reads and
// writes are submitted to the ring and the task resumes on their
// completion; other operations strike and wait for readiness with a poll on
// the ring. Deadlines end an operation with `.timedOut`, task cancellation
// with `.cancelled`; either way the socket stays usable.
import SockBindings

/// Runs `strike` until it completes, suspending on the reactor while it
/// would block. Shared by connections and listeners.
@inline(__always)
internal func reactorOperation<Success>(
    _ channel: ReactorChannel, _ direction: WaitDirection, deadline: Deadline,
    waitFirst: Bool = false,
    _ strike: () throws(SockError) -> IOResult<Success>
) async throws(SockError) -> Success {
    var waitFirst = waitFirst
    while true {
        if !waitFirst {
            channel.clearReadiness(direction)
            if case .completed(let value) = try strike() {
                return value
            }
        }
        waitFirst = false
        if deadline.hasPassed { throw .timedOut }
        switch await channel.wait(for: direction, deadline: deadline) {
        case .ready: continue
        case .timedOut: throw .timedOut
        case .cancelled: throw .cancelled
        case .closed: throw .closed
        }
    }
}

/// A connection (TCP, Unix or UDP) whose reads and writes are `async`,
/// driven by a ``Reactor``.
///
/// On an epoll reactor, each operation first makes its system call; only
/// when it would block does the task suspend until epoll reports readiness.
/// (One exception, as in an edge-triggered C server: on a stream, a read
/// that follows a short read waits for readiness first, unless an event has
/// arrived since or any event reported a half-close, hang-up or error; an
/// echo then costs one `recv` and one `send`.) On an io_uring reactor, reads
/// and writes are submitted to the ring (`IORING_OP_RECV`,
/// `IORING_OP_SEND`) and the task resumes on their completion; the buffer
/// must stay valid until the call returns, which it does only once the
/// kernel is done with it (also after a deadline or a cancellation). Run the task
/// on the reactor's executor (`Task(executorPreference: reactor.executor)`)
/// and it resumes on the reactor thread without a thread hop; in steady state
/// an operation allocates nothing, suspended or not.
///
/// ```swift
/// let conn = try await AsyncTCPConn.connect(to: server, on: reactor, deadline: .after(.seconds(2)))
/// try await conn.write(all: request)
/// let count = try await conn.read(into: buffer, deadline: .after(.seconds(5)))   // 0: end of stream
/// try conn.close()
/// ```
///
/// Deadlines: ``Deadline/never`` (the default) and ``Deadline/none`` wait
/// without limit; another deadline ends a wait with ``SockError/timedOut``.
/// Cancelling the task ends a wait with ``SockError/cancelled``. Neither
/// affects the connection, which stays usable. The base connection's own
/// deadlines must stay ``Deadline/none`` (the default), or its system calls
/// would wait on the reactor thread.
///
/// One reader and one writer may wait at a time (a read and a write may run
/// concurrently in two tasks; two concurrent reads may not).
public final class AsyncConnection<Base: Socket>: Sendable {
    /// The connection, for options, addresses and anything synchronous.
    public let base: Base
    /// The reactor that drives this connection.
    public let reactor: Reactor
    internal let channel: ReactorChannel

    /// Puts `base` on `reactor` (registers it with the reactor's epoll,
    /// edge-triggered, for reading and writing; or attaches it to the
    /// reactor's io_uring). Allocates the registration once; nothing after
    /// that.
    ///
    /// - Throws: ``SockError/closed`` when `base` or the reactor is closed.
    public init(_ base: Base, on reactor: Reactor) throws(SockError) {
        self.base = base
        self.reactor = reactor
        channel = try ReactorChannel(
            base.descriptor, reactor: reactor, interest: [.readable, .writable],
            isStream: base.underlyingProtocol == .stream)
    }

    deinit {
        channel.deregister()
    }

    /// Puts `base` on `reactor`, closing `base` when that fails (a socket
    /// the caller just opened or accepted, which nobody else would close).
    internal static func adopting(_ base: Base, on reactor: Reactor) throws(SockError) -> AsyncConnection {
        do throws(SockError) {
            return try AsyncConnection(base, on: reactor)
        } catch {
            try? base.close()
            throw error
        }
    }

    /// Reads up to `buffer.count` bytes, waiting until some arrive.
    ///
    /// On an io_uring reactor the kernel fills `buffer` while the task is
    /// suspended: give each concurrently reading task a buffer of its own.
    ///
    /// - Returns: The number of bytes read; 0 means end of stream on a stream
    ///   socket (an empty datagram on a datagram socket), or an empty
    ///   `buffer`.
    /// - Throws: ``SockError/timedOut``, ``SockError/cancelled``,
    ///   ``SockError/connectionReset``, ``SockError/closed``, …
    ///
    /// The corresponding C function is `recv`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline = .never) async throws(SockError) -> Int {
        switch channel {
        case .completion(let registration):
            if buffer.isEmpty { return try base.descriptor.read(into: buffer).value ?? 0 }
            return try await registration.perform(.receive(buffer), .read, deadline: deadline).count()
        case .readiness(let registration):
            let descriptor = base.descriptor
            let count = try await reactorOperation(
                channel, .read, deadline: deadline, waitFirst: registration.readShouldWaitFirst
            ) { () throws(SockError) in
                try descriptor.read(into: buffer)
            }
            registration.noteRead(count: count, capacity: buffer.count)
            return count
        }
    }

    /// Reads until `buffer` is full, waiting as often as needed — the async
    /// form of ``StreamConn/read(exactly:into:)``, with the same meaning.
    ///
    /// - Returns: `buffer.count`.
    /// - Throws: ``SockError/endOfStream`` when the peer ends the stream
    ///   before `buffer` is full; otherwise as ``read(into:deadline:)-(UnsafeMutableRawBufferPointer,_)``. After
    ///   a failure the bytes read so far are at the start of `buffer`, but
    ///   their count is not reported (for a datagram socket, use
    ///   ``read(into:deadline:)-(UnsafeMutableRawBufferPointer,_)``).
    ///
    /// The corresponding C function is `recv`.
    @discardableResult
    public func read(exactly buffer: UnsafeMutableRawBufferPointer, deadline: Deadline = .never) async throws(SockError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = try await read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), deadline: deadline)
            if count == 0 { throw .endOfStream }
            filled += count
        }
        return filled
    }

    /// Writes up to `buffer.count` bytes (with `MSG_NOSIGNAL`), waiting until
    /// at least one can be written. A stream write may be short.
    ///
    /// - Returns: The number of bytes written.
    /// - Throws: ``SockError/connectionReset`` (never `SIGPIPE`),
    ///   ``SockError/timedOut``, ``SockError/cancelled``,
    ///   ``SockError/closed``, …
    ///
    /// The corresponding C function is `send`.
    @discardableResult
    public func write(_ buffer: UnsafeRawBufferPointer, deadline: Deadline = .never) async throws(SockError) -> Int {
        if case .completion(let registration) = channel {
            return try await registration.perform(.send(buffer), .write, deadline: deadline).count()
        }
        let descriptor = base.descriptor
        return try await reactorOperation(channel, .write, deadline: deadline) { () throws(SockError) in
            try descriptor.write(buffer)
        }
    }

    /// Writes all of `buffer`, waiting for room as often as needed.
    ///
    /// - Throws: As ``write(_:deadline:)-(UnsafeRawBufferPointer,_)``; on a deadline or cancellation part
    ///   of `buffer` may have been sent.
    public func write(all buffer: UnsafeRawBufferPointer, deadline: Deadline = .never) async throws(SockError) {
        var sent = 0
        while sent < buffer.count {
            sent += try await self.write(UnsafeRawBufferPointer(rebasing: buffer[sent...]), deadline: deadline)
        }
    }

    // MARK: Spans and arrays

    /// Writes up to `bytes.byteCount` bytes of a span (`array.span.bytes`),
    /// waiting until at least one can be written; see
    /// ``write(_:deadline:)-(UnsafeRawBufferPointer,_)``.
    ///
    /// The corresponding C function is `send`.
    @discardableResult
    public func write(_ bytes: RawSpan, deadline: Deadline = .never) async throws(SockError) -> Int {
        if case .completion(let registration) = channel {
            // The span is borrowed for the whole call, and the call returns
            // only after the send's completion: its memory outlives the
            // kernel's use of the pointer.
            let buffer = bytes.withUnsafeBytes { $0 }
            return try await registration.perform(.send(buffer), .write, deadline: deadline).count()
        }
        let descriptor = base.descriptor
        return try await reactorOperation(channel, .write, deadline: deadline) { () throws(SockError) in
            try bytes.withUnsafeBytes { buffer throws(SockError) in try descriptor.write(buffer) }
        }
    }

    /// Writes every byte of a span, waiting for room as often as needed.
    ///
    /// - Throws: As ``write(_:deadline:)-(RawSpan,_)``; on a deadline or
    ///   cancellation part of `bytes` may have been sent.
    ///
    /// The corresponding C function is `send`.
    public func write(all bytes: RawSpan, deadline: Deadline = .never) async throws(SockError) {
        var sent = 0
        while sent < bytes.byteCount {
            sent += try await self.write(bytes.extracting(droppingFirst: sent), deadline: deadline)
        }
    }

    /// Writes every byte of `bytes`, waiting for room as often as needed.
    ///
    /// The corresponding C function is `send`.
    public func write(all bytes: [UInt8], deadline: Deadline = .never) async throws(SockError) {
        try await self.write(all: bytes.span.bytes, deadline: deadline)
    }

    /// Reads into the start of `bytes`, overwriting them, waiting until some
    /// data arrives; returns how many were read (0: end of stream on a
    /// stream socket, or an empty datagram).
    ///
    /// The corresponding C function is `recv`.
    public func read(into bytes: inout MutableRawSpan, deadline: Deadline = .never) async throws(SockError) -> Int {
        switch channel {
        case .completion:
            // `bytes` is borrowed inout for the whole call, which returns
            // only after the receive's completion.
            let buffer = bytes.withUnsafeMutableBytes { $0 }
            return try await read(into: buffer, deadline: deadline)
        case .readiness(let registration):
            let descriptor = base.descriptor
            let capacity = bytes.byteCount
            let count = try await reactorOperation(
                channel, .read, deadline: deadline, waitFirst: registration.readShouldWaitFirst
            ) { () throws(SockError) in
                try bytes.withUnsafeMutableBytes { buffer throws(SockError) in try descriptor.read(into: buffer) }
            }
            registration.noteRead(count: count, capacity: capacity)
            return count
        }
    }

    /// Reads exactly `count` bytes of a stream into a new array (the one
    /// allocation), waiting as often as needed.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative `count`;
    ///   ``SockError/endOfStream`` when the peer ends the stream first;
    ///   otherwise as ``read(into:deadline:)-(UnsafeMutableRawBufferPointer,_)``.
    ///
    /// The corresponding C function is `recv`.
    public func read(exactly count: Int, deadline: Deadline = .never) async throws(SockError) -> [UInt8] {
        guard count >= 0 else { throw .invalidParameter }
        var storage = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            var span = storage.mutableSpan
            var bytes = span.mutableBytes
            var rest = bytes.extracting(droppingFirst: filled)
            let received = try await read(into: &rest, deadline: deadline)
            if received == 0 { throw .endOfStream }
            filled += received
        }
        return storage
    }

    /// Takes the connection off the reactor (waiting operations end with
    /// ``SockError/closed``) and closes it. Idempotent.
    ///
    /// The corresponding C function is `close`.
    public func close() throws(SockError) {
        channel.deregister()
        try base.descriptor.close()
    }

    /// Takes the connection off the reactor without closing it (waiting
    /// operations end with ``SockError/closed``) and returns it, for
    /// synchronous use or another reactor.
    public func detach() -> Base {
        channel.deregister()
        return base
    }
}

/// A TCP connection on a reactor.
public typealias AsyncTCPConn = AsyncConnection<TCPConn>
/// A Unix connection (stream, datagram or seqpacket) on a reactor.
public typealias AsyncUnixConn = AsyncConnection<UnixConn>
/// A UDP socket on a reactor (connected: read/write; see also
/// ``AsyncConnection/readFrom(into:deadline:)``).
public typealias AsyncUDPConn<Address: IPSocketAddress> = AsyncConnection<UDPConn<Address>>

extension AsyncConnection where Base == TCPConn {
    /// Connects to `remote` without blocking the thread: starts the
    /// connection, then suspends until the handshake completes.
    ///
    /// - Throws: ``SockError/connectionRefused``, ``SockError/timedOut``,
    ///   ``SockError/cancelled`` (the half-open socket is closed then), …
    ///
    /// The corresponding C functions are `socket`, `connect`, and
    /// `getsockopt` (`SO_ERROR`).
    public static func connect(
        to remote: AnySocketAddress, on reactor: Reactor, deadline: Deadline = .never
    ) async throws(SockError) -> AsyncTCPConn {
        if reactor.driver != nil {
            return try await connectOnRing(to: remote, on: reactor, deadline: deadline)
        }
        let conn = try TCPConn.dial(to: remote)
        let async = try AsyncTCPConn.adopting(conn, on: reactor)
        do throws(SockError) {
            try await reactorOperation(async.channel, .write, deadline: deadline) { () throws(SockError) in
                try conn.finishConnect()
            }
        } catch {
            try? async.close()
            throw error
        }
        return async
    }

    /// The io_uring form of ``connect(to:on:deadline:)-(AnySocketAddress,_,_)``:
    /// a new socket on the ring, then one `IORING_OP_CONNECT`.
    private static func connectOnRing(
        to remote: AnySocketAddress, on reactor: Reactor, deadline: Deadline
    ) async throws(SockError) -> AsyncTCPConn {
        let family: CInt
        switch remote {
        case .inet4: family = SockBindings.AF_INET
        case .inet6: family = SockBindings.AF_INET6
        default: throw .addressFamilyNotSupported
        }
        let socket = try TCPSocket(family: family)
        let conn = TCPConn(descriptor: socket.descriptor, networkType: socket.networkType, remoteAddress: remote)
        let async = try AsyncTCPConn.adopting(conn, on: reactor)
        guard case .completion(let registration) = async.channel else { preconditionFailure("a ring reactor's channel") }
        // The kernel reads the address when the reactor submits the entry,
        // after this task has suspended: it lives in a buffer of its own
        // until the completion (one allocation per connect).
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 8)
        defer { storage.deallocate() }
        let length = remote.withSockaddrPointer { pointer, length in
            storage.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(length)))
            return length
        }
        let operation = IOUringOperation(
            opcode: UInt8(SockBindings.IORING_OP_CONNECT), address: UInt64(UInt(bitPattern: storage.baseAddress)),
            length: 0, flags: 0, offset: UInt64(length))
        do throws(SockError) {
            _ = try await registration.perform(operation, .write, deadline: deadline).count()
        } catch {
            try? async.close()
            throw error
        }
        return async
    }

    /// Connects to an IPv4 address (see ``connect(to:on:deadline:)-(AnySocketAddress,_,_)``).
    public static func connect(
        to remote: SockaddrInet4, on reactor: Reactor, deadline: Deadline = .never
    ) async throws(SockError) -> AsyncTCPConn {
        try await connect(to: .inet4(remote), on: reactor, deadline: deadline)
    }
}

extension AsyncConnection where Base == UnixConn {
    /// Connects to the Unix socket at `remote` without blocking the thread.
    /// A listener whose backlog is full makes the connect retry every
    /// millisecond (Unix sockets give no readiness for that) until
    /// `deadline`.
    ///
    /// - Throws: ``SockError/connectionRefused``, ``SockError/timedOut``,
    ///   ``SockError/cancelled``, …
    ///
    /// The corresponding C functions are `socket` and `connect`.
    public static func connect(
        to remote: SockaddrUnix, network: UnixNetwork = .stream, on reactor: Reactor, deadline: Deadline = .never
    ) async throws(SockError) -> AsyncUnixConn {
        while true {
            do throws(SockError) {
                return try AsyncUnixConn(try UnixConn.dial(to: remote, network: network), on: reactor)
            } catch .wouldBlock {
                if deadline.hasPassed { throw .timedOut }
                if Task.isCancelled { throw .cancelled }
                try await reactor.sleep(for: .milliseconds(1))
            }
        }
    }
}

extension AsyncConnection where Base: PacketConn {
    /// Reads one datagram and its sender's address (an unconnected UDP or
    /// Unix datagram socket), waiting until one arrives.
    ///
    /// The corresponding C function is `recvfrom` (or `recvmsg`).
    public func readFrom(
        into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline = .never
    ) async throws(SockError) -> (count: Int, from: Base.Address) {
        let base = self.base
        return try await reactorOperation(channel, .read, deadline: deadline) { () throws(SockError) in
            try base.readFrom(into: buffer)
        }
    }

    /// Sends one datagram to `address`, waiting for room.
    ///
    /// The corresponding C function is `sendto` (or `sendmsg`).
    @discardableResult
    public func writeTo(
        _ buffer: UnsafeRawBufferPointer, address: Base.Address, deadline: Deadline = .never
    ) async throws(SockError) -> Int {
        let base = self.base
        return try await reactorOperation(channel, .write, deadline: deadline) { () throws(SockError) in
            try base.writeTo(buffer, address: address)
        }
    }
}
