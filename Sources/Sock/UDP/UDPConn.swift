// UDPConn: a bound or connected UDP socket that sends and receives datagrams,
// and the reference's ListenUDP* / DialUDP* constructors.
//
// Hot paths (read, write, readFrom, writeTo, readDatagram) are one system call
// when data or room is there, go through `Descriptor.adaptive` (in-flight
// count, Strike–Spin–Adapt with the connection's deadline), and allocate
// nothing: the sender's address is received into a `sockaddr_storage` on the
// stack and decoded into `Address`, a value type, by the specialised generic.
//
// The address-carrying hot paths (readFrom, readDatagram, writeTo) carry
// `@_specialize(exported: true, …)` for both address types, so that callers in
// other modules reach code specialised for SockaddrInet4/6 instead of the
// generic entry point (measured with callgrind: a would-block readFrom costs
// about 200 user-space instructions specialised, 585 generic).
//
// Addresses reach the kernel through the shared primitives of
// SocketPrimitives.swift (bindSocket, connectSocket, socketName, receiveFrom,
// sendTo); UDP's only pointer code is decoding a received address in place
// (readDatagram).
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// What one datagram read produced: how many bytes were stored, how long the
/// datagram really was, and who sent it.
///
/// A datagram longer than the buffer is truncated: the buffer receives its
/// first ``count`` bytes and the rest is discarded by the kernel.
/// ``isTruncated`` says so, and ``length`` gives the datagram's full length
/// (read with `MSG_TRUNC`, in the same system call).
public struct UDPRead<Address: IPSocketAddress>: Hashable, Sendable, BitwiseCopyable {
    /// The number of bytes stored in the buffer (at most its size).
    public var count: Int

    /// The full length of the datagram, which exceeds ``count`` when the
    /// datagram was truncated.
    public var length: Int

    /// The sender's address.
    public var from: Address

    /// Creates a read result.
    public init(count: Int, length: Int, from: Address) {
        self.count = count
        self.length = length
        self.from = from
    }

    /// Whether the datagram was longer than the buffer, so that its last
    /// `length - count` bytes were lost (`MSG_TRUNC`).
    public var isTruncated: Bool { length > count }
}

/// A UDP socket that is bound (unconnected) or connected, and sends and
/// receives datagrams: the Go reference's `UDPConn`.
///
/// `Address` is ``SockaddrInet4`` or ``SockaddrInet6``; the type is
/// specialised for it, so addresses are plain values and no operation boxes
/// or allocates.
///
/// ```swift
/// let server = try UDPConn.listen(on: SockaddrInet4(address: .loopback, port: 0))
/// let client = try UDPConn.dial(to: server.localAddress)
/// _ = try client.write(request)                 // connected: send(2)
/// server.setReadDeadline(.after(.seconds(1)))
/// if case .completed(let got) = try server.readFrom(into: buffer) {
///     _ = try server.writeTo(reply, address: got.from)
/// }
/// ```
///
/// - Datagram semantics: every read returns one datagram. A 0-byte datagram
///   is `.completed(0)`, never end of stream. A datagram longer than the
///   buffer is truncated; ``readDatagram(into:)`` reports that.
/// - Non-blocking by default: without a deadline an operation that cannot
///   proceed returns ``IOResult/wouldBlock`` (0 bytes) at once. With
///   ``setReadDeadline(_:)`` / ``setWriteDeadline(_:)`` it waits adaptively
///   (a brief spin, then `ppoll` for the time left) and throws
///   ``SockError/timedOut`` when the deadline passes.
/// - Errors of the connection, such as ``SockError/connectionRefused`` after
///   an ICMP port-unreachable on a connected socket, are thrown by the next
///   read or write.
/// - Options work as on a ``UDPSocket`` (both are ``UDPConfigurable``):
///   `setOption(.broadcast, to: true)`, the family's IP options, and
///   everything every ``Socket`` has (``Socket/close()``, buffer sizes,
///   reuse, ``Socket/takeError()``, …).
public final class UDPConn<Address: IPSocketAddress>: UDPConfigurable {
    /// The owned descriptor, taken over from the ``UDPSocket`` it was made
    /// from (Go: `FD()`, `SyscallConn()`).
    public let descriptor: Descriptor

    /// The local address, resolved by the kernel after binding or connecting
    /// (so a port 0 request shows the real port).
    ///
    /// Go: `LocalAddr`.
    public let localAddress: Address

    /// The peer's address for a connected socket, `nil` for an unconnected
    /// one.
    ///
    /// Go: `RemoteAddr`.
    public let remoteAddress: Address?

    /// The read and write deadlines; ``Deadline/none`` (the default) makes
    /// operations non-blocking. Set them with ``setDeadline(_:)``,
    /// ``setReadDeadline(_:)`` and ``setWriteDeadline(_:)``.
    public let deadlines = ConnectionDeadlines()

