// The read and write deadlines a connection or listener keeps (Go's
// SetDeadline/SetReadDeadline/SetWriteDeadline), shared by every socket type:
// the storage, and the setters of every `Conn` and `Listener`, implemented
// once here.
import Synchronization

/// A connection's read and write deadlines, settable from any thread.
///
/// Each is a ``Deadline`` stored atomically; ``Deadline/none`` (the default)
/// makes operations non-blocking. Setting a deadline affects operations that
/// start afterwards. Reading or setting one never allocates.
public final class ConnectionDeadlines: Sendable {
    // Inlinable (with the accessors below) so that the deadline setters and
    // the reads and writes, generic over the connection type, stay one
    // relaxed atomic access in the caller's module.
    @usableFromInline
    internal let read = Atomic<Int64>(0)
    @usableFromInline
    internal let write = Atomic<Int64>(0)

    /// Creates deadlines that are both ``Deadline/none``.
    public init() {}

    /// The deadline of reads (and accepts, for listeners).
    @inlinable
    public var readDeadline: Deadline {
        get { Deadline(nanoseconds: read.load(ordering: .relaxed)) }
    }

    /// The deadline of writes (and connects).
    @inlinable
    public var writeDeadline: Deadline {
        get { Deadline(nanoseconds: write.load(ordering: .relaxed)) }
    }

    /// Sets both deadlines.
    @inlinable
    public func setDeadline(_ deadline: Deadline) {
        read.store(deadline.nanoseconds, ordering: .relaxed)
        write.store(deadline.nanoseconds, ordering: .relaxed)
    }

    /// Sets the deadline of reads.
    @inlinable
    public func setReadDeadline(_ deadline: Deadline) {
        read.store(deadline.nanoseconds, ordering: .relaxed)
    }

    /// Sets the deadline of writes.
    @inlinable
    public func setWriteDeadline(_ deadline: Deadline) {
        write.store(deadline.nanoseconds, ordering: .relaxed)
    }
}

extension Conn {
    /// Sets the read and write deadlines; ``Deadline/none`` makes operations
    /// non-blocking again. Affects operations that start afterwards.
    ///
    /// Go: `SetDeadline` of every connection type (`TCPConn.SetDeadline`,
    /// `SCTPConn.SetDeadline`, …); a zero `time.Time` there is
    /// ``Deadline/none`` here, and deadlines are on the monotonic clock.
    @inlinable
    public func setDeadline(_ deadline: Deadline) {
        deadlines.setDeadline(deadline)
    }

    /// Sets the read deadline: the deadline of ``read(into:)`` and of the
    /// connection's other reads (``PacketConn/readFrom(into:)``,
    /// ``UDPConn/readDatagram(into:)``, the message and descriptor reads).
    /// Go: `SetReadDeadline` (`SCTPConn.SetReadDeadline`, …).
    @inlinable
    public func setReadDeadline(_ deadline: Deadline) {
        deadlines.setReadDeadline(deadline)
    }

    /// Sets the write deadline: the deadline of ``Conn/write(_:)`` and of the
    /// connection's other writes (``PacketConn/writeTo(_:address:)``, the
    /// message and descriptor writes). Go: `SetWriteDeadline`
    /// (`SCTPConn.SetWriteDeadline`, …).
    @inlinable
    public func setWriteDeadline(_ deadline: Deadline) {
        deadlines.setWriteDeadline(deadline)
    }
}

extension Listener {
    /// Sets the deadline of ``accept()`` and ``acceptSocket()``;
    /// ``Deadline/none`` makes them non-blocking again. Go: `SetDeadline`
    /// (`TCPListener.SetDeadline`, `SCTPListener.SetDeadline`, …).
    @inlinable
    public func setDeadline(_ deadline: Deadline) {
        deadlines.setDeadline(deadline)
    }
}
