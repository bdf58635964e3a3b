// Control messages (ancillary data): a typed builder and a typed parser over
// caller-owned buffers, neither of which allocates.
//
// Layout follows the generated CMSG functions of SockBindings
// (`cmsgLen`, `cmsgSpace`, `cmsgAlign`): each message is a 16-byte
// `Cmsghdr` whose `cmsg_len` is `cmsgLen(dataLength)`, followed by the data,
// padded to `cmsgSpace(dataLength)`.
//
// The generated `cmsgFirstHeader`/`cmsgNextHeader` hand out typed
// `UnsafeMutablePointer<Cmsghdr>`s, which are only valid over 8-byte aligned
// buffers. The builder and parser here walk by byte offsets instead, with
// the same bounds checks as `cmsgNextHeader` (a header must fit; `cmsg_len`
// must be at least a header and must not run past the valid length; the
// next header starts at `cmsgAlign(cmsg_len)`), and read and write with
// unaligned loads and stores, so a buffer of any alignment works. The
// kernel does not require an aligned control buffer either.
//
// All byte access is in the two small `ControlMessageBytes` helpers at the
// end of this file.
import SockBindings

// MARK: - Builder

/// Builds control messages (ancillary data) for
/// ``Descriptor/sendMessage(_:control:flags:deadline:)-(UnsafeRawBufferPointer,_,_,_)`` in a buffer you
/// own, without allocating.
///
/// Size the buffer with the space helpers (the sum of the spaces of the
/// messages you append), append typed messages, then send ``bytes``:
///
/// ```swift
/// let space = ControlMessageBuilder.space(forRights: 2) + ControlMessageBuilder.credentialsSpace
/// try withUnsafeTemporaryAllocation(byteCount: space, alignment: 8) { buffer in
///     var builder = ControlMessageBuilder(buffer: buffer)
///     try builder.append(rights: [pipeRead, pipeWrite])
///     try builder.append(credentials: myCredentials)
///     _ = try socket.sendMessage(payload, control: builder.bytes)
/// }
/// ```
///
/// An append that does not fit throws ``SockError/messageTooLarge`` and
/// leaves the builder unchanged: control data is never truncated.
///
/// The Go reference builds control data with `UnixRights`,
/// `UnixCredentials`, `CmsgSpace`, `CmsgLen` and `CmsgData`; see
/// ``unixRights(_:)-(CInt...)`` and ``unixCredentials(_:)`` for allocating
/// equivalents.
public struct ControlMessageBuilder {
    /// The whole buffer the builder writes into.
    public let buffer: UnsafeMutableRawBufferPointer

    /// The number of bytes used so far: the sum of the spaces
    /// (`cmsgSpace`) of the appended messages.
    public private(set) var count: Int

    /// The most descriptors one `SCM_RIGHTS` message may carry
    /// (`SCM_MAX_FD` in the kernel, 253); the kernel rejects more with
    /// `EINVAL`.
    public static var maximumRightsCount: Int { 253 }

    /// Creates a builder over `buffer`, which the builder does not own and
    /// which must outlive every use of ``bytes``. Any alignment works.
    public init(buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        self.count = 0
    }

