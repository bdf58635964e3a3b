// Span-based and collection-based reads and writes on every connection,
// honouring the connection's own deadlines, written once for every `Conn`,
// `StreamConn` and `PacketConn` on top of their unsafe-buffer requirements.
//
//     try conn.write(all: request)                 // [UInt8], Data, a String's utf8, a RawSpan…
//     let header = try conn.read(exactly: 8)       // [UInt8]
//     var output = OutputRawSpan(…); try conn.read(exactly: n, into: &output)

extension Conn {
    /// Writes up to `bytes.byteCount` bytes, honouring the write deadline
    /// (see ``write(_:)-(UnsafeRawBufferPointer)``): without one, a single
    /// non-blocking attempt; a completed write may be short on a stream.
    ///
    /// The corresponding C function is `send`.
    @inlinable
    public func write(_ bytes: RawSpan) throws(SockError) -> IOResult<Int> {
        try bytes.withUnsafeBytes { buffer throws(SockError) in try self.write(buffer) }
    }

    /// Writes up to `bytes.count` bytes of a byte collection (`[UInt8]`,
    /// `ArraySlice<UInt8>`, Foundation's `Data`, `string.utf8`, …), honouring
    /// the write deadline. Collections with contiguous storage are sent from
    /// it; others are copied in chunks of at most 64 KiB to temporary
    /// storage first, and one write sends at most one chunk.
    ///
    /// The corresponding C function is `send`.
    @inlinable
    public func write<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(SockError) -> IOResult<Int> {
        try withContiguousBytes(of: bytes) { buffer in
            Result { () throws(SockError) in try self.write(buffer) }
        }.get()
    }

    /// Reads into the uninitialized tail of `output` and appends what arrived,
    /// honouring the read deadline. Same results as
    /// ``read(into:)-(UnsafeMutableRawBufferPointer)``.
    ///
    /// The corresponding C function is `recv`.
    @inlinable
    public func read(into output: inout OutputRawSpan) throws(SockError) -> ReadResult {
        try output.withUnsafeMutableBytes { buffer, initialized throws(SockError) in
            let result = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[initialized...]))
            initialized += result.count
            return result
        }
    }

    /// Reads into the start of `bytes`, overwriting them, honouring the read
    /// deadline; the rest of `bytes` is unchanged.
    ///
    /// The corresponding C function is `recv`.
    @inlinable
    public func read(into bytes: inout MutableRawSpan) throws(SockError) -> ReadResult {
        try bytes.withUnsafeMutableBytes { buffer throws(SockError) in try read(into: buffer) }
    }
}

extension StreamConn {
    /// Writes every byte of `bytes`, looping over partial writes and
    /// waiting for room as needed, until done or the write deadline passes
    /// (without a write deadline it waits as long as the peer takes).
    ///
    /// - Throws: ``SockError/timedOut``, ``SockError/connectionReset``,
    ///   ``SockError/closed``, … After a failure an unknown prefix has been
    ///   sent; close the connection.
    ///
    /// The corresponding C function is `send` (with `MSG_NOSIGNAL`).
    @inlinable
    public func write(all bytes: RawSpan) throws(SockError) {
        try descriptor.write(all: bytes, deadline: deadlines.writeDeadline)
    }

    /// Writes every byte of a byte collection (`[UInt8]`, `Data`,
    /// `string.utf8`, …); see ``write(all:)-(RawSpan)``. Collections without
    /// contiguous storage are sent in chunks of at most 64 KiB copied to
    /// temporary storage.
    ///
    /// The corresponding C function is `send` (with `MSG_NOSIGNAL`).
    @inlinable
    public func write<Bytes: Collection<UInt8>>(all bytes: Bytes) throws(SockError) {
        let deadline = deadlines.writeDeadline
        var rest = bytes[...]
        repeat {
            let chunk = try withContiguousBytes(of: rest) { buffer in
                Result { () throws(SockError) -> Int in
                    try descriptor.write(all: buffer, deadline: deadline)
                    return buffer.count
                }
            }.get()
            rest = rest.dropFirst(chunk)
        } while !rest.isEmpty
    }

    /// Reads exactly `count` bytes, appending them to `output`, waiting for
    /// data as needed until the read deadline (without one, as long as it
    /// takes).
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative `count` or
    ///   more than `output`'s free capacity (nothing read);
    ///   ``SockError/endOfStream`` when the peer closes first (what arrived
    ///   is in `output`); ``SockError/timedOut``; the connection's failure.
    ///
    /// The corresponding C function is `recv`.
    @inlinable
    public func read(exactly count: Int, into output: inout OutputRawSpan) throws(SockError) {
        try descriptor.read(exactly: count, into: &output, deadline: deadlines.readDeadline)
    }

    /// Reads exactly `count` bytes into a new array (the one allocation),
    /// waiting until the read deadline (without one, as long as it takes).
    ///
    /// - Throws: As ``read(exactly:into:)``.
    ///
    /// The corresponding C function is `recv`.
    @inlinable
    public func read(exactly count: Int) throws(SockError) -> [UInt8] {
        try descriptor.read(exactly: count, deadline: deadlines.readDeadline)
    }
}

extension PacketConn {
    /// Sends `bytes` as one datagram to `address`, honouring the write
    /// deadline.
    ///
    /// The corresponding C function is `sendto`.
    @inlinable
    public func writeTo(_ bytes: RawSpan, address: Address) throws(SockError) -> IOResult<Int> {
        try bytes.withUnsafeBytes { buffer throws(SockError) in try writeTo(buffer, address: address) }
    }

    /// Sends the bytes of a byte collection as one datagram to `address`
    /// (collections without contiguous storage: at most 64 KiB, copied to
    /// temporary storage).
    ///
    /// The corresponding C function is `sendto`.
    @inlinable
    public func writeTo<Bytes: Collection<UInt8>>(_ bytes: Bytes, address: Address) throws(SockError) -> IOResult<Int> {
        try withContiguousBytes(of: bytes) { buffer in
            Result { () throws(SockError) in try writeTo(buffer, address: address) }
        }.get()
    }

    /// Receives one datagram into the uninitialized tail of `output`,
    /// appending it, and returns its size and sender, honouring the read
    /// deadline.
    ///
    /// The corresponding C function is `recvfrom`.
    @inlinable
    public func readFrom(into output: inout OutputRawSpan) throws(SockError) -> IOResult<(count: Int, from: Address)> {
        try output.withUnsafeMutableBytes { buffer, initialized throws(SockError) in
            let result = try readFrom(into: UnsafeMutableRawBufferPointer(rebasing: buffer[initialized...]))
            if case .completed(let datagram) = result { initialized += datagram.count }
            return result
        }
    }
}
