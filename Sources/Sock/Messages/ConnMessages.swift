// Thin connection methods over the descriptor-level message calls, governed
// by the connection's own deadlines: the Go reference's UDPConn.ReadMsgUDP /
// WriteMsgUDP (datagrams with out-of-band data), descriptor and credential
// passing on a UnixConn, and GetSockname / GetPeername as functions.
//
// Nothing here allocates: control buffers are the caller's or on the stack,
// and addresses are decoded into values.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

// MARK: - UDP messages with control data (Go: ReadMsgUDP, WriteMsgUDP)

/// What one ``UDPConn/readMessage(into:control:)`` received: the datagram's
/// byte count, the control data's length, the kernel's flags and the
/// sender.
///
/// Truncation is reported, never hidden: ``isTruncated`` when the datagram
/// was larger than the buffer, ``isControlTruncated`` when the control
/// buffer was too small.
public struct UDPMessage<Address: IPSocketAddress>: Hashable, Sendable, BitwiseCopyable {
    /// The number of bytes stored in the buffer (Go's `n`).
    public var count: Int

    /// The number of control-data bytes stored in the control buffer (Go's
    /// `oobn`). Parse them with ``ControlMessages/init(buffer:length:)-(UnsafeMutableRawBufferPointer,_)``.
    public var controlLength: Int

    /// The received message flags (Go's `flags`), such as `MSG_TRUNC` and
    /// `MSG_CTRUNC`.
    public var flags: CInt

    /// The sender's address (Go's `addr`).
    public var from: Address

    /// Creates a value from its parts.
    @inlinable
    public init(count: Int, controlLength: Int, flags: CInt, from: Address) {
        self.count = count
        self.controlLength = controlLength
        self.flags = flags
        self.from = from
    }

    /// Whether the datagram was larger than the buffer (`MSG_TRUNC`): only
    /// ``count`` bytes of it were kept.
    @inlinable
    public var isTruncated: Bool { flags & SockBindings.MSG_TRUNC != 0 }

    /// Whether control data was lost because the control buffer was too
    /// small (`MSG_CTRUNC`).
    @inlinable
    public var isControlTruncated: Bool { flags & SockBindings.MSG_CTRUNC != 0 }
}