    /// The control data built so far, to pass as `control:` (it points into
    /// ``buffer``).
    @inlinable
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[0 ..< count])
    }

    /// The number of bytes still free.
    @inlinable
    public var remaining: Int { buffer.count - count }

    /// Forgets every appended message, to build a new set in the same buffer.
    public mutating func removeAll() {
        count = 0
    }

    // MARK: Space

    /// The buffer space one control message with `dataLength` data bytes
    /// takes, with padding (`CMSG_SPACE`).
    @inlinable
    public static func space(forDataLength dataLength: Int) -> Int {
        cmsgSpace(dataLength)
    }

    /// The space of an `SCM_RIGHTS` message carrying `count` descriptors:
    /// `cmsgSpace(4 * count)`.
    @inlinable
    public static func space(forRights count: Int) -> Int {
        cmsgSpace(MemoryLayout<CInt>.size * count)
    }

    /// The space of an `SCM_CREDENTIALS` message (a `Ucred`, 12 bytes): 32.
    @inlinable
    public static var credentialsSpace: Int { cmsgSpace(MemoryLayout<Ucred>.size) }

    /// The space of an `IP_PKTINFO` message (an `InPktinfo`, 12 bytes): 32.
    @inlinable
    public static var packetInfo4Space: Int { cmsgSpace(MemoryLayout<InPktinfo>.size) }

    /// The space of an `IPV6_PKTINFO` message (an `In6Pktinfo`, 20 bytes): 40.
    @inlinable
    public static var packetInfo6Space: Int { cmsgSpace(MemoryLayout<In6Pktinfo>.size) }

    /// The space of a message carrying one `int` (`IP_TOS`, `IP_TTL`,
    /// `IPV6_TCLASS`, `IPV6_HOPLIMIT`, `UDP_GRO`): 24.
    @inlinable
    public static var integerSpace: Int { cmsgSpace(MemoryLayout<CInt>.size) }

    /// The space of a `UDP_SEGMENT` message (a `UInt16`): 24.
    @inlinable
    public static var segmentSizeSpace: Int { cmsgSpace(MemoryLayout<UInt16>.size) }

    /// The space of an `SCM_TIMESTAMPNS` message (a `Timespec`): 32.
    @inlinable
    public static var timestampSpace: Int { cmsgSpace(MemoryLayout<Timespec>.size) }

    // MARK: Appending

    /// Appends a control message whose data are `data`.
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit
    ///   (nothing is written).
    public mutating func append(level: CInt, type: CInt, data: UnsafeRawBufferPointer) throws(SockError) {
        let offset = try reserve(level: level, type: type, dataLength: data.count)
        if data.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset ..< offset + data.count]).copyMemory(from: data)
        }
    }

    /// Appends a control message whose data are the bytes of `value` (any
    /// plain C structure or integer).
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append<Value: BitwiseCopyable>(level: CInt, type: CInt, value: Value) throws(SockError) {
        let offset = try reserve(level: level, type: type, dataLength: MemoryLayout<Value>.size)
        ControlMessageBytes.store(value, in: buffer, at: offset)
    }

    /// Appends an `SCM_RIGHTS` message passing the descriptors `rights` (to
    /// a Unix socket's peer). The descriptors must stay open until the
    /// message is sent.
    ///
    /// - Throws: ``SockError/invalidParameter`` for more than
    ///   ``maximumRightsCount`` (253) descriptors or a negative one;
    ///   ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append<Rights: Collection<CInt>>(rights: Rights) throws(SockError) {
        // Contiguous collections (arrays, buffer pointers) take the concrete
        // path, which does not go through the generic subscript (whose
        // unspecialised form allocates in debug builds).
        let contiguous = rights.withContiguousStorageIfAvailable { fds in
            appendRights(fds)
        }
        if let outcome = contiguous {
            if let error = outcome { throw error }
            return
        }
        let number = rights.count
        guard number <= Self.maximumRightsCount else { throw .invalidParameter }
        for fd in rights where fd < 0 {
            throw .invalidParameter
        }
        let offset = try reserve(
            level: SockBindings.SOL_SOCKET, type: SockBindings.SCM_RIGHTS, dataLength: MemoryLayout<CInt>.size * number)
        var position = offset
        for fd in rights {
            ControlMessageBytes.store(fd, in: buffer, at: position)
            position += MemoryLayout<CInt>.size
        }
    }

    /// ``append(rights:)`` for contiguous descriptors; returns the error
    /// instead of throwing it (it runs inside a `rethrows` closure).
    private mutating func appendRights(_ fds: UnsafeBufferPointer<CInt>) -> SockError? {
        guard fds.count <= Self.maximumRightsCount else { return .invalidParameter }
        for fd in fds where fd < 0 {
            return .invalidParameter
        }
        let offset: Int
        do {
            offset = try reserve(
                level: SockBindings.SOL_SOCKET, type: SockBindings.SCM_RIGHTS, dataLength: MemoryLayout<CInt>.size * fds.count)
        } catch {
            return error
        }
        if fds.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset ..< offset + MemoryLayout<CInt>.size * fds.count])
                .copyMemory(from: UnsafeRawBufferPointer(fds))
        }
        return nil
    }

    /// Appends an `SCM_CREDENTIALS` message (to a Unix socket whose peer set
    /// `SO_PASSCRED`). Unprivileged senders may only send their own pid,
    /// uid and gid.
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append(credentials: Ucred) throws(SockError) {
        try append(level: SockBindings.SOL_SOCKET, type: SockBindings.SCM_CREDENTIALS, value: credentials)
    }

    /// Appends an `IP_PKTINFO` message choosing the source address
    /// (`ipi_spec_dst`) and/or the outgoing interface (`ipi_ifindex`) of
    /// an IPv4 datagram.
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append(packetInfo: InPktinfo) throws(SockError) {
        try append(level: SockBindings.IPPROTO_IP, type: SockBindings.IP_PKTINFO, value: packetInfo)
    }

    /// Appends an `IPV6_PKTINFO` message choosing the source address and/or
    /// the outgoing interface of an IPv6 datagram.
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append(packetInfo: In6Pktinfo) throws(SockError) {
        try append(level: SockBindings.IPPROTO_IPV6, type: SockBindings.IPV6_PKTINFO, value: packetInfo)
    }

    /// Appends an `IP_TOS` message setting the type-of-service byte of one
    /// IPv4 datagram. Written as an `int`, which every Linux accepts.
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append(tos: UInt8) throws(SockError) {
        try append(level: SockBindings.IPPROTO_IP, type: SockBindings.IP_TOS, value: CInt(tos))
    }

    /// Appends an `IPV6_TCLASS` message setting the traffic class of one
    /// IPv6 datagram (0...255, or -1 for the socket's default).
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append(trafficClass: Int32) throws(SockError) {
        try append(level: SockBindings.IPPROTO_IPV6, type: SockBindings.IPV6_TCLASS, value: trafficClass)
    }

    /// Appends an `IP_TTL` message setting the time-to-live of one IPv4
    /// datagram (1...255).
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append(ttl: Int32) throws(SockError) {
        try append(level: SockBindings.IPPROTO_IP, type: SockBindings.IP_TTL, value: ttl)
    }

    /// Appends an `IPV6_HOPLIMIT` message setting the hop limit of one IPv6
    /// datagram (0...255, or -1 for the route's default).
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append(hopLimit: Int32) throws(SockError) {
        try append(level: SockBindings.IPPROTO_IPV6, type: SockBindings.IPV6_HOPLIMIT, value: hopLimit)
    }

    /// Appends a `UDP_SEGMENT` message (UDP generic segmentation offload):
    /// the kernel splits the datagram into datagrams of `segmentSize`
    /// bytes each (the last may be shorter).
    ///
    /// - Throws: ``SockError/messageTooLarge`` when the message does not fit.
    public mutating func append(segmentSize: UInt16) throws(SockError) {
        try append(level: SockBindings.SOL_UDP, type: SockBindings.UDP_SEGMENT, value: segmentSize)
    }

    /// Writes the header of a message with `dataLength` data bytes at the
    /// end, zeroes its padding, advances ``count`` and returns the offset of
    /// its data.
    private mutating func reserve(level: CInt, type: CInt, dataLength: Int) throws(SockError) -> Int {
        guard dataLength >= 0, dataLength <= buffer.count - count else { throw .messageTooLarge }
        let space = cmsgSpace(dataLength)
        guard space <= buffer.count - count else { throw .messageTooLarge }
        var header = Cmsghdr()
        header.cmsg_len = CUnsignedLong(cmsgLen(dataLength))
        header.cmsg_level = level
        header.cmsg_type = type
        ControlMessageBytes.store(header, in: buffer, at: count)
        let dataOffset = count + cmsgLen(0)
        let padding = count + space - (dataOffset + dataLength)
        if padding > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[dataOffset + dataLength ..< count + space])
                .initializeMemory(as: UInt8.self, repeating: 0)
        }
        count += space
        return dataOffset
    }
}

