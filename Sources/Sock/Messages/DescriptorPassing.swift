// Passing file descriptors over Unix sockets (SCM_RIGHTS): the Go
// reference's SendFDs/RecvFDs, made safe.
//
// - Received descriptors are close-on-exec: every recvmsg Sock makes passes
//   MSG_CMSG_CLOEXEC (Syscalls.swift).
// - Nothing leaks: descriptors that arrive beyond the capacity the caller
//   gave are closed at once and counted; MSG_CTRUNC (the kernel itself
//   dropped some) is reported.
// - A zero-byte send on a stream socket is refused: the kernel would report
//   success and deliver nothing, losing the descriptors (measured on Linux
//   6.x; the tests check it). On datagram and seqpacket sockets an
//   empty message carries descriptors fine.
// - At most 253 descriptors per message (the kernel's SCM_MAX_FD).
// - The control buffer lives on the stack (`withControlBuffer`): at most
//   1064 bytes, for 253 descriptors plus room for credentials.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// The outcome of a completed
/// ``Descriptor/receiveDescriptors(into:data:flags:deadline:)``.
public struct ReceivedDescriptors: Hashable, Sendable {
    /// The number of data bytes received.
    public var count: Int

    /// The number of descriptors stored at the start of the caller's buffer.
    /// They are close-on-exec, and the caller's to close.
    public var descriptorCount: Int

    /// The number of descriptors that arrived beyond the caller's capacity;
    /// Sock closed them.
    public var discardedCount: Int

    /// The received message flags (`msg_flags`).
    public var flags: CInt

    /// Creates a value from its parts.
    @inlinable
    public init(count: Int, descriptorCount: Int, discardedCount: Int, flags: CInt) {
        self.count = count
        self.descriptorCount = descriptorCount
        self.discardedCount = discardedCount
        self.flags = flags
    }

    /// Whether the data were longer than the data buffer (`MSG_TRUNC`, on
    /// datagram sockets).
    @inlinable
    public var isTruncated: Bool { flags & SockBindings.MSG_TRUNC != 0 }

    /// Whether the kernel dropped control data (`MSG_CTRUNC`): descriptors
    /// that did not fit were closed by the kernel and never counted.
    @inlinable
    public var isControlTruncated: Bool { flags & SockBindings.MSG_CTRUNC != 0 }

    /// Whether any descriptor the peer sent was not handed to the caller
    /// (``discardedCount`` > 0 or ``isControlTruncated``).
    @inlinable
    public var lostDescriptors: Bool { discardedCount > 0 || isControlTruncated }
}

extension Descriptor {
    // MARK: Sending