extension UDPConn {
    /// Reads one datagram into `buffer` and its control data (ancillary
    /// data: packet info, TOS/traffic class, TTL/hop limit, timestamps,
    /// GRO segment size, …) into `control`, honouring the read deadline.
    ///
    /// Ask for the control data with the socket options first (for example
    /// ``UDPSocket/setReceivesPacketInfo(_:)``), size `control` with the
    /// space helpers of ``ControlMessageBuilder`` (such as
    /// ``ControlMessageBuilder/packetInfo4Space``) and parse it with
    /// ``ControlMessages/init(buffer:length:)-(UnsafeMutableRawBufferPointer,_)``:
    ///
    /// ```swift
    /// if case .completed(let message) = try conn.readMessage(into: buffer, control: control) {
    ///     for case .packetInfo4(let info) in ControlMessages(buffer: control, length: message.controlLength) {
    ///         print("to", IPv4Address(info.ipi_addr), "on interface", info.ipi_ifindex)
    ///     }
    /// }
    /// ```
    ///
    /// Without a read deadline: would-block at once when no datagram is
    /// queued; with one, waits and throws ``SockError/timedOut``.
    ///
    /// Go: `UDPConn.ReadMsgUDP(b, oob)`.
    ///
    /// - Returns: The counts, flags and sender, or would-block.
    /// - Throws: ``SockError``, such as ``SockError/timedOut`` or
    ///   ``SockError/connectionRefused`` (an ICMP error for a connected
    ///   socket's earlier datagram).
    ///
    /// The corresponding C function is `recvmsg`.
    public func readMessage(
        into buffer: UnsafeMutableRawBufferPointer, control: UnsafeMutableRawBufferPointer
    ) throws(SockError) -> IOResult<UDPMessage<Address>> {
        switch try descriptor.receiveMessage(into: buffer, control: control, deadline: deadlines.readDeadline) {
        case .wouldBlock:
            return .wouldBlock
        case .completed(let message):
            // A UDP socket always reports its sender.
            guard let source = message.source else { throw .addressFamilyNotSupported }
            let from = try source.withSockaddrPointer { (pointer, length) throws(SockError) -> Address in
                try Address(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), length: length)
            }
            return .completed(UDPMessage(
                count: message.count, controlLength: message.controlLength, flags: message.flags, from: from))
        }
    }

    /// Sends `buffer` as one datagram with control data `control` (such as
    /// a source address with `IP_PKTINFO`, a TOS or TTL, or a GSO segment
    /// size) to the connected peer, honouring the write deadline. Build
    /// `control` with ``ControlMessageBuilder``.
    ///
    /// Go: `UDPConn.WriteMsgUDP(b, oob, nil)`; Go's `oobn` is
    /// `control.count` whenever the datagram was sent.
    ///
    /// - Returns: The number of data bytes sent (all of them), or
    ///   would-block.
    /// - Throws: ``SockError/notConnected`` on an unconnected socket,
    ///   ``SockError/invalidParameter`` for control data the kernel rejects,
    ///   ``SockError/messageTooLarge``, ``SockError/timedOut``.
    ///
    /// The corresponding C function is `sendmsg`.
    public func writeMessage(_ buffer: UnsafeRawBufferPointer, control: UnsafeRawBufferPointer) throws(SockError) -> IOResult<Int> {
        try descriptor.sendMessage(buffer, control: control, deadline: deadlines.writeDeadline)
    }

    /// Sends `buffer` as one datagram with control data `control` to
    /// `address`, honouring the write deadline.
    ///
    /// Go: `UDPConn.WriteMsgUDP(b, oob, addr)`.
    ///
    /// - Returns: The number of data bytes sent (all of them), or
    ///   would-block.
    /// - Throws: As ``writeMessage(_:control:)``.
    ///
    /// The corresponding C function is `sendmsg`.
    public func writeMessage(
        _ buffer: UnsafeRawBufferPointer, control: UnsafeRawBufferPointer, to address: Address
    ) throws(SockError) -> IOResult<Int> {
        try descriptor.sendMessage(buffer, control: control, to: address, deadline: deadlines.writeDeadline)
    }
}

extension UDPConfigurable {
    /// Whether datagrams are received with their packet info (`IP_PKTINFO`
    /// for IPv4, `IPV6_RECVPKTINFO` for IPv6): the destination address and
    /// the arrival interface, read with ``UDPConn/readMessage(into:control:)``.
    ///
    /// The corresponding C function is `getsockopt`.
    public var receivesPacketInfo: Bool {
        get throws(SockError) {
            networkType == .ipv6
                ? try option(.ipv6ReceivePacketInfo) : try option(.receivePacketInfo)
        }
    }

    /// Asks for (or stops) a packet-info control message with every
    /// datagram: ``ControlMessage/packetInfo4(_:)`` on IPv4 (`IP_PKTINFO`),
    /// ``ControlMessage/packetInfo6(_:)`` on IPv6 (`IPV6_RECVPKTINFO`).
    ///
    /// The corresponding C function is `setsockopt`.
    public func setReceivesPacketInfo(_ enabled: Bool) throws(SockError) {
        if networkType == .ipv6 {
            try setOption(.ipv6ReceivePacketInfo, to: enabled)
        } else {
            try setOption(.receivePacketInfo, to: enabled)
        }
    }
}

// MARK: - Descriptor and credential passing on a UnixConn

