// The outcome of a non-blocking operation: completed, or would block.

/// The outcome of an operation that may not be able to proceed without
/// blocking: a completed value, or ``wouldBlock``.
///
/// Would-block is a control-flow signal, not a failure: it is returned, never
/// thrown, costs nothing and allocates nothing, and always means "0 bytes
/// transferred" (never −1). Failures are thrown as ``SockError``.
///
/// ```swift
/// switch try descriptor.read(into: buffer) {
/// case .completed(let count): consume(buffer.prefix(count))
/// case .wouldBlock: waitForReadability()
/// }
/// ```
///
/// `Success` may be noncopyable, so an operation can hand over a uniquely
/// owned resource.
public enum IOResult<Success: ~Copyable>: ~Copyable {
    /// The operation completed with this value (for reads and writes, the
    /// number of bytes transferred).
    case completed(Success)
    /// The operation could not proceed without blocking; nothing was
    /// transferred. Retry when the descriptor is ready, or pass a deadline.
    case wouldBlock
}

extension IOResult: Copyable where Success: Copyable {}
extension IOResult: Sendable where Success: Sendable & ~Copyable {}
extension IOResult: Equatable where Success: Equatable {}
extension IOResult: Hashable where Success: Hashable {}

extension IOResult where Success: ~Copyable {
    /// Whether the operation would have blocked.
    @inlinable
    public var isWouldBlock: Bool {
        switch self {
        case .wouldBlock: true
        case .completed: false
        }
    }
}

extension IOResult {
    /// The completed value, or `nil` when the operation would have blocked.
    @inlinable
    public var value: Success? {
        switch self {
        case .completed(let value): value
        case .wouldBlock: nil
        }
    }
}

extension IOResult where Success == Int {
    /// The number of bytes transferred: the completed count, or 0 when the
    /// operation would have blocked.
    @inlinable
    public var count: Int {
        switch self {
        case .completed(let count): count
        case .wouldBlock: 0
        }
    }
}
