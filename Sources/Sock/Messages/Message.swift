// Messages: sendmsg/recvmsg over `Msghdr`/`Iovec` on any descriptor, with
// control data, an optional address, vectored buffers, deadlines and the
// received flags (MSG_TRUNC, MSG_CTRUNC) surfaced.
//
// Nothing here allocates. Vectored calls build their `Iovec` array with
// `withUnsafeTemporaryAllocation` (on the stack for up to 64 buffers); the
// sender's address is received into a `RawSockaddrAny` on the stack and
// decoded into an inline `AnySocketAddress`.
//
// The pointer work (filling a `Msghdr` with pointers into buffers that live
// for the duration of one call) is confined to the `withMessageHeader`
// helpers at the end of this file.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// The outcome of a completed ``Descriptor/receiveMessage(into:control:flags:deadline:)-(UnsafeMutableRawBufferPointer,_,_,_)``:
/// how many bytes arrived, how much control data, the kernel's flags and the
/// sender's address.
///
/// Truncation is reported, never hidden: ``isTruncated`` when a datagram was
/// larger than the buffers (the rest of it is discarded by the kernel), and
/// ``isControlTruncated`` when the control buffer was too small (the control
/// messages that did not fit are lost; descriptors among them were closed by
/// the kernel).
public struct ReceivedMessage: Hashable, Sendable {
    /// The number of data bytes stored in the buffers. For a datagram socket
    /// 0 is an empty datagram, not end of stream.
    public var count: Int

    /// The received message flags (`msg_flags`), such as `MSG_TRUNC`,
    /// `MSG_CTRUNC`, `MSG_EOR` or `MSG_OOB`. (`MSG_CMSG_CLOEXEC`, which the
    /// kernel echoes because Sock always passes it, is removed.)
    public var flags: CInt

    /// The number of control-data bytes the kernel stored in the control
    /// buffer (`msg_controllen`). Parse them with
    /// ``ControlMessages/init(buffer:length:)-(UnsafeMutableRawBufferPointer,_)``.
    public var controlLength: Int

    /// The sender's address, when the kernel reported one of a family Sock
    /// decodes (IPv4, IPv6, Unix); `nil` for connected stream sockets and
    /// unnamed Unix senders.
    public var source: AnySocketAddress?

    /// Creates a value from its parts.
    @inlinable
    public init(count: Int, flags: CInt, controlLength: Int, source: AnySocketAddress? = nil) {
        self.count = count
        self.flags = flags
        self.controlLength = controlLength
        self.source = source
    }

    /// Whether the datagram was larger than the buffers (`MSG_TRUNC`): only
    /// ``count`` bytes of it were kept.
    @inlinable
    public var isTruncated: Bool { flags & SockBindings.MSG_TRUNC != 0 }

    /// Whether control data was lost because the control buffer was too
    /// small (`MSG_CTRUNC`). Descriptors that did not fit were closed by the
    /// kernel.
    @inlinable
    public var isControlTruncated: Bool { flags & SockBindings.MSG_CTRUNC != 0 }
}

extension Descriptor {
    // MARK: Raw message headers (Go: SendMsg, RecvMsg)

