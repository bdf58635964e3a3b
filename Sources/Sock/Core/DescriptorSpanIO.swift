// Span-based reads and writes on a descriptor, and the two loops every
// caller otherwise writes by hand: `write(all:)` (until every byte is sent)
// and `read(exactly:into:)` (until exactly n bytes arrived). They sit on the
// unsafe-buffer entry points of Descriptor.swift; the one place where a span
// becomes a buffer pointer is `withUnsafeBytes` / `withUnsafeMutableBytes`
// right here, never in callers' code.

extension Descriptor {
    /// Writes up to `bytes.byteCount` bytes, always with `MSG_NOSIGNAL`.
    ///
    /// The same operation as ``write(_:flags:deadline:)-(UnsafeRawBufferPointer,_,_)``
    /// for a `RawSpan` (`array.span.bytes`, `inlineArray.span.bytes`, …):
    /// without a deadline one non-blocking attempt, with one a wait for room
    /// until the deadline; a completed write may be short.
    ///
    /// The corresponding C function is `send`.
    @inlinable
    public func write(
        _ bytes: RawSpan, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try bytes.withUnsafeBytes { buffer throws(SockError) in
            try self.write(buffer, flags: flags, deadline: deadline)
        }
    }

    /// Reads into the uninitialized tail of `output` and appends what
    /// arrived (its `byteCount` grows by the number read).
    ///
    /// Without a deadline one non-blocking attempt (``IOResult/wouldBlock``
    /// when nothing is ready); with one a wait until the deadline. On a
    /// stream socket `.completed(0)` with free capacity left is end of
    /// stream. A full `output` completes with 0 at once, without a system
    /// call.
    ///
    /// The corresponding C function is `recv`.
    @inlinable
    public func read(
        into output: inout OutputRawSpan, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try output.withUnsafeMutableBytes { buffer, initialized throws(SockError) in
            let free = UnsafeMutableRawBufferPointer(rebasing: buffer[initialized...])
            let result = try read(into: free, flags: flags, deadline: deadline)
            initialized += result.count
            return result
        }
    }

    /// Reads into the start of `bytes`, overwriting them; returns how many
    /// were read (the rest of `bytes` is unchanged).
    ///
    /// The corresponding C function is `recv`.
    @inlinable
    public func read(
        into bytes: inout MutableRawSpan, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try bytes.withUnsafeMutableBytes { buffer throws(SockError) in
            try read(into: buffer, flags: flags, deadline: deadline)
        }
    }

    /// Writes every byte of `bytes`, looping over partial writes.
    ///
    /// Unlike the single write, this waits for room whenever the send
    /// buffer is full: a caller cannot resume a half-finished "write all"
    /// from a would-block, so there is no non-blocking form. `deadline`
    /// bounds the whole operation; ``Deadline/none`` means no bound (it waits
    /// as long as the peer takes, or until the descriptor is closed).
    ///
    /// - Throws: ``SockError/timedOut`` when the deadline passes first; the
    ///   connection's failure (``SockError/connectionReset``, …) otherwise.
    ///   After a failure an unknown prefix of `bytes` has been sent: the
    ///   stream is no longer in a known state, so close it.
    ///
    /// The corresponding C function is `send` (with `MSG_NOSIGNAL`).
    @inlinable
    public func write(all bytes: RawSpan, flags: CInt = 0, deadline: Deadline = .none) throws(SockError) {
        try bytes.withUnsafeBytes { buffer throws(SockError) in
            try self.write(all: buffer, flags: flags, deadline: deadline)
        }
    }