    /// Sends the descriptors `fds` with `data` on a connected Unix socket:
    /// the Go reference's `SendFDs`.
    ///
    /// The peer receives duplicates of the descriptors (use
    /// ``receiveDescriptors(into:data:flags:deadline:)``); the originals stay
    /// open here. Nothing is allocated: the control buffer is on the stack.
    ///
    /// - Parameters:
    ///   - fds: Up to 253 open descriptors.
    ///   - data: The bytes to send with them. On a stream socket at least
    ///     one byte is required; on datagram and seqpacket sockets an empty
    ///     message is fine.
    ///   - flags: `sendmsg` flags; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of data bytes sent, or would-block (nothing was
    ///   sent).
    /// - Throws: ``SockError/invalidParameter`` for more than 253
    ///   descriptors, a negative one, or empty `data` on a stream socket
    ///   (where the kernel would silently drop the descriptors);
    ///   ``SockError/closed`` (`EBADF`) for a descriptor that is not open.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendDescriptors<FDs: Collection<CInt>>(
        _ fds: FDs, data: UnsafeRawBufferPointer, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try sendRights(fds, data: data, name: nil, nameLength: 0, flags: flags, deadline: deadline)
    }

    /// Sends the descriptors `fds` with `data` to `address` (on an
    /// unconnected Unix datagram socket). Otherwise as
    /// ``sendDescriptors(_:data:flags:deadline:)-(FDs,_,_,_)``.
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendDescriptors<FDs: Collection<CInt>, Address: SocketAddress>(
        _ fds: FDs, data: UnsafeRawBufferPointer, to address: Address, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try address.withSockaddrPointer { (name, nameLength) throws(SockError) -> IOResult<Int> in
            try sendRights(fds, data: data, name: UnsafeRawPointer(name), nameLength: nameLength, flags: flags, deadline: deadline)
        }
    }

    /// Sends the descriptors owned by `descriptors` with `data`, keeping each
    /// of them open (not closed, not reused) until the message is sent even
    /// if another thread closes it meanwhile. Otherwise as
    /// ``sendDescriptors(_:data:flags:deadline:)``.
    ///
    /// - Throws: ``SockError/closed`` when one of `descriptors` is already
    ///   closed (nothing is sent).
    ///
    /// The corresponding C function is `sendmsg`.
    public func sendDescriptors<Descriptors: Collection<Descriptor>>(
        _ descriptors: Descriptors, data: UnsafeRawBufferPointer, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        let number = descriptors.count
        guard number <= ControlMessageBuilder.maximumRightsCount else { throw .invalidParameter }
        // An array (or any contiguous collection) is walked as a buffer: the
        // generic subscript allocates in unoptimised builds.
        let contiguous = descriptors.withContiguousStorageIfAvailable { owned in
            Result { () throws(SockError) -> IOResult<Int> in
                try sendPinned(owned, data: data, flags: flags, deadline: deadline)
            }
        }
        if let contiguous {
            return try contiguous.get()
        }
        // Other collections are copied first (this allocates).
        let copy = Array(descriptors)
        return try copy.withUnsafeBufferPointer { owned in
            Result { () throws(SockError) -> IOResult<Int> in
                try sendPinned(owned, data: data, flags: flags, deadline: deadline)
            }
        }.get()
    }

    /// Pins each of `owned` (so none can be closed and reused meanwhile),
    /// collects their numbers in a stack buffer and sends them.
    private func sendPinned(
        _ owned: UnsafeBufferPointer<Descriptor>, data: UnsafeRawBufferPointer, flags: CInt, deadline: Deadline
    ) throws(SockError) -> IOResult<Int> {
        try withUnsafeTemporaryAllocation(of: CInt.self, capacity: Swift.max(owned.count, 1)) {
            fds throws(SockError) -> IOResult<Int> in
            var pinned = 0
            defer {
                for index in 0 ..< pinned {
                    owned[index].leave()
                }
            }
            for index in 0 ..< owned.count {
                try owned[index].enter()
                fds.initializeElement(at: index, to: owned[index].rawValue)
                pinned += 1
            }
            return try sendRights(
                UnsafeBufferPointer(rebasing: fds[0 ..< pinned]), data: data, name: nil, nameLength: 0,
                flags: flags, deadline: deadline)
        }
    }

    // MARK: Receiving

    /// Receives data and the descriptors passed with them on a Unix socket:
    /// the Go reference's `RecvFDs`, without allocation and without leaks.
    ///
    /// - Descriptors are stored at the start of `fds` (at most 253) and are
    ///   close-on-exec (`MSG_CMSG_CLOEXEC`); they are yours to close.
    /// - Descriptors beyond `fds.count` are closed at once and counted in
    ///   ``ReceivedDescriptors/discardedCount``; if the kernel itself had to
    ///   drop some, ``ReceivedDescriptors/isControlTruncated`` is set.
    /// - The control buffer is on the stack, with room for `fds.count`
    ///   descriptors and for credentials (when the socket has
    ///   `SO_PASSCRED`), which are skipped.
    ///
    /// On a stream socket pass a `data` buffer of at least one byte: the
    /// descriptors travel with the first byte of their message.
    ///
    /// - Parameters:
    ///   - fds: Where to store the received descriptors.
    ///   - data: Where to store the data.
    ///   - flags: `recvmsg` flags; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The counts and flags, or would-block.
    ///
    /// The corresponding C function is `recvmsg`.
    public func receiveDescriptors(
        into fds: UnsafeMutableBufferPointer<CInt>,
        data: UnsafeMutableRawBufferPointer,
        flags: CInt = 0,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<ReceivedDescriptors> {
        let capacity = Swift.min(fds.count, ControlMessageBuilder.maximumRightsCount)
        let space = ControlMessageBuilder.space(forRights: capacity) + ControlMessageBuilder.credentialsSpace
        return try withControlBuffer(byteCount: space) { control throws(SockError) -> IOResult<ReceivedDescriptors> in
            var vector = Iovec(data)
            let received = try withUnsafeMutablePointer(to: &vector) { vector throws(SockError) -> IOResult<ReceivedMessage> in
                try receiveVectors(vector, count: 1, control: control, flags: flags, deadline: deadline)
            }
            guard case .completed(let message) = received else {
                return .wouldBlock
            }
            var stored = 0
            var discarded = 0
            for controlMessage in ControlMessages(buffer: control, length: message.controlLength) {
                guard case .rights(let rights) = controlMessage else { continue }
                for fd in rights {
                    if stored < capacity {
                        fds[stored] = fd
                        stored += 1
                    } else {
                        _ = Syscall.close(fd)
                        discarded += 1
                    }
                }
            }
            return .completed(ReceivedDescriptors(
                count: message.count, descriptorCount: stored, discardedCount: discarded, flags: message.flags))
        }
    }

    /// Receives data and up to `maximumCount` passed descriptors, each
    /// wrapped in an owning ``Descriptor`` (the Go reference's `RecvFDs`,
    /// which returns a slice). Allocates the array and the descriptors; for a
    /// hot path use ``receiveDescriptors(into:data:flags:deadline:)``.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative
    ///   `maximumCount`.
    ///
    /// The corresponding C function is `recvmsg`.
    public func receiveDescriptors(
        upTo maximumCount: Int,
        data: UnsafeMutableRawBufferPointer,
        flags: CInt = 0,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<(ReceivedDescriptors, [Descriptor])> {
        guard maximumCount >= 0 else { throw .invalidParameter }
        let capacity = Swift.min(maximumCount, ControlMessageBuilder.maximumRightsCount)
        return try withUnsafeTemporaryAllocation(of: CInt.self, capacity: Swift.max(capacity, 1)) {
            fds throws(SockError) -> IOResult<(ReceivedDescriptors, [Descriptor])> in
            let slots = UnsafeMutableBufferPointer(rebasing: fds[0 ..< capacity])
            switch try receiveDescriptors(into: slots, data: data, flags: flags, deadline: deadline) {
            case .wouldBlock:
                return .wouldBlock
            case .completed(let received):
                let owned = slots.prefix(received.descriptorCount).map { Descriptor(adopting: $0) }
                return .completed((received, owned))
            }
        }
    }

    // MARK: Internals

    /// One `SCM_RIGHTS` message with `data`, to `name` when given.
    internal func sendRights<FDs: Collection<CInt>>(
        _ fds: FDs, data: UnsafeRawBufferPointer,
        name: UnsafeRawPointer?, nameLength: socklen_t,
        flags: CInt, deadline: Deadline
    ) throws(SockError) -> IOResult<Int> {
        let number = fds.count
        guard number <= ControlMessageBuilder.maximumRightsCount else { throw .invalidParameter }
        if data.isEmpty && number > 0 {
            try refuseEmptyStreamMessage()
        }
        return try withControlBuffer(byteCount: ControlMessageBuilder.space(forRights: number)) {
            buffer throws(SockError) -> IOResult<Int> in
            var builder = ControlMessageBuilder(buffer: buffer)
            if number > 0 {
                try builder.append(rights: fds)
            }
            var vector = Iovec(data)
            return try withUnsafeMutablePointer(to: &vector) { vector throws(SockError) -> IOResult<Int> in
                try sendVectors(
                    vector, count: 1, control: builder.bytes, name: name, nameLength: nameLength,
                    flags: flags, deadline: deadline)
            }
        }
    }

    /// Throws ``SockError/invalidParameter`` on a stream socket, where a
    /// zero-byte `sendmsg` with descriptors "succeeds" and delivers nothing.
    private func refuseEmptyStreamMessage() throws(SockError) {
        let type = try option(.socketType)
        if type == Int(SockBindings.SOCK_STREAM) {
            throw .invalidParameter
        }
    }
}

/// Calls `body` with an uninitialised control buffer of exactly `byteCount`
/// bytes, aligned to 8, on the stack: a temporary allocation up to 1 KiB
/// (always on the stack), else an inline array of 1088 bytes (the largest
/// Sock needs is 1064: 253 descriptors and credentials). Larger requests,
/// which Sock never makes, go to the heap.
@inline(__always)
internal func withControlBuffer<Result>(
    byteCount: Int, _ body: (UnsafeMutableRawBufferPointer) throws(SockError) -> Result
) throws(SockError) -> Result {
    if byteCount <= 1024 {
        return try withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 8) {
            buffer throws(SockError) -> Result in
            try body(buffer)
        }
    }
    if byteCount <= 1088 {
        var storage = InlineArray<136, UInt64>(repeating: 0)
        return try withUnsafeMutableBytes(of: &storage) { buffer throws(SockError) -> Result in
            try body(UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< byteCount]))
        }
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 8)
    defer { buffer.deallocate() }
    return try body(buffer)
}