    /// Sends the message `header` describes, exactly as prepared: address
    /// (`msg_name`), data vector (`msg_iov`), control data (`msg_control`).
    /// `MSG_NOSIGNAL` is always added.
    ///
    /// This is the Go reference's `SendMsg(fd, msg, flags)`. The pointers in
    /// `header` must stay valid for the duration of the call. Prefer
    /// ``sendMessage(_:control:flags:deadline:)-(UnsafeRawBufferPointer,_,_,_)`` and its overloads, which
    /// build the header for you.
    ///
    /// - Parameters:
    ///   - header: The message header.
    ///   - flags: `sendmsg` flags, such as `MSG_DONTWAIT` or `MSG_MORE`.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of data bytes sent, or would-block.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendMessage(
        _ header: Msghdr, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        var header = header
        return try withUnsafePointer(to: &header) { pointer throws(SockError) -> IOResult<Int> in
            try adaptive(events: SockBindings.POLLOUT, deadline: deadline) { fd in
                Attempt(Syscall.sendmsg(fd, UnsafeRawPointer(pointer), flags))
            }
        }
    }

    /// Receives a message into the buffers `header` describes. On return the
    /// kernel has updated `msg_namelen`, `msg_controllen` and `msg_flags`.
    /// `MSG_CMSG_CLOEXEC` is always added, so received descriptors are
    /// close-on-exec.
    ///
    /// This is the Go reference's `RecvMsg(fd, msg, flags)`. Prefer
    /// ``receiveMessage(into:control:flags:deadline:)-(UnsafeMutableRawBufferPointer,_,_,_)``, which builds the
    /// header and reports truncation and the sender for you.
    ///
    /// - Parameters:
    ///   - header: The message header; its pointers must stay valid for the
    ///     duration of the call.
    ///   - flags: `recvmsg` flags, such as `MSG_PEEK` or `MSG_TRUNC`.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of data bytes received, or would-block.
    ///
    /// The corresponding C function is `recvmsg`.
    public func receiveMessage(
        _ header: inout Msghdr, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try withUnsafeMutablePointer(to: &header) { pointer throws(SockError) -> IOResult<Int> in
            try adaptive(events: SockBindings.POLLIN, deadline: deadline) { fd in
                Attempt(Syscall.recvmsg(fd, UnsafeMutableRawPointer(pointer), flags))
            }
        }
    }

    // MARK: Sending

    /// Sends `buffer` with optional control data on a connected socket (or a
    /// datagram socket with a default destination).
    ///
    /// Build `control` with ``ControlMessageBuilder`` (pass its
    /// ``ControlMessageBuilder/bytes``). `MSG_NOSIGNAL` is always added: a gone
    /// peer gives ``SockError/connectionReset``, never `SIGPIPE`.
    ///
    /// - Parameters:
    ///   - buffer: The data.
    ///   - control: Control messages (ancillary data), or empty.
    ///   - flags: `sendmsg` flags; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of data bytes sent (a stream send may be short),
    ///   or would-block.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendMessage(
        _ buffer: UnsafeRawBufferPointer,
        control: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        flags: CInt = 0,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        var vector = Iovec(buffer)
        return try withUnsafeMutablePointer(to: &vector) { vector throws(SockError) -> IOResult<Int> in
            try sendVectors(vector, count: 1, control: control, name: nil, nameLength: 0, flags: flags, deadline: deadline)
        }
    }

    /// Sends `buffer` with optional control data to `address` (on an
    /// unconnected datagram socket).
    ///
    /// - Parameters:
    ///   - buffer: The data.
    ///   - control: Control messages (ancillary data), or empty.
    ///   - address: The destination.
    ///   - flags: `sendmsg` flags; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of data bytes sent, or would-block.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendMessage<Address: SocketAddress>(
        _ buffer: UnsafeRawBufferPointer,
        control: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        to address: Address,
        flags: CInt = 0,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        var vector = Iovec(buffer)
        return try withUnsafeMutablePointer(to: &vector) { vector throws(SockError) -> IOResult<Int> in
            try address.withSockaddrPointer { (name, nameLength) throws(SockError) -> IOResult<Int> in
                try sendVectors(
                    vector, count: 1, control: control, name: UnsafeRawPointer(name), nameLength: nameLength,
                    flags: flags, deadline: deadline)
            }
        }
    }

    /// Sends several buffers as one message (gather I/O), with optional
    /// control data, on a connected socket.
    ///
    /// `buffers` can be any collection of buffer pointers, for example an
    /// `UnsafeBufferPointer` or `CollectionOfOne`; its elements are copied
    /// into an `iovec` array on the stack (up to 64 buffers; more spill to
    /// the heap; the kernel accepts up to 1024).
    ///
    /// - Parameters:
    ///   - buffers: The data, in order.
    ///   - control: Control messages (ancillary data), or empty.
    ///   - flags: `sendmsg` flags; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of data bytes sent, or would-block.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendMessage<Buffers: Collection<UnsafeRawBufferPointer>>(
        _ buffers: Buffers,
        control: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        flags: CInt = 0,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try withIovecs(buffers) { vectors, count throws(SockError) -> IOResult<Int> in
            try sendVectors(vectors, count: count, control: control, name: nil, nameLength: 0, flags: flags, deadline: deadline)
        }
    }

    /// Sends several buffers as one message (gather I/O), with optional
    /// control data, to `address`.
    ///
    /// - Parameters:
    ///   - buffers: The data, in order.
    ///   - control: Control messages (ancillary data), or empty.
    ///   - address: The destination.
    ///   - flags: `sendmsg` flags; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of data bytes sent, or would-block.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendMessage<Buffers: Collection<UnsafeRawBufferPointer>, Address: SocketAddress>(
        _ buffers: Buffers,
        control: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        to address: Address,
        flags: CInt = 0,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try withIovecs(buffers) { vectors, count throws(SockError) -> IOResult<Int> in
            try address.withSockaddrPointer { (name, nameLength) throws(SockError) -> IOResult<Int> in
                try sendVectors(
                    vectors, count: count, control: control, name: UnsafeRawPointer(name), nameLength: nameLength,
                    flags: flags, deadline: deadline)
            }
        }
    }

    // MARK: Receiving

    /// Receives one message into `buffer`, with its control data into
    /// `control` and the sender's address.
    ///
    /// Truncation is reported in the result: ``ReceivedMessage/isTruncated``
    /// (`MSG_TRUNC`: a datagram was longer than `buffer`) and
    /// ``ReceivedMessage/isControlTruncated`` (`MSG_CTRUNC`: `control` was
    /// too small). Size `control` with the space helpers of
    /// ``ControlMessageBuilder`` and parse it with
    /// ``ControlMessages/init(buffer:length:)-(UnsafeMutableRawBufferPointer,_)``. `MSG_CMSG_CLOEXEC` is always
    /// added, so descriptors received with `SCM_RIGHTS` are close-on-exec;
    /// they are the caller's to close.
    ///
    /// - Parameters:
    ///   - buffer: Where to store the data.
    ///   - control: Where to store control messages, or empty. Any alignment
    ///     works.
    ///   - flags: `recvmsg` flags, such as `MSG_PEEK`; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The received message's counts, flags and source, or
    ///   would-block.
    ///
    /// The corresponding C function is `recvmsg`.
    public func receiveMessage(
        into buffer: UnsafeMutableRawBufferPointer,
        control: UnsafeMutableRawBufferPointer = UnsafeMutableRawBufferPointer(start: nil, count: 0),
        flags: CInt = 0,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<ReceivedMessage> {
        var vector = Iovec(buffer)
        return try withUnsafeMutablePointer(to: &vector) { vector throws(SockError) -> IOResult<ReceivedMessage> in
            try receiveVectors(vector, count: 1, control: control, flags: flags, deadline: deadline)
        }
    }

    /// Receives one message scattered over several buffers (scatter I/O),
    /// with its control data and the sender's address.
    ///
    /// The buffers are filled in order; their elements are copied into an
    /// `iovec` array on the stack (up to 64 buffers). Otherwise as
    /// ``receiveMessage(into:control:flags:deadline:)``.
    ///
    /// - Parameters:
    ///   - buffers: Where to store the data, in order.
    ///   - control: Where to store control messages, or empty.
    ///   - flags: `recvmsg` flags; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The received message's counts, flags and source, or
    ///   would-block.
    ///
    /// The corresponding C function is `recvmsg`.
    public func receiveMessage<Buffers: Collection<UnsafeMutableRawBufferPointer>>(
        into buffers: Buffers,
        control: UnsafeMutableRawBufferPointer = UnsafeMutableRawBufferPointer(start: nil, count: 0),
        flags: CInt = 0,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<ReceivedMessage> {
        try withIovecs(buffers) { vectors, count throws(SockError) -> IOResult<ReceivedMessage> in
            try receiveVectors(vectors, count: count, control: control, flags: flags, deadline: deadline)
        }
    }
}

// MARK: - The pointer work

extension Iovec {
    /// An `iovec` over `buffer`.
    @inlinable
    internal init(_ buffer: UnsafeRawBufferPointer) {
        self.init()
        iov_base = UnsafeMutableRawPointer(mutating: buffer.baseAddress)
        iov_len = CUnsignedLong(buffer.count)
    }

    /// An `iovec` over `buffer`.
    @inlinable
    internal init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.init()
        iov_base = buffer.baseAddress
        iov_len = CUnsignedLong(buffer.count)
    }
}

