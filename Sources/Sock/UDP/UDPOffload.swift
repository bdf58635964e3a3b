// UDP segmentation offload (GSO, UDP_SEGMENT) and receive offload (GRO,
// UDP_GRO): one system call moves many datagrams' worth of bytes.
//
// - GSO send: one buffer plus a segment size; the kernel (or the NIC) cuts it
//   into datagrams of that size. Per call with a UDP_SEGMENT control message
//   (`writeSegmented`), or for every send with the socket option
//   (the key `.segmentSize`).
// - GRO receive: with UDP_GRO on, the kernel may hand over several
//   datagrams of one flow as one coalesced read, and says how big each was
//   in a UDP_GRO control message (`readCoalesced`'s `segmentSize`). On
//   loopback a GSO send reaches a GRO receiver whole (one read, segment size
//   reported); separately sent datagrams are not coalesced (GRO runs in a
//   NIC's receive path).
//
// Nothing here allocates: the control buffers live on the stack.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// What one ``UDPConn/readCoalesced(into:)`` produced: the bytes stored, the
/// sender, and — when the kernel coalesced several datagrams (`UDP_GRO`) —
/// their segment size.
public struct UDPCoalescedRead<Address: IPSocketAddress>: Hashable, Sendable, BitwiseCopyable {
    /// The number of bytes stored in the buffer.
    public var count: Int

    /// The full length of what arrived; larger than ``count`` when the buffer
    /// was too small (the rest is lost).
    public var length: Int

    /// The sender's address (every coalesced datagram has the same).
    public var from: Address

    /// The size of each coalesced datagram (the kernel's `gso_size`, from the
    /// `UDP_GRO` control message); the last may be shorter. `nil` when a
    /// single datagram arrived.
    public var segmentSize: Int?

    /// Creates a value from its parts.
    public init(count: Int, length: Int, from: Address, segmentSize: Int?) {
        self.count = count
        self.length = length
        self.from = from
        self.segmentSize = segmentSize
    }

    /// Whether the buffer was too small for what arrived.
    @inlinable
    public var isTruncated: Bool { length > count }

    /// How many datagrams the read holds: `length` divided by
    /// ``segmentSize``, rounded up; 1 for a single datagram.
    @inlinable
    public var segmentCount: Int {
        guard let segmentSize, segmentSize > 0 else { return 1 }
        return (length + segmentSize - 1) / segmentSize
    }
}

// MARK: - GSO send, GRO receive

extension UDPConn {
    /// Sends `buffer` as datagrams of `segmentSize` bytes (the last may be
    /// shorter) to `address`, with one `sendmsg` carrying a `UDP_SEGMENT`
    /// control message (generic segmentation offload).
    ///
    /// The kernel limits a GSO send to 64 segments (128 on recent kernels)
    /// and to 64 KiB in total, and each segment to the path MTU. Waiting
    /// and `MSG_NOSIGNAL` are as for ``writeTo(_:address:)``. Allocates
    /// nothing.
    ///
    /// - Returns: `buffer.count` when sent, or would-block.
    /// - Throws: ``SockError/invalidParameter`` for a segment size outside
    ///   1...65535 or too many segments; ``SockError/messageTooLarge`` for a
    ///   segment larger than the path MTU or a buffer above 64 KiB.
    ///
    /// The corresponding C function is `sendmsg`.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func writeSegmented(
        _ buffer: UnsafeRawBufferPointer, segmentSize: Int, to address: Address
    ) throws(SockError) -> IOResult<Int> {
        try withSegmentControl(segmentSize) { control throws(SockError) in
            try descriptor.sendMessage(buffer, control: control, to: address, deadline: deadlines.writeDeadline)
        }
    }

    /// Sends `buffer` as datagrams of `segmentSize` bytes to the connected
    /// peer (see ``writeSegmented(_:segmentSize:to:)``).
    ///
    /// - Throws: ``SockError/notConnected`` on an unconnected socket; as
    ///   ``writeSegmented(_:segmentSize:to:)`` otherwise.
    ///
    /// The corresponding C function is `sendmsg`.
    public func writeSegmented(_ buffer: UnsafeRawBufferPointer, segmentSize: Int) throws(SockError) -> IOResult<Int> {
        try withSegmentControl(segmentSize) { control throws(SockError) in
            try descriptor.sendMessage(buffer, control: control, deadline: deadlines.writeDeadline)
        }
    }

    /// Reads one datagram — or, with `UDP_GRO` on (the key `.genericReceiveOffload`),
    /// several coalesced ones — into `buffer`, with the sender and the
    /// segment size from the `UDP_GRO` control message.
    ///
    /// Use a 64 KiB buffer with GRO: a coalesced read larger than the buffer
    /// is truncated (``UDPCoalescedRead/isTruncated``). Waiting and errors
    /// are as for ``readDatagram(into:)``. Allocates nothing.
    ///
    /// The corresponding C function is `recvmsg`.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func readCoalesced(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> IOResult<UDPCoalescedRead<Address>> {
        var name = RawSockaddrAny()
        var vector = Iovec(buffer)
        return try withUnsafeMutableBytes(of: &name) { nameBytes throws(SockError) -> IOResult<UDPCoalescedRead<Address>> in
            try withUnsafeMutablePointer(to: &vector) { vector throws(SockError) -> IOResult<UDPCoalescedRead<Address>> in
                try withUnsafeTemporaryAllocation(
                    byteCount: ControlMessageBuilder.integerSpace, alignment: MemoryLayout<Cmsghdr>.alignment
                ) { control throws(SockError) -> IOResult<UDPCoalescedRead<Address>> in
                    var header = Msghdr()
                    header.msg_name = nameBytes.baseAddress
                    header.msg_namelen = socklen_t(nameBytes.count)
                    header.msg_iov = vector
                    header.msg_iovlen = 1
                    header.msg_control = control.baseAddress
                    header.msg_controllen = CUnsignedLong(control.count)
                    // MSG_TRUNC: the result is the full length.
                    let received = try descriptor.receiveMessage(
                        &header, flags: SockBindings.MSG_TRUNC, deadline: deadlines.readDeadline)
                    guard case .completed(let length) = received else { return .wouldBlock }
                    let from = try Address(decoding: UnsafeRawBufferPointer(nameBytes), length: header.msg_namelen)
                    var segmentSize: Int? = nil
                    let controlLength = Swift.min(Int(header.msg_controllen), control.count)
                    for message in ControlMessages(buffer: UnsafeRawBufferPointer(control), length: controlLength) {
                        if case .groSegmentSize(let size) = message { segmentSize = Int(size) }
                    }
                    return .completed(UDPCoalescedRead(
                        count: Swift.min(length, buffer.count), length: length, from: from, segmentSize: segmentSize))
                }
            }
        }
    }

    /// Calls `body` with a `UDP_SEGMENT` control message for `segmentSize`,
    /// built on the stack.
    private func withSegmentControl<Result>(
        _ segmentSize: Int, _ body: (UnsafeRawBufferPointer) throws(SockError) -> Result
    ) throws(SockError) -> Result {
        guard let size = UInt16(exactly: segmentSize), size > 0 else { throw .invalidParameter }
        return try withUnsafeTemporaryAllocation(
            byteCount: ControlMessageBuilder.segmentSizeSpace, alignment: MemoryLayout<Cmsghdr>.alignment
        ) { buffer throws(SockError) -> Result in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(segmentSize: size)
            return try body(builder.bytes)
        }
    }
}