    private init(descriptor: Descriptor, localAddress: Address, remoteAddress: Address?) {
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.descriptor = descriptor
    }

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``, following `Address`.
    public var networkType: NetworkType { NetworkType(family: Address.family) }

    /// Always ``UnderlyingProtocol/datagram``.
    public var underlyingProtocol: UnderlyingProtocol { .datagram }

    // MARK: Constructors

    /// Creates an unconnected UDP socket bound to `address`, which receives
    /// from and sends to any peer with ``readFrom(into:)`` and
    /// ``writeTo(_:address:)``.
    ///
    /// The family is `Address`'s: `UDPConn.listen(on: SockaddrInet4(…))` is
    /// IPv4, `UDPConn.listen(on: SockaddrInet6(…))` IPv6 (dual-stack unless
    /// the key `.ipv6Only` was set on `socket`). Port 0 asks the
    /// kernel for an ephemeral port; ``localAddress`` reports it.
    ///
    /// Go: `ListenUDP`, `ListenUDP4` (with ``SockaddrInet4``) and `ListenUDP6`
    /// (with ``SockaddrInet6``). Go's `network` argument ("udp", "udp4",
    /// "udp6") is the address type here, and a nil address cannot be passed.
    ///
    /// - Parameters:
    ///   - address: The local address to bind.
    ///   - socket: A socket made with ``UDPSocket/init()`` and configured
    ///     before binding, or `nil` (the default) for a new one with the
    ///     reference's defaults. The connection takes over its descriptor:
    ///     closing either closes both. If binding fails, a socket passed in
    ///     stays open (a new one is closed).
    /// - Throws: ``SockError``, such as ``SockError/addressInUse`` or
    ///   ``SockError/addressNotAvailable``.
    ///
    /// The corresponding C functions are `socket`, `setsockopt`, `bind` and
    /// `getsockname`.
    public static func listen(on address: Address, socket: UDPSocket<Address>? = nil) throws(SockError) -> UDPConn {
        let descriptor = try socketOrNew(socket).descriptor
        try descriptor.bindSocket(to: address)
        let local = try descriptor.socketName(as: Address.self)
        return UDPConn(descriptor: descriptor, localAddress: local, remoteAddress: nil)
    }

    /// Creates a UDP socket connected to `remote`, optionally bound to `local`
    /// first. A connected socket sends with ``write(_:)``, receives only from
    /// `remote` with ``read(into:)``, and reports ICMP errors for it (such as
    /// ``SockError/connectionRefused``) on its next read or write.
    ///
    /// Connecting a UDP socket sends nothing and completes at once.
    ///
    /// Go: `DialUDP`, `DialUDP4` (with ``SockaddrInet4``) and `DialUDP6` (with
    /// ``SockaddrInet6``). Go's `network` argument is the address type here,
    /// and a nil remote address cannot be passed.
    ///
    /// - Parameters:
    ///   - remote: The peer's address.
    ///   - local: The local address to bind first, or `nil` (the default) to
    ///     let the kernel choose when connecting.
    ///   - socket: A socket made with ``UDPSocket/init()`` and configured
    ///     beforehand, or `nil` (the default) for a new one with the
    ///     reference's defaults. The connection takes over its descriptor.
    /// - Throws: ``SockError``, such as ``SockError/networkUnreachable`` or
    ///   ``SockError/addressInUse``.
    ///
    /// The corresponding C functions are `socket`, `setsockopt`, `bind`,
    /// `connect` and `getsockname`.
    public static func dial(
        to remote: Address, from local: Address? = nil, socket: UDPSocket<Address>? = nil
    ) throws(SockError) -> UDPConn {
        let descriptor = try socketOrNew(socket).descriptor
        if let local {
            try descriptor.bindSocket(to: local)
        }
        // A UDP connect only records the peer: it completes at once (the
        // deadline merely covers an interrupted call).
        _ = try descriptor.connectSocket(to: remote, deadline: .never)
        let bound = try descriptor.socketName(as: Address.self)
        return UDPConn(descriptor: descriptor, localAddress: bound, remoteAddress: remote)
    }

    // MARK: Reading

