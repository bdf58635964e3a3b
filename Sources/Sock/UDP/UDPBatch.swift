// UDP batching: many datagrams per system call (sendmmsg/recvmmsg) over a
// caller-owned, reusable batch, with per-message buffers, addresses, control
// data (GSO per message, GRO segment sizes) and results.
//
// The Go reference's SendMessages/RecvMessages `make` their mmsghdr and iovec
// arrays on every call. Here a
// `UDPMessageBatch` allocates its arrays once, at init, and every call
// reuses them: a steady-state batch call allocates nothing.
//
// Layout of a batch (all allocated in `init`, freed in `deinit`):
//
//     headers          capacity × Mmsghdr      scratch, rebuilt per call;
//                                              holds the last receive's results
//     receiveVectors   capacity × Iovec        where message i is received
//     receiveNames     capacity × RawSockaddrAny   sources (kernel-written)
//     receiveControl   capacity × controlStride    received control data
//     sendVectors      capacity × Iovec        what message i sends
//     sendNames        capacity × RawSockaddrAny   destinations
//     sendNameLengths  capacity × socklen_t    0: no destination (connected)
//     sendControl      capacity × controlStride    control data to send
//     sendControlLengths capacity × Int
//
// Receive and send configuration are kept apart, so one batch can receive
// and then echo (set the messages to send from what arrived) without one
// overwriting the other.
//
// The hot entry points carry `@_specialize(exported: true, …)` for both
// address types, as UDPConn.swift does, so callers in other modules reach
// code specialised for SockaddrInet4/6.
//
// All pointer work is in this file, in the batch's own methods.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

// MARK: - One received message

/// What one message of a batch receive produced (see
/// ``UDPMessageBatch/message(at:)``).
public struct UDPBatchMessage<Address: IPSocketAddress>: Hashable, Sendable, BitwiseCopyable {
    /// The number of bytes stored in the message's receive buffer.
    public var count: Int

    /// The full length of the datagram (with `UDP_GRO`, of the coalesced
    /// datagrams); larger than ``count`` when it was truncated.
    public var length: Int

    /// The sender, decoded from the kernel's address in place; `nil` when the
    /// kernel reported none.
    public var source: Address?

    /// The received message flags (`msg_flags`), such as `MSG_TRUNC` or
    /// `MSG_CTRUNC`.
    public var flags: CInt

    /// The number of control-data bytes received (parse them with
    /// ``UDPMessageBatch/controlMessages(at:)``).
    public var controlLength: Int

    /// The segment size of a coalesced receive (`UDP_GRO` control message):
    /// the datagram is several datagrams of this size (the last may be
    /// shorter) that arrived together. `nil` for a single datagram.
    public var segmentSize: Int?

    /// Creates a value from its parts.
    public init(count: Int, length: Int, source: Address?, flags: CInt, controlLength: Int, segmentSize: Int?) {
        self.count = count
        self.length = length
        self.source = source
        self.flags = flags
        self.controlLength = controlLength
        self.segmentSize = segmentSize
    }

    /// Whether the datagram was longer than the buffer (`MSG_TRUNC`): only
    /// ``count`` of its ``length`` bytes were kept.
    @inlinable
    public var isTruncated: Bool { flags & SockBindings.MSG_TRUNC != 0 || length > count }

    /// Whether control data was lost because the message's control space was
    /// too small (`MSG_CTRUNC`).
    @inlinable
    public var isControlTruncated: Bool { flags & SockBindings.MSG_CTRUNC != 0 }
}

// MARK: - The batch

/// A reusable set of message slots for sending or receiving many UDP
/// datagrams with one system call (`sendmmsg`, `recvmmsg`), allocated once.
///
/// Create one per socket and reuse it: the header, vector, address and
/// control arrays for ``capacity`` messages are allocated by the initializer
/// and freed when the batch goes away, and nothing is allocated per call.
/// The data buffers are yours: point each slot at one with
/// ``setReceiveBuffer(_:at:)`` (receiving) or ``setMessage(_:to:at:)``
/// (sending).
///
/// Receiving:
///
/// ```swift
/// var batch = try UDPMessageBatch<SockaddrInet4>(capacity: 32)
/// for i in 0..<32 { try batch.setReceiveBuffer(buffers[i], at: i) }
/// if case .completed(let n) = try conn.receiveMessages(&batch) {
///     for i in 0..<n {
///         let message = batch.message(at: i)!
///         handle(buffers[i].prefix(message.count), from: message.source!)
///     }
/// }
/// ```
///
/// Sending:
///
/// ```swift
/// for i in 0..<n { try batch.setMessage(replies[i], to: peers[i], at: i) }
/// let sent = try conn.sendMessages(&batch, count: n)   // may be fewer than n
/// ```
///
/// Per-message control data: give the batch ``controlSpace`` bytes per
/// message. For receiving, every slot gets that much (size it for what you
/// enabled, such as ``groControlSpace`` for `UDP_GRO`); for sending, attach
/// control messages with ``setSegmentSize(_:at:)`` (GSO) or
/// ``setControl(_:at:)``.
///
/// A batch is not copyable (it owns its arrays) and is passed `inout` to the
/// socket calls, which use it as scratch space.
public struct UDPMessageBatch<Address: IPSocketAddress>: ~Copyable {
    /// The number of message slots.
    public let capacity: Int