// MARK: - Parsed message

/// One control message (ancillary data) parsed by ``ControlMessages``.
///
/// The payloads are copied out as values, except ``rights(_:)`` and
/// ``other(level:type:data:)``, which are views into the control buffer and
/// valid only as long as it is.
public enum ControlMessage {
    /// `SCM_RIGHTS`: descriptors passed by the peer, already installed in
    /// this process (close-on-exec, since Sock always receives with
    /// `MSG_CMSG_CLOEXEC`). They are yours to close.
    case rights(Rights)
    /// `SCM_CREDENTIALS`: the sender's pid, uid and gid (with `SO_PASSCRED`).
    case credentials(Ucred)
    /// `IP_PKTINFO`: the interface a datagram arrived on, its destination
    /// address (`ipi_addr`) and the local address routing chose
    /// (`ipi_spec_dst`) (with `IP_PKTINFO` set).
    case packetInfo4(InPktinfo)
    /// `IPV6_PKTINFO`: the destination address and arrival interface (with
    /// `IPV6_RECVPKTINFO` set).
    case packetInfo6(In6Pktinfo)
    /// `IP_TOS`: the datagram's type-of-service byte (with `IP_RECVTOS`).
    case tos(UInt8)
    /// `IPV6_TCLASS`: the datagram's traffic class (with `IPV6_RECVTCLASS`).
    case trafficClass(Int32)
    /// `IP_TTL`: the datagram's time-to-live (with `IP_RECVTTL`).
    case ttl(Int32)
    /// `IPV6_HOPLIMIT`: the datagram's hop limit (with `IPV6_RECVHOPLIMIT`).
    case hopLimit(Int32)
    /// `SCM_TIMESTAMPNS`: when the datagram arrived, in `CLOCK_REALTIME`
    /// (with `SO_TIMESTAMPNS`).
    case timestampNS(Timespec)
    /// `UDP_SEGMENT`: a segment size (as sent with
    /// ``ControlMessageBuilder/append(segmentSize:)``).
    case segmentSize(UInt16)
    /// `UDP_GRO`: the datagram is several coalesced datagrams of this size
    /// each (the last may be shorter) (with `UDP_GRO` set).
    case groSegmentSize(Int32)
    /// Any other control message, or a known one whose length is not the
    /// expected one: its level, type and data (a view into the buffer).
    case other(level: CInt, type: CInt, data: UnsafeRawBufferPointer)