    /// Writes every byte of `buffer` (see ``write(all:flags:deadline:)-(RawSpan,_,_)``).
    ///
    /// The corresponding C function is `send` (with `MSG_NOSIGNAL`).
    public func write(all buffer: UnsafeRawBufferPointer, flags: CInt = 0, deadline: Deadline = .none) throws(SockError) {
        let waiting = deadline.isNone ? Deadline.never : deadline
        var sent = 0
        while sent < buffer.count {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[sent...])
            // With a deadline (here always) a write waits until it sends
            // something, so would-block cannot come back; guard anyway.
            guard case .completed(let count) = try self.write(rest, flags: flags, deadline: waiting) else {
                throw .timedOut
            }
            sent += count
        }
        if buffer.isEmpty {
            // Nothing to send, but a closed descriptor is still an error.
            try enter()
            leave()
        }
    }

    /// Reads exactly `count` bytes of a stream, appending them to `output`.
    ///
    /// Waits for data as needed (there is no non-blocking form, for the
    /// reason given at ``write(all:flags:deadline:)-(RawSpan,_,_)``);
    /// `deadline` bounds the whole operation, ``Deadline/none`` means no
    /// bound.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative `count` or one
    ///   larger than `output`'s free capacity (nothing is read);
    ///   ``SockError/endOfStream`` when the peer closes first — the bytes
    ///   that did arrive are in `output`, nothing is lost;
    ///   ``SockError/timedOut``; the connection's failure.
    ///
    /// The corresponding C function is `recv`.
    public func read(exactly count: Int, into output: inout OutputRawSpan, deadline: Deadline = .none) throws(SockError) {
        guard count >= 0, count <= output.freeCapacity else { throw .invalidParameter }
        try enter()
        leave()
        let waiting = deadline.isNone ? Deadline.never : deadline
        var remaining = count
        while remaining > 0 {
            let received = try output.withUnsafeMutableBytes { buffer, initialized throws(SockError) -> Int in
                let free = UnsafeMutableRawBufferPointer(rebasing: buffer[initialized..<(initialized + remaining)])
                let count = try read(into: free, deadline: waiting).count
                initialized += count
                return count
            }
            if received == 0 {
                throw .endOfStream
            }
            remaining -= received
        }
    }

    /// Reads exactly `count` bytes of a stream into a new array (which is
    /// the one allocation; see ``read(exactly:into:deadline:)`` to read into
    /// storage you own).
    ///
    /// - Throws: As ``read(exactly:into:deadline:)``; on
    ///   ``SockError/endOfStream`` the bytes that arrived are discarded with
    ///   the array, so use the `into:` form when they matter.
    ///
    /// The corresponding C function is `recv`.
    public func read(exactly count: Int, deadline: Deadline = .none) throws(SockError) -> [UInt8] {
        guard count >= 0 else { throw .invalidParameter }
        var failure: SockError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var output = OutputRawSpan(buffer: UnsafeMutableRawBufferPointer(buffer), initializedCount: 0)
            do throws(SockError) {
                try read(exactly: count, into: &output, deadline: deadline)
            } catch {
                failure = error
            }
            initialized = output.finalize(for: UnsafeMutableRawBufferPointer(buffer))
        }
        if let failure { throw failure }
        return bytes
    }
}

/// Runs `body` with the bytes of `bytes` in contiguous memory: their own
/// storage when the collection has it (`[UInt8]`, `ArraySlice`,
/// `ContiguousArray`, Foundation's `Data`, a native `String`'s UTF-8 view),
/// else a copy of at most `limit` leading bytes in temporary storage.
///
/// The closure does not throw; callers return a `Result` through it, so
/// that no typed-throws closure crosses the standard library's untyped
/// `rethrows` functions.
@inlinable
internal func withContiguousBytes<Bytes: Collection<UInt8>, Value>(
    of bytes: Bytes, limit: Int = 65_536, _ body: (UnsafeRawBufferPointer) -> Value
) -> Value {
    if let value = bytes.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return value
    }
    let count = Swift.min(bytes.count, limit)
    return withUnsafeTemporaryAllocation(byteCount: Swift.max(count, 1), alignment: 1) { scratch in
        let storage = UnsafeMutableRawBufferPointer(rebasing: scratch[..<count])
        var index = bytes.startIndex
        for offset in 0..<count {
            storage[offset] = bytes[index]
            bytes.formIndex(after: &index)
        }
        return body(UnsafeRawBufferPointer(storage))
    }
}
