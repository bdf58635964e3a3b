// The result of reading a stream: bytes, end of stream, or would block.

/// The outcome of a read from a stream (or sequenced-packet) connection: some
/// bytes, the end of the stream, or would-block.
///
/// The three are distinct, and none is an error:
///
/// - ``bytes(_:)``: that many bytes were stored. An empty buffer gives
///   `.bytes(0)` at once, without a system call: asking for nothing is never
///   end of stream (the Go reference wrongly reports `io.EOF` there).
/// - ``endOfStream``: the kernel returned 0 bytes for a non-empty buffer: the
///   peer shut down its writing side or closed. Later reads keep reporting it.
/// - ``wouldBlock``: no data is ready (0 bytes, never −1); retry when the
///   socket is readable, or set a read deadline.
///
/// Failures (reset, timed out, closed, …) are thrown as ``SockError``.
///
/// ```swift
/// switch try conn.read(into: buffer) {
/// case .bytes(let count): consume(buffer.prefix(count))
/// case .endOfStream: try conn.close()
/// case .wouldBlock: waitForReadability()
/// }
/// ```
///
/// Datagram sockets read through the same type never report ``endOfStream``:
/// for them `.bytes(0)` is an empty datagram.
public enum StreamRead: Hashable, Sendable {
    /// This many bytes were read (0 only for an empty buffer, or an empty
    /// datagram on a datagram socket).
    case bytes(Int)
    /// The peer closed its side: no more bytes will arrive. Go: `io.EOF`.
    case endOfStream
    /// No data was ready; nothing was read (0 bytes). Go: `iox.ErrWouldBlock`.
    case wouldBlock

    /// The number of bytes read: the count of ``bytes(_:)``, 0 otherwise.
    @inlinable
    public var count: Int {
        switch self {
        case .bytes(let count): count
        case .endOfStream, .wouldBlock: 0
        }
    }

    /// Whether this is ``endOfStream``.
    @inlinable
    public var isEndOfStream: Bool {
        if case .endOfStream = self { return true }
        return false
    }

    /// Whether this is ``wouldBlock``.
    @inlinable
    public var isWouldBlock: Bool {
        if case .wouldBlock = self { return true }
        return false
    }
}

extension Descriptor {
    /// Reads with stream semantics (the one place that turns a `recv` result
    /// into a ``StreamRead``): an empty buffer is `.bytes(0)` without a system
    /// call; 0 bytes for a non-empty buffer is end of stream when
    /// `zeroIsEndOfStream`, else an empty message.
    @inlinable @inline(__always)
    internal func readStream(
        into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline, zeroIsEndOfStream: Bool = true
    ) throws(SockError) -> StreamRead {
        // `read` itself answers an empty buffer without a system call (after
        // the closed check).
        switch try read(into: buffer, deadline: deadline) {
        case .wouldBlock:
            return .wouldBlock
        case .completed(let count):
            if count == 0 && zeroIsEndOfStream && !buffer.isEmpty {
                return .endOfStream
            }
            return .bytes(count)
        }
    }
}