    /// The descriptors of an `SCM_RIGHTS` message: a view over the control
    /// buffer (no array), valid as long as the buffer is.
    public struct Rights: RandomAccessCollection {
        /// The message's data bytes (4 per descriptor).
        public let data: UnsafeRawBufferPointer

        /// A view over `data`, 4 bytes per descriptor (a trailing partial
        /// descriptor is ignored).
        @inlinable
        public init(data: UnsafeRawBufferPointer) {
            self.data = data
        }

        /// 0.
        @inlinable
        public var startIndex: Int { 0 }

        /// The number of descriptors.
        @inlinable
        public var endIndex: Int { data.count / MemoryLayout<CInt>.size }

        /// The descriptor at `position`.
        @inlinable
        public subscript(position: Int) -> CInt {
            precondition(position >= 0 && position < endIndex, "index out of range")
            return data.loadUnaligned(fromByteOffset: position * MemoryLayout<CInt>.size, as: CInt.self)
        }

        /// The position after `i`.
        @inlinable
        public func index(after i: Int) -> Int { i + 1 }

        /// The position before `i`.
        @inlinable
        public func index(before i: Int) -> Int { i - 1 }

        /// Walks the descriptors. (A concrete iterator: the generic
        /// `IndexingIterator` allocates in unoptimised builds.)
        public struct Iterator: IteratorProtocol {
            @usableFromInline let rights: Rights
            @usableFromInline var position: Int