extension UnixConn {
    /// Sends the descriptors `fds` with `data`, honouring the write
    /// deadline: the Go reference's `SendFDs` on a connection. The peer
    /// receives duplicates; the originals stay open here. See
    /// ``Descriptor/sendDescriptors(_:data:flags:deadline:)-(FDs,_,_,_)`` for the rules
    /// (up to 253 descriptors; at least one data byte on a stream socket).
    ///
    /// - Returns: The number of data bytes sent, or would-block.
    /// - Throws: ``SockError/invalidParameter`` for more than 253
    ///   descriptors, a negative one, or empty `data` on a stream socket;
    ///   ``SockError/closed`` for a descriptor that is not open.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendDescriptors<FDs: Collection<CInt>>(_ fds: FDs, data: UnsafeRawBufferPointer) throws(SockError) -> IOResult<Int> {
        try descriptor.sendDescriptors(fds, data: data, deadline: deadlines.writeDeadline)
    }

    /// Sends the descriptors owned by `descriptors` with `data`, keeping
    /// each of them open until the message is sent even if another thread
    /// closes it meanwhile. Otherwise as ``sendDescriptors(_:data:)-(FDs,_)``.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendDescriptors<Descriptors: Collection<Descriptor>>(
        _ descriptors: Descriptors, data: UnsafeRawBufferPointer
    ) throws(SockError) -> IOResult<Int> {
        try descriptor.sendDescriptors(descriptors, data: data, deadline: deadlines.writeDeadline)
    }

    /// Sends the descriptors `fds` with `data` to `address`, on an
    /// unconnected datagram socket. Otherwise as
    /// ``sendDescriptors(_:data:)-(FDs,_)``.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendDescriptors<FDs: Collection<CInt>>(
        _ fds: FDs, data: UnsafeRawBufferPointer, to address: SockaddrUnix
    ) throws(SockError) -> IOResult<Int> {
        try descriptor.sendDescriptors(fds, data: data, to: address, deadline: deadlines.writeDeadline)
    }

    /// Receives data and the descriptors passed with them, honouring the
    /// read deadline: the Go reference's `RecvFDs` on a connection, without
    /// allocation. Descriptors are stored at the start of `fds`, are
    /// close-on-exec and are yours to close; those beyond `fds.count` are
    /// closed and counted (see ``ReceivedDescriptors``).
    ///
    /// - Returns: The counts and flags, or would-block.
    ///
    /// The corresponding C function is `recvmsg`.
    public func receiveDescriptors(
        into fds: UnsafeMutableBufferPointer<CInt>, data: UnsafeMutableRawBufferPointer
    ) throws(SockError) -> IOResult<ReceivedDescriptors> {
        try descriptor.receiveDescriptors(into: fds, data: data, deadline: deadlines.readDeadline)
    }

    /// Receives data and up to `maximumCount` passed descriptors, each
    /// wrapped in an owning ``Descriptor``, honouring the read deadline.
    /// Allocates the array; for a hot path use
    /// ``receiveDescriptors(into:data:)``.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative
    ///   `maximumCount`.
    ///
    /// The corresponding C function is `recvmsg`.
    public func receiveDescriptors(
        upTo maximumCount: Int, data: UnsafeMutableRawBufferPointer
    ) throws(SockError) -> IOResult<(ReceivedDescriptors, [Descriptor])> {
        try descriptor.receiveDescriptors(upTo: maximumCount, data: data, deadline: deadlines.readDeadline)
    }

    /// Sends `data` with an `SCM_CREDENTIALS` control message (the Go
    /// reference's `UnixCredentials` sent with `SendMsg`), honouring the
    /// write deadline. The kernel checks the credentials: an unprivileged
    /// process may send only its own (`Ucred.current`, the default).
    ///
    /// - Returns: The number of data bytes sent, or would-block.
    /// - Throws: ``SockError/invalidParameter`` for empty `data` on a stream
    ///   socket (the kernel would deliver nothing);
    ///   ``SockError/permissionDenied`` for credentials that are not the
    ///   caller's.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendCredentials(_ credentials: Ucred = .current, data: UnsafeRawBufferPointer) throws(SockError) -> IOResult<Int> {
        if data.isEmpty && network == .stream { throw .invalidParameter }
        return try withControlBuffer(byteCount: ControlMessageBuilder.credentialsSpace) {
            buffer throws(SockError) -> IOResult<Int> in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(credentials: credentials)
            return try descriptor.sendMessage(data, control: builder.bytes, deadline: deadlines.writeDeadline)
        }
    }

    /// Receives data and the sender's credentials (the Go reference's
    /// `ParseUnixCredentials` of a received message), honouring the read
    /// deadline. Turn on the key `.passCredentials` first, or no
    /// credentials arrive. Descriptors sent along are closed, not leaked.
    ///
    /// - Returns: The number of data bytes and the credentials (`nil` when
    ///   the message carried none), or would-block.
    ///
    /// The corresponding C function is `recvmsg`.
    public func receiveCredentials(
        into data: UnsafeMutableRawBufferPointer
    ) throws(SockError) -> IOResult<(count: Int, credentials: Ucred?)> {
        // Room for the credentials and a few descriptors (closed below).
        let space = ControlMessageBuilder.credentialsSpace + ControlMessageBuilder.space(forRights: 8)
        return try withControlBuffer(byteCount: space) {
            control throws(SockError) -> IOResult<(count: Int, credentials: Ucred?)> in
            switch try descriptor.receiveMessage(into: data, control: control, deadline: deadlines.readDeadline) {
            case .wouldBlock:
                return .wouldBlock
            case .completed(let message):
                let messages = ControlMessages(buffer: control, length: message.controlLength)
                for case .rights(let rights) in messages {
                    for fd in rights { _ = Syscall.close(fd) }
                }
                return .completed((count: message.count, credentials: messages.credentials))
            }
        }
    }
}