    /// The control-data bytes available to each message.
    public let controlSpace: Int

    /// How many messages the last receive filled (0 before the first, and
    /// after a send).
    public private(set) var receivedCount: Int

    private let controlStride: Int
    private let headers: UnsafeMutablePointer<Mmsghdr>
    private let receiveVectors: UnsafeMutablePointer<Iovec>
    private let receiveNames: UnsafeMutablePointer<RawSockaddrAny>
    private let receiveControl: UnsafeMutableRawPointer?
    private let sendVectors: UnsafeMutablePointer<Iovec>
    private let sendNames: UnsafeMutablePointer<RawSockaddrAny>
    private let sendNameLengths: UnsafeMutablePointer<socklen_t>
    private let sendControl: UnsafeMutableRawPointer?
    private let sendControlLengths: UnsafeMutablePointer<Int>

    /// The control space one `UDP_GRO` control message needs per message
    /// (an `int`): 24 bytes.
    @inlinable
    public static var groControlSpace: Int { ControlMessageBuilder.integerSpace }

    /// The control space one `UDP_SEGMENT` control message needs per
    /// message (a `UInt16`): 24 bytes.
    @inlinable
    public static var segmentControlSpace: Int { ControlMessageBuilder.segmentSizeSpace }

    /// Allocates a batch of `capacity` message slots, each with
    /// `controlSpace` bytes of control data (0: none).
    ///
    /// The kernel handles at most 1024 messages per call (`UIO_MAXIOV`); a
    /// larger batch is served over several calls.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a capacity below 1 or
    ///   above `UInt32.max`, or a negative control space.
    public init(capacity: Int, controlSpace: Int = 0) throws(SockError) {
        guard capacity >= 1, capacity <= Int(CUnsignedInt.max), controlSpace >= 0 else { throw .invalidParameter }
        self.capacity = capacity
        self.controlSpace = controlSpace
        self.controlStride = cmsgAlign(controlSpace)
        self.receivedCount = 0

        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: Mmsghdr(), count: capacity)
        receiveVectors = .allocate(capacity: capacity)
        receiveVectors.initialize(repeating: Iovec(), count: capacity)
        receiveNames = .allocate(capacity: capacity)
        receiveNames.initialize(repeating: RawSockaddrAny(), count: capacity)
        sendVectors = .allocate(capacity: capacity)
        sendVectors.initialize(repeating: Iovec(), count: capacity)
        sendNames = .allocate(capacity: capacity)
        sendNames.initialize(repeating: RawSockaddrAny(), count: capacity)
        sendNameLengths = .allocate(capacity: capacity)
        sendNameLengths.initialize(repeating: 0, count: capacity)
        sendControlLengths = .allocate(capacity: capacity)
        sendControlLengths.initialize(repeating: 0, count: capacity)
        if controlStride > 0 {
            let bytes = capacity * controlStride
            let alignment = MemoryLayout<Cmsghdr>.alignment
            let receive = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
            receive.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            let send = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
            send.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            receiveControl = receive
            sendControl = send
        } else {
            receiveControl = nil
            sendControl = nil
        }
    }

    deinit {
        headers.deallocate()
        receiveVectors.deallocate()
        receiveNames.deallocate()
        sendVectors.deallocate()
        sendNames.deallocate()
        sendNameLengths.deallocate()
        sendControlLengths.deallocate()
        receiveControl?.deallocate()
        sendControl?.deallocate()
    }

    // MARK: Configuring receives

    /// Points slot `index` at `buffer` for receiving: the datagram that lands
    /// in this slot is stored there (a longer one is truncated and reported).
    /// The buffer must stay valid for every receive that uses the slot.
    /// With `UDP_GRO`, make it large enough for coalesced datagrams (64 KiB).
    ///
    /// - Throws: ``SockError/invalidParameter`` when `index` is outside
    ///   `0..<capacity`.
    public mutating func setReceiveBuffer(_ buffer: UnsafeMutableRawBufferPointer, at index: Int) throws(SockError) {
        try checkIndex(index)
        receiveVectors[index] = Iovec(buffer)
    }

    /// The receive buffer of slot `index` (empty when none was set or the
    /// index is out of range).
    public func receiveBuffer(at index: Int) -> UnsafeMutableRawBufferPointer {
        guard index >= 0, index < capacity, let base = receiveVectors[index].iov_base else {
            return UnsafeMutableRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeMutableRawBufferPointer(start: base, count: Int(receiveVectors[index].iov_len))
    }

    // MARK: Results of the last receive

    /// What the last receive stored in slot `index`, or `nil` when `index` is
    /// not below ``receivedCount``. The source address is decoded from the
    /// slot's storage without allocation.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func message(at index: Int) -> UDPBatchMessage<Address>? {
        guard index >= 0, index < receivedCount else { return nil }
        let header = headers[index]
        let length = Int(header.msg_len)
        let capacity = Int(receiveVectors[index].iov_len)
        var source: Address? = nil
        if header.msg_hdr.msg_namelen >= socklen_t(MemoryLayout<UInt16>.size) {
            let name = UnsafeRawBufferPointer(start: receiveNames + index, count: MemoryLayout<RawSockaddrAny>.size)
            source = try? Address(decoding: name, length: header.msg_hdr.msg_namelen)
        }
        let controlLength = receivedControlLength(header, at: index)
        return UDPBatchMessage(
            count: Swift.min(length, capacity),
            length: length,
            source: source,
            flags: header.msg_hdr.msg_flags & ~SockBindings.MSG_CMSG_CLOEXEC,
            controlLength: controlLength,
            segmentSize: groSegmentSize(at: index, length: controlLength))
    }

    /// The control messages the last receive stored in slot `index` (empty
    /// when there are none or `index` is not below ``receivedCount``). Valid
    /// until the next call that uses the batch.
    public func controlMessages(at index: Int) -> ControlMessages {
        guard index >= 0, index < receivedCount, let receiveControl else {
            return ControlMessages(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let length = receivedControlLength(headers[index], at: index)
        return ControlMessages(
            buffer: UnsafeRawBufferPointer(start: receiveControl + index * controlStride, count: controlSpace),
            length: length)
    }

    // MARK: Configuring sends

    /// Sets slot `index` to send `buffer` as one datagram to `destination`
    /// (`nil` on a connected socket: its peer), without control data. The
    /// buffer must stay valid until the send; the destination is copied.
    ///
    /// - Throws: ``SockError/invalidParameter`` when `index` is outside
    ///   `0..<capacity`.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public mutating func setMessage(_ buffer: UnsafeRawBufferPointer, to destination: Address? = nil, at index: Int) throws(SockError) {
        try checkIndex(index)
        sendVectors[index] = Iovec(buffer)
        sendControlLengths[index] = 0
        if let destination {
            let slot = UnsafeMutableRawPointer(sendNames + index)
            sendNameLengths[index] = destination.withSockaddrPointer { (pointer, length) -> socklen_t in
                let count = Swift.min(Int(length), MemoryLayout<RawSockaddrAny>.size)
                slot.copyMemory(from: UnsafeRawPointer(pointer), byteCount: count)
                return socklen_t(count)
            }
        } else {
            sendNameLengths[index] = 0
        }
    }

    /// Attaches a `UDP_SEGMENT` control message to slot `index` (set with
    /// ``setMessage(_:to:at:)`` first): the kernel sends the slot's buffer as
    /// datagrams of `segmentSize` bytes (the last may be shorter). `nil`
    /// removes the slot's control data. Needs ``segmentControlSpace`` bytes
    /// of ``controlSpace``.
    ///
    /// - Throws: ``SockError/invalidParameter`` for an index out of range or
    ///   a segment size outside 1...65535; ``SockError/messageTooLarge`` when
    ///   the control space is too small.
    public mutating func setSegmentSize(_ segmentSize: Int?, at index: Int) throws(SockError) {
        try checkIndex(index)
        guard let segmentSize else {
            sendControlLengths[index] = 0
            return
        }
        guard let size = UInt16(exactly: segmentSize), size > 0 else { throw .invalidParameter }
        var builder = ControlMessageBuilder(buffer: sendControlSlot(index))
        try builder.append(segmentSize: size)
        sendControlLengths[index] = builder.count
    }

    /// Copies `control` (built with ``ControlMessageBuilder``) into slot
    /// `index` as the control data to send with it; empty removes it.
    ///
    /// - Throws: ``SockError/invalidParameter`` for an index out of range;
    ///   ``SockError/messageTooLarge`` when `control` is larger than
    ///   ``controlSpace``.
    public mutating func setControl(_ control: UnsafeRawBufferPointer, at index: Int) throws(SockError) {
        try checkIndex(index)
        guard control.count <= controlSpace else { throw .messageTooLarge }
        if control.count > 0 {
            sendControlSlot(index).copyMemory(from: control)
        }
        sendControlLengths[index] = control.count
    }

    // MARK: Internals

    private func checkIndex(_ index: Int) throws(SockError) {
        guard index >= 0, index < capacity else { throw .invalidParameter }
    }

    private func sendControlSlot(_ index: Int) -> UnsafeMutableRawBufferPointer {
        guard let sendControl else { return UnsafeMutableRawBufferPointer(start: nil, count: 0) }
        return UnsafeMutableRawBufferPointer(start: sendControl + index * controlStride, count: controlSpace)
    }

    private func receivedControlLength(_ header: Mmsghdr, at index: Int) -> Int {
        receiveControl == nil ? 0 : Swift.min(Int(header.msg_hdr.msg_controllen), controlSpace)
    }

    /// The `UDP_GRO` segment size among slot `index`'s received control
    /// messages.
    private func groSegmentSize(at index: Int, length: Int) -> Int? {
        guard length > 0, let receiveControl else { return nil }
        let messages = ControlMessages(
            buffer: UnsafeRawBufferPointer(start: receiveControl + index * controlStride, count: controlSpace),
            length: length)
        for message in messages {
            if case .groSegmentSize(let size) = message { return Int(size) }
        }
        return nil
    }

    /// Fills the first `count` headers for a receive into the receive slots.
    fileprivate mutating func prepareReceive(count: Int) -> UnsafeMutablePointer<Mmsghdr> {
        receivedCount = 0
        for index in 0 ..< count {
            var header = Mmsghdr()
            header.msg_hdr.msg_name = UnsafeMutableRawPointer(receiveNames + index)
            header.msg_hdr.msg_namelen = socklen_t(MemoryLayout<RawSockaddrAny>.size)
            header.msg_hdr.msg_iov = receiveVectors + index
            header.msg_hdr.msg_iovlen = 1
            if let receiveControl {
                header.msg_hdr.msg_control = receiveControl + index * controlStride
                header.msg_hdr.msg_controllen = CUnsignedLong(controlSpace)
            }
            headers[index] = header
        }
        return headers
    }

    /// Records how many messages a receive filled.
    fileprivate mutating func finishReceive(count: Int) {
        receivedCount = count
    }

    /// Fills the first `count` headers for a send from the send slots.
    fileprivate mutating func prepareSend(count: Int) -> UnsafeMutablePointer<Mmsghdr> {
        receivedCount = 0
        for index in 0 ..< count {
            var header = Mmsghdr()
            if sendNameLengths[index] > 0 {
                header.msg_hdr.msg_name = UnsafeMutableRawPointer(sendNames + index)
                header.msg_hdr.msg_namelen = sendNameLengths[index]
            }
            header.msg_hdr.msg_iov = sendVectors + index
            header.msg_hdr.msg_iovlen = 1
            if let sendControl, sendControlLengths[index] > 0 {
                header.msg_hdr.msg_control = sendControl + index * controlStride
                header.msg_hdr.msg_controllen = CUnsignedLong(sendControlLengths[index])
            }
            headers[index] = header
        }
        return headers
    }
}