            @inlinable
            init(rights: Rights) {
                self.rights = rights
                self.position = 0
            }

            /// The next descriptor, or `nil` after the last.
            @inlinable
            public mutating func next() -> CInt? {
                guard position < rights.endIndex else { return nil }
                defer { position += 1 }
                return rights[position]
            }
        }

        /// An iterator over the descriptors.
        @inlinable
        public func makeIterator() -> Iterator {
            Iterator(rights: self)
        }
    }
}

// MARK: - Parser

/// The control messages in a received control buffer, as a sequence of
/// typed ``ControlMessage`` values, parsed without allocating.
///
/// ```swift
/// let received = try socket.receiveMessage(into: data, control: control, deadline: .after(.seconds(1)))
/// for message in ControlMessages(buffer: UnsafeRawBufferPointer(control), length: received.value!.controlLength) {
///     switch message {
///     case .packetInfo4(let info): print("to", IPv4Address(info.ipi_addr))
///     case .rights(let fds): for fd in fds { adopt(fd) }
///     default: break
///     }
/// }
/// ```
///
/// A malformed buffer ends the sequence early (the checks of the generated
/// `cmsgNextHeader`); a known message with an unexpected length is reported
/// as ``ControlMessage/other(level:type:data:)``. The Go reference parses
/// with `ParseUnixRights` and `ParseUnixCredentials`; see
/// ``parseUnixRights(_:)`` and ``parseUnixCredentials(_:)-([UInt8])``.
public struct ControlMessages: Sequence {
    /// The valid control bytes.
    public let bytes: UnsafeRawBufferPointer

    /// Parses the first `length` bytes of `buffer` (`length` is clamped to
    /// the buffer: pass ``ReceivedMessage/controlLength``).
    @inlinable
    public init(buffer: UnsafeRawBufferPointer, length: Int) {
        let valid = Swift.max(0, Swift.min(length, buffer.count))
        self.bytes = UnsafeRawBufferPointer(rebasing: buffer[0 ..< valid])
    }

    /// Parses the first `length` bytes of `buffer`.
    @inlinable
    public init(buffer: UnsafeMutableRawBufferPointer, length: Int) {
        self.init(buffer: UnsafeRawBufferPointer(buffer), length: length)
    }

    /// Parses all of `bytes`, such as a ``ControlMessageBuilder/bytes``.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.init(buffer: bytes, length: bytes.count)
    }

    /// Walks the messages one by one.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let bytes: UnsafeRawBufferPointer
        @usableFromInline var offset: Int

        @inlinable
        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
            self.offset = 0
        }

        /// The next message, or `nil` at the end of the valid bytes or at a
        /// malformed header.
        @inlinable
        public mutating func next() -> ControlMessage? {
            guard let found = ControlMessageBytes.message(in: bytes, at: offset) else {
                offset = bytes.count
                return nil
            }
            offset = found.next
            return ControlMessage(level: found.level, type: found.type, data: found.data)
        }
    }

    /// An iterator over the messages.
    @inlinable
    public func makeIterator() -> Iterator {
        Iterator(bytes: bytes)
    }

    /// The credentials of the first `SCM_CREDENTIALS` message, or `nil`.
    public var credentials: Ucred? {
        for message in self {
            if case .credentials(let credentials) = message {
                return credentials
            }
        }
        return nil
    }

    /// The number of descriptors in all `SCM_RIGHTS` messages.
    public var rightsCount: Int {
        var total = 0
        for message in self {
            if case .rights(let rights) = message {
                total += rights.count
            }
        }
        return total
    }

    /// Copies the descriptors of all `SCM_RIGHTS` messages into `fds`, in
    /// order, as many as fit. The rest are *not* closed (see
    /// ``Descriptor/receiveDescriptors(into:data:flags:deadline:)`` for a
    /// receive that closes what does not fit).
    ///
    /// - Returns: How many were copied, and how many there are in all.
    public func copyRights(into fds: UnsafeMutableBufferPointer<CInt>) -> (copied: Int, total: Int) {
        var copied = 0
        var total = 0
        for message in self {
            guard case .rights(let rights) = message else { continue }
            for fd in rights {
                if copied < fds.count {
                    fds[copied] = fd
                    copied += 1
                }
                total += 1
            }
        }
        return (copied, total)
    }
}