    /// Reads one datagram into `buffer`.
    ///
    /// Returns the number of bytes stored. A 0-byte datagram is
    /// `.completed(0)` (not end of stream: UDP has none). A datagram longer
    /// than `buffer` is truncated silently here; use
    /// ``readDatagram(into:)`` to learn about it. An empty `buffer` still
    /// consumes one datagram. On an unconnected socket this reads from any
    /// sender; use ``readFrom(into:)`` to learn who.
    ///
    /// Without a read deadline: ``IOResult/wouldBlock`` (0 bytes) at once
    /// when no datagram is queued. With one: waits, and throws
    /// ``SockError/timedOut`` when the deadline passes.
    ///
    /// Go: `UDPConn.Read`.
    ///
    /// - Throws: ``SockError``, such as ``SockError/connectionRefused`` (an
    ///   ICMP port-unreachable for a connected socket's earlier datagram),
    ///   ``SockError/timedOut`` or ``SockError/closed``.
    ///
    /// The corresponding C function is `recv`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> IOResult<Int> {
        try descriptor.adaptive(events: SockBindings.POLLIN, deadline: deadlines.readDeadline) { fd in
            Attempt(Syscall.recv(fd, buffer.baseAddress, buffer.count, 0))
        }
    }

    /// Reads one datagram into `buffer` and returns the number of bytes
    /// stored and the sender's address.
    ///
    /// Truncation is silent here, as in ``read(into:)``;
    /// ``readDatagram(into:)`` returns the same plus the datagram's full
    /// length. Waiting and errors are as for ``read(into:)``.
    ///
    /// Go: `UDPConn.ReadFrom` (which returns a `net.UDPAddr` on the heap; this
    /// returns `Address` by value and allocates nothing).
    ///
    /// The corresponding C function is `recvfrom`.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func readFrom(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> IOResult<(count: Int, from: Address)> {
        switch try readDatagram(into: buffer) {
        case .completed(let datagram): return .completed((count: datagram.count, from: datagram.from))
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Reads one datagram into `buffer` and reports everything about it: the
    /// bytes stored, its full length (so truncation is visible, see
    /// ``UDPRead/isTruncated``) and the sender's address.
    ///
    /// One `recvfrom` with `MSG_TRUNC`, which makes the kernel return the
    /// datagram's real length while storing at most `buffer.count` bytes.
    /// Waiting and errors are as for ``read(into:)``.
    ///
    /// Go: the truncation flag of `UDPConn.ReadMsgUDP` (`MSG_TRUNC` in its
    /// `flags`), without control data.
    ///
    /// The corresponding C function is `recvfrom`.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func readDatagram(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> IOResult<UDPRead<Address>> {
        var storage = RawSockaddrAny()
        let received = try descriptor.receiveFrom(
            into: buffer, flags: SockBindings.MSG_TRUNC, deadline: deadlines.readDeadline, address: &storage
        )
        switch received {
        case .completed(let (datagramLength, length)):
            // Decoded in place (a `RawSockaddrAny` argument would be copied).
            let from = try withUnsafeBytes(of: &storage) { (raw) throws(SockError) -> Address in
                try Address(decoding: raw, length: length)
            }
            return .completed(UDPRead(count: Swift.min(datagramLength, buffer.count), length: datagramLength, from: from))
        case .wouldBlock:
            return .wouldBlock
        }
    }

    // MARK: Writing

    /// Sends `buffer` as one datagram to the connected peer.
    ///
    /// A datagram is sent whole or not at all: the result is `buffer.count`
    /// when completed. An empty buffer sends a 0-byte datagram. Without a
    /// write deadline: ``IOResult/wouldBlock`` (0 bytes) when the send buffer
    /// is full; with one, waits for room and throws ``SockError/timedOut``.
    /// `MSG_NOSIGNAL` is always passed.
    ///
    /// Go: `UDPConn.Write`.
    ///
    /// - Throws: ``SockError/notConnected`` on an unconnected socket (use
    ///   ``writeTo(_:address:)``); ``SockError/messageTooLarge`` for a
    ///   datagram above UDP's limit (65,507 bytes over IPv4) or the path MTU
    ///   with fragmentation forbidden; ``SockError/connectionRefused`` after
    ///   an ICMP port-unreachable for an earlier datagram.
    ///
    /// The corresponding C function is `send`.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(SockError) -> IOResult<Int> {
        try descriptor.write(buffer, deadline: deadlines.writeDeadline)
    }

    /// Sends `buffer` as one datagram to `address`.
    ///
    /// Works on unconnected and (on Linux) connected sockets alike. Waiting,
    /// results and errors are as for ``write(_:)``.
    ///
    /// Go: `UDPConn.WriteTo` (which takes a `net.Addr` interface; this takes
    /// `Address` by value and allocates nothing).
    ///
    /// - Throws: ``SockError``, such as ``SockError/messageTooLarge``,
    ///   ``SockError/permissionDenied`` for a broadcast address without
    ///   the key `.broadcast`, or ``SockError/networkUnreachable``.
    ///
    /// The corresponding C function is `sendto`.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func writeTo(_ buffer: UnsafeRawBufferPointer, address: Address) throws(SockError) -> IOResult<Int> {
        try descriptor.sendTo(buffer, address: address, deadline: deadlines.writeDeadline)
    }

    /// `socket`, or a new one with the defaults (`??` is not typed throws).
    private static func socketOrNew(_ socket: UDPSocket<Address>?) throws(SockError) -> UDPSocket<Address> {
        if let socket { return socket }
        return try UDPSocket<Address>()
    }
}