/// Calls `body` with an `iovec` array (on the stack for up to 64 buffers)
/// describing `buffers`, and its length.
@inline(__always)
internal func withIovecs<Buffers: Collection, Result>(
    _ buffers: Buffers,
    _ body: (UnsafeMutablePointer<Iovec>, Int) throws(SockError) -> Result
) throws(SockError) -> Result where Buffers.Element == UnsafeRawBufferPointer {
    try withIovecArray(count: buffers.count, body) { vectors, count in
        fillIovecs(vectors, count: count, from: buffers) { Iovec($0) }
    }
}

/// Calls `body` with an `iovec` array (on the stack for up to 64 buffers)
/// describing `buffers`, and its length.
@inline(__always)
internal func withIovecs<Buffers: Collection, Result>(
    _ buffers: Buffers,
    _ body: (UnsafeMutablePointer<Iovec>, Int) throws(SockError) -> Result
) throws(SockError) -> Result where Buffers.Element == UnsafeMutableRawBufferPointer {
    try withIovecArray(count: buffers.count, body) { vectors, count in
        fillIovecs(vectors, count: count, from: buffers) { Iovec($0) }
    }
}

/// A temporary `iovec` array of `count` elements, filled by `fill` (which
/// returns how many it filled), handed to `body`.
@inline(__always)
private func withIovecArray<Result>(
    count: Int,
    _ body: (UnsafeMutablePointer<Iovec>, Int) throws(SockError) -> Result,
    fill: (UnsafeMutableBufferPointer<Iovec>, Int) -> Int
) throws(SockError) -> Result {
    try withUnsafeTemporaryAllocation(of: Iovec.self, capacity: Swift.max(count, 1)) {
        vectors throws(SockError) -> Result in
        try body(vectors.baseAddress!, fill(vectors, count))
    }
}