extension ControlMessage {
    /// Classifies one message by level and type, checking the data length
    /// each known type must have.
    @inlinable
    init(level: CInt, type: CInt, data: UnsafeRawBufferPointer) {
        let length = data.count
        switch (level, type) {
        case (SockBindings.SOL_SOCKET, SockBindings.SCM_RIGHTS):
            self = .rights(Rights(data: data))
            return
        case (SockBindings.SOL_SOCKET, SockBindings.SCM_CREDENTIALS) where length == MemoryLayout<Ucred>.size:
            self = .credentials(data.loadUnaligned(as: Ucred.self))
            return
        case (SockBindings.SOL_SOCKET, SockBindings.SCM_TIMESTAMPNS) where length == MemoryLayout<Timespec>.size,
             (SockBindings.SOL_SOCKET, SockBindings.SO_TIMESTAMPNS_NEW) where length == MemoryLayout<Timespec>.size:
            // On 64-bit Linux the old and the y2038-safe layouts are the same
            // two 64-bit integers.
            self = .timestampNS(data.loadUnaligned(as: Timespec.self))
            return
        case (SockBindings.IPPROTO_IP, SockBindings.IP_PKTINFO) where length == MemoryLayout<InPktinfo>.size:
            self = .packetInfo4(data.loadUnaligned(as: InPktinfo.self))
            return
        case (SockBindings.IPPROTO_IP, SockBindings.IP_TOS) where length == 1:
            // The kernel delivers one byte; senders may use an int.
            self = .tos(data.loadUnaligned(as: UInt8.self))
            return
        case (SockBindings.IPPROTO_IP, SockBindings.IP_TOS) where length == MemoryLayout<CInt>.size:
            self = .tos(UInt8(truncatingIfNeeded: data.loadUnaligned(as: CInt.self)))
            return
        case (SockBindings.IPPROTO_IP, SockBindings.IP_TTL) where length == MemoryLayout<CInt>.size:
            self = .ttl(data.loadUnaligned(as: Int32.self))
            return
        case (SockBindings.IPPROTO_IPV6, SockBindings.IPV6_PKTINFO) where length == MemoryLayout<In6Pktinfo>.size:
            self = .packetInfo6(data.loadUnaligned(as: In6Pktinfo.self))
            return
        case (SockBindings.IPPROTO_IPV6, SockBindings.IPV6_TCLASS) where length == MemoryLayout<CInt>.size:
            self = .trafficClass(data.loadUnaligned(as: Int32.self))
            return
        case (SockBindings.IPPROTO_IPV6, SockBindings.IPV6_HOPLIMIT) where length == MemoryLayout<CInt>.size:
            self = .hopLimit(data.loadUnaligned(as: Int32.self))
            return
        case (SockBindings.SOL_UDP, SockBindings.UDP_SEGMENT) where length == MemoryLayout<UInt16>.size:
            self = .segmentSize(data.loadUnaligned(as: UInt16.self))
            return
        case (SockBindings.SOL_UDP, SockBindings.UDP_GRO) where length == MemoryLayout<CInt>.size:
            self = .groSegmentSize(data.loadUnaligned(as: Int32.self))
            return
        default:
            break
        }
        self = .other(level: level, type: type, data: data)
    }
}

// MARK: - Go-style helpers (allocating)

extension ControlMessageBuilder {
    /// A control buffer carrying one `SCM_RIGHTS` message with `fds`: the Go
    /// reference's `UnixRights`. Allocates the returned array; for a hot path
    /// use ``append(rights:)`` on a buffer you own.
    ///
    /// - Throws: ``SockError/invalidParameter`` for more than 253 descriptors
    ///   or a negative one.
    public static func unixRights(_ fds: CInt...) throws(SockError) -> [UInt8] {
        try unixRights(fds)
    }