extension Ucred {
    /// The calling process's credentials (its pid, real user id and real
    /// group id), the ones an unprivileged process may send with
    /// ``UnixConn/sendCredentials(_:data:)``.
    ///
    /// The corresponding C functions are `getpid`, `getuid` and `getgid`.
    public static var current: Ucred {
        var credentials = Ucred()
        credentials.pid = getpid()
        credentials.uid = getuid()
        credentials.gid = getgid()
        return credentials
    }
}

// MARK: - GetSockname, GetPeername

/// The address `descriptor`'s socket is bound to: the Go reference's
/// `GetSockname`. A socket bound to port 0 reports the port the kernel
/// chose; an unbound Unix socket the unnamed address.
///
/// - Throws: ``SockError/closed`` after close; an error with `ENOTSOCK` for
///   a descriptor that is not a socket; ``SockError/addressFamilyNotSupported``
///   for a family other than IPv4, IPv6 and Unix.
///
/// The corresponding C function is `getsockname`.
public func getSockname(_ descriptor: Descriptor) throws(SockError) -> AnySocketAddress {
    try descriptor.socketName(as: AnySocketAddress.self)
}

/// The address `descriptor`'s socket is bound to, decoded as `Address` (for
/// example ``SockaddrInet6``) without the enum.
///
/// - Throws: As ``getSockname(_:)``, and
///   ``SockError/addressFamilyNotSupported`` when the family is not
///   `Address`'s.
///
/// The corresponding C function is `getsockname`.
public func getSockname<Address: SocketAddress>(_ descriptor: Descriptor, as type: Address.Type) throws(SockError) -> Address {
    try descriptor.socketName(as: type)
}

/// The address of the peer `descriptor`'s socket is connected to: the Go
/// reference's `GetPeername`.
///
/// - Throws: ``SockError/notConnected`` when it is not connected;
///   ``SockError/closed`` after close.
///
/// The corresponding C function is `getpeername`.
public func getPeername(_ descriptor: Descriptor) throws(SockError) -> AnySocketAddress {
    try descriptor.peerName(as: AnySocketAddress.self)
}

/// The address of the peer `descriptor`'s socket is connected to, decoded as
/// `Address`.
///
/// - Throws: As ``getPeername(_:)``, and
///   ``SockError/addressFamilyNotSupported`` when the family is not
///   `Address`'s.
///
/// The corresponding C function is `getpeername`.
public func getPeername<Address: SocketAddress>(_ descriptor: Descriptor, as type: Address.Type) throws(SockError) -> Address {
    try descriptor.peerName(as: type)
}