/// Initialises up to `count` vectors from `buffers`; returns how many. A
/// contiguous collection (an array, a buffer pointer) is read as a buffer,
/// without the generic subscript (whose unspecialised form allocates in
/// debug builds).
@inline(__always)
private func fillIovecs<Buffers: Collection>(
    _ vectors: UnsafeMutableBufferPointer<Iovec>, count: Int, from buffers: Buffers,
    _ makeIovec: (Buffers.Element) -> Iovec
) -> Int {
    let contiguous = buffers.withContiguousStorageIfAvailable { elements in
        let filled = Swift.min(elements.count, count)
        for index in 0 ..< filled {
            vectors.initializeElement(at: index, to: makeIovec(elements[index]))
        }
        return filled
    }
    if let contiguous {
        return contiguous
    }
    var filled = 0
    for buffer in buffers where filled < count {
        vectors.initializeElement(at: filled, to: makeIovec(buffer))
        filled += 1
    }
    return filled
}

extension Descriptor {
    /// `sendmsg` over `count` vectors, with control data and an optional
    /// destination, waiting until `deadline`. Every send of this file ends
    /// here.
    internal func sendVectors(
        _ vectors: UnsafeMutablePointer<Iovec>, count: Int,
        control: UnsafeRawBufferPointer,
        name: UnsafeRawPointer?, nameLength: socklen_t,
        flags: CInt, deadline: Deadline
    ) throws(SockError) -> IOResult<Int> {
        var header = Msghdr()
        header.msg_name = UnsafeMutableRawPointer(mutating: name)
        header.msg_namelen = name == nil ? 0 : nameLength
        header.msg_iov = vectors
        header.msg_iovlen = CUnsignedLong(count)
        if control.count > 0 {
            header.msg_control = UnsafeMutableRawPointer(mutating: control.baseAddress)
            header.msg_controllen = CUnsignedLong(control.count)
        }
        return try withUnsafePointer(to: &header) { pointer throws(SockError) -> IOResult<Int> in
            try adaptive(events: SockBindings.POLLOUT, deadline: deadline) { fd in
                Attempt(Syscall.sendmsg(fd, UnsafeRawPointer(pointer), flags))
            }
        }
    }

    /// `recvmsg` into `count` vectors with a control buffer and a stack
    /// buffer for the sender's address, waiting until `deadline`; decodes
    /// the result. Every receive of this file ends here.
    internal func receiveVectors(
        _ vectors: UnsafeMutablePointer<Iovec>, count: Int,
        control: UnsafeMutableRawBufferPointer,
        flags: CInt, deadline: Deadline
    ) throws(SockError) -> IOResult<ReceivedMessage> {
        var name = RawSockaddrAny()
        let nameCapacity = UInt32(MemoryLayout<RawSockaddrAny>.size)
        var header = Msghdr()
        let received = try withUnsafeMutableBytes(of: &name) { nameBytes throws(SockError) -> IOResult<Int> in
            header.msg_iov = vectors
            header.msg_iovlen = CUnsignedLong(count)
            header.msg_name = nameBytes.baseAddress
            if control.count > 0 {
                header.msg_control = control.baseAddress
            }
            return try withUnsafeMutablePointer(to: &header) { pointer throws(SockError) -> IOResult<Int> in
                try adaptive(events: SockBindings.POLLIN, deadline: deadline) { fd in
                    // The kernel rewrites these on success; reset them for
                    // every attempt.
                    pointer.pointee.msg_namelen = nameCapacity
                    pointer.pointee.msg_controllen = CUnsignedLong(control.count)
                    pointer.pointee.msg_flags = 0
                    return Attempt(Syscall.recvmsg(fd, UnsafeMutableRawPointer(pointer), flags))
                }
            }
        }
        switch received {
        case .wouldBlock:
            return .wouldBlock
        case .completed(let bytes):
            var source: AnySocketAddress? = nil
            if header.msg_namelen >= UInt32(MemoryLayout<UInt16>.size) {
                source = try? AnySocketAddress(decoding: name, length: socklen_t(header.msg_namelen))
            }
            return .completed(ReceivedMessage(
                count: bytes,
                // The kernel echoes MSG_CMSG_CLOEXEC, which Sock itself
                // passes on every receive; it says nothing about the message.
                flags: header.msg_flags & ~SockBindings.MSG_CMSG_CLOEXEC,
                controlLength: control.count > 0 ? Swift.min(Int(header.msg_controllen), control.count) : 0,
                source: source))
        }
    }
}