// MARK: - Sending and receiving

extension UDPConn {
    /// Sends the first `count` messages of `batch` (set with
    /// ``UDPMessageBatch/setMessage(_:to:at:)``) with one `sendmmsg`.
    ///
    /// Returns how many messages were sent, which may be fewer than `count`
    /// when the send buffer fills up: send the rest (slots from the returned
    /// number on) again. A failure on the first message is thrown; a failure
    /// on a later one ends the batch early, and the next call reports it.
    ///
    /// Deadline: the connection's write deadline (the overload with a `deadline`
    /// parameter takes another).
    /// Without one, ``IOResult/wouldBlock`` when not even the first message
    /// fits; with one, waits for room (Go: `SendMessagesAdaptive`) and throws
    /// ``SockError/timedOut``. `MSG_NOSIGNAL` is always passed. Allocates
    /// nothing.
    ///
    /// Go: `SendMessages` / `SendMessagesAdaptive` (which allocate the
    /// header arrays per call). The corresponding C function is `sendmmsg`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a `count` outside
    ///   `0...batch.capacity`; the kernel's errors as for
    ///   ``writeTo(_:address:)``.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func sendMessages(_ batch: inout UDPMessageBatch<Address>, count: Int) throws(SockError) -> IOResult<Int> {
        try sendMessages(&batch, count: count, deadline: deadlines.writeDeadline)
    }

    /// Sends the first `count` messages of `batch` like
    /// ``sendMessages(_:count:)``, with `deadline` instead of the
    /// connection's write deadline (``Deadline/none``: one non-blocking
    /// attempt).
    ///
    /// The corresponding C function is `sendmmsg`.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func sendMessages(
        _ batch: inout UDPMessageBatch<Address>, count: Int, deadline: Deadline
    ) throws(SockError) -> IOResult<Int> {
        guard count >= 0, count <= batch.capacity else { throw .invalidParameter }
        let headers = batch.prepareSend(count: count)
        if count == 0 {
            try descriptor.enter()
            descriptor.leave()
            return .completed(0)
        }
        let vectorCount = CUnsignedInt(count)
        let sent = try descriptor.adaptive(events: SockBindings.POLLOUT, deadline: deadline) { fd in
            Attempt(Syscall.sendmmsg(fd, headers, vectorCount, 0))
        }
        switch sent {
        case .completed(let messages): return .completed(Int(messages))
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Receives up to `count` datagrams (default: the batch's capacity) into
    /// the receive slots of `batch` with one `recvmmsg`, and returns how many
    /// arrived. Read each with ``UDPMessageBatch/message(at:)``: bytes
    /// stored, full length (truncation is reported), source address, flags
    /// and, with `UDP_GRO`, the segment size.
    ///
    /// The socket is non-blocking, so the call takes what is queued — at
    /// least one datagram, at most `count` — and returns. Deadline:
    /// the connection's read deadline (the overload with a `deadline` parameter
    /// takes another). Without one,
    /// ``IOResult/wouldBlock`` when nothing is queued; with one, waits for the
    /// first datagram (Go: `RecvMessagesAdaptive`) and throws
    /// ``SockError/timedOut``. Allocates nothing.
    ///
    /// Go: `RecvMessages` / `RecvMessagesAdaptive` (which allocate the
    /// header arrays per call). The corresponding C function is `recvmmsg`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a `count` outside
    ///   `1...batch.capacity`; the kernel's errors as for ``read(into:)``.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func receiveMessages(_ batch: inout UDPMessageBatch<Address>, count: Int? = nil) throws(SockError) -> IOResult<Int> {
        try receiveMessages(&batch, count: count, deadline: deadlines.readDeadline)
    }

    /// Receives up to `count` datagrams like ``receiveMessages(_:count:)``,
    /// with `deadline` instead of the connection's read deadline
    /// (``Deadline/none``: one non-blocking attempt).
    ///
    /// The corresponding C function is `recvmmsg`.
    @_specialize(exported: true, where Address == SockaddrInet4)
    @_specialize(exported: true, where Address == SockaddrInet6)
    public func receiveMessages(
        _ batch: inout UDPMessageBatch<Address>, count: Int? = nil, deadline: Deadline
    ) throws(SockError) -> IOResult<Int> {
        let count = count ?? batch.capacity
        guard count >= 1, count <= batch.capacity else { throw .invalidParameter }
        let headers = batch.prepareReceive(count: count)
        let vectorCount = CUnsignedInt(count)
        let received = try descriptor.adaptive(events: SockBindings.POLLIN, deadline: deadline) { fd in
            // MSG_TRUNC: each msg_len is the datagram's full length.
            Attempt(Syscall.recvmmsg(fd, headers, vectorCount, SockBindings.MSG_TRUNC))
        }
        switch received {
        case .completed(let messages):
            batch.finishReceive(count: Int(messages))
            return .completed(Int(messages))
        case .wouldBlock:
            return .wouldBlock
        }
    }
}