    /// A control buffer carrying one `SCM_RIGHTS` message with `fds` (the Go
    /// reference's `UnixRights`). Allocates the returned array.
    ///
    /// - Throws: ``SockError/invalidParameter`` for more than 253 descriptors
    ///   or a negative one.
    public static func unixRights<Rights: Collection<CInt>>(_ fds: Rights) throws(SockError) -> [UInt8] {
        guard fds.count <= maximumRightsCount else { throw .invalidParameter }
        var bytes = [UInt8](repeating: 0, count: space(forRights: fds.count))
        let failure: SockError? = bytes.withUnsafeMutableBytes { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            do throws(SockError) {
                try builder.append(rights: fds)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// A control buffer carrying one `SCM_CREDENTIALS` message: the Go
    /// reference's `UnixCredentials`. Allocates the returned array; for a hot
    /// path use ``append(credentials:)``.
    public static func unixCredentials(_ credentials: Ucred) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: credentialsSpace)
        bytes.withUnsafeMutableBytes { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            // The buffer is exactly the message's space.
            try! builder.append(credentials: credentials)
        }
        return bytes
    }
}

extension ControlMessages {
    /// The descriptors of every `SCM_RIGHTS` message in `bytes`: the Go
    /// reference's `ParseUnixRights`. Allocates the returned array; for a hot
    /// path iterate ``ControlMessages`` or use ``copyRights(into:)``.
    public static func parseUnixRights(_ bytes: [UInt8]) -> [CInt] {
        bytes.withUnsafeBytes { buffer in
            var fds: [CInt] = []
            for message in ControlMessages(buffer) {
                if case .rights(let rights) = message {
                    fds.append(contentsOf: rights)
                }
            }
            return fds
        }
    }

    /// The credentials of the first `SCM_CREDENTIALS` message in `bytes`, or
    /// `nil`: the Go reference's `ParseUnixCredentials` (which reports an
    /// error where this returns `nil`). Allocates nothing.
    public static func parseUnixCredentials(_ bytes: UnsafeRawBufferPointer) -> Ucred? {
        ControlMessages(bytes).credentials
    }

    /// The credentials of the first `SCM_CREDENTIALS` message in `bytes`, or
    /// `nil` (the Go reference's `ParseUnixCredentials`).
    public static func parseUnixCredentials(_ bytes: [UInt8]) -> Ucred? {
        bytes.withUnsafeBytes { ControlMessages($0).credentials }
    }
}

// MARK: - Byte access

/// The only place the builder and parser touch control-buffer bytes:
/// unaligned stores and loads at byte offsets.
@usableFromInline
internal enum ControlMessageBytes {
    /// Stores `value`'s bytes at `offset` (any alignment).
    @inlinable
    static func store<Value: BitwiseCopyable>(_ value: Value, in buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        buffer.baseAddress!.storeBytes(of: value, toByteOffset: offset, as: Value.self)
    }

    /// The message whose header starts at `offset` in `bytes` — its level,
    /// type, data and the offset of the next header — or `nil` when no
    /// well-formed message starts there. The checks are those of the
    /// generated `cmsgNextHeader`.
    @inlinable
    static func message(
        in bytes: UnsafeRawBufferPointer, at offset: Int
    ) -> (level: CInt, type: CInt, data: UnsafeRawBufferPointer, next: Int)? {
        let headerSize = cmsgLen(0)
        guard offset >= 0, offset <= bytes.count - headerSize else { return nil }
        let header = bytes.loadUnaligned(fromByteOffset: offset, as: Cmsghdr.self)
        let length = Int(clamping: header.cmsg_len)
        guard length >= headerSize, length <= bytes.count - offset else { return nil }
        let data = UnsafeRawBufferPointer(rebasing: bytes[offset + headerSize ..< offset + length])
        return (header.cmsg_level, header.cmsg_type, data, offset + cmsgAlign(length))
    }
}
