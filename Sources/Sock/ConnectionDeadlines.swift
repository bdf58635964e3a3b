// The read and write deadlines a connection or listener keeps (Go's
// SetDeadline/SetReadDeadline/SetWriteDeadline), shared by every socket type.
import Synchronization

/// A connection's read and write deadlines, settable from any thread.
///
/// Each is a ``Deadline`` stored atomically; ``Deadline/none`` (the default)
/// makes operations non-blocking. Setting a deadline affects operations that
/// start afterwards. Reading or setting one never allocates.
public final class ConnectionDeadlines: Sendable {
    private let read = Atomic<Int64>(0)
    private let write = Atomic<Int64>(0)

    /// Creates deadlines that are both ``Deadline/none``.
    public init() {}

    /// The deadline of reads (and accepts, for listeners).
    public var readDeadline: Deadline {
        get { Deadline(nanoseconds: read.load(ordering: .relaxed)) }
    }

    /// The deadline of writes (and connects).
    public var writeDeadline: Deadline {
        get { Deadline(nanoseconds: write.load(ordering: .relaxed)) }
    }

    /// Sets both deadlines.
    public func setDeadline(_ deadline: Deadline) {
        read.store(deadline.nanoseconds, ordering: .relaxed)
        write.store(deadline.nanoseconds, ordering: .relaxed)
    }

    /// Sets the deadline of reads.
    public func setReadDeadline(_ deadline: Deadline) {
        read.store(deadline.nanoseconds, ordering: .relaxed)
    }

    /// Sets the deadline of writes.
    public func setWriteDeadline(_ deadline: Deadline) {
        write.store(deadline.nanoseconds, ordering: .relaxed)
    }
}
