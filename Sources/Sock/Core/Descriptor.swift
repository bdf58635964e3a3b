// The descriptor handle: owns one file descriptor, closes it exactly once, and
// never lets an operation touch a descriptor number the kernel has reused.
//
// Why a final class and not a ~Copyable struct: the concurrent-close guarantee
// needs state that several threads share while operations are in flight (one
// thread blocked in a read, another calling close). A ~Copyable struct has a
// single owner; sharing it across threads would need a reference anyway, and
// `close` (consuming) could not run while another thread borrows it. A final
// class gives the atomic state word a stable address, is honestly `Sendable`,
// and costs one allocation when the socket is created — never per operation.
//
// The state word (one `Atomic<UInt64>`):
//
//     bit 63       closed: `close()` was called; new operations fail with .closed
//     bit 62       released: close(2) has been called (set exactly once)
//     bits 0...61  the number of operations in flight
//
// Each operation costs two atomic read-modify-writes: an increment on entry
// (which also reads the closed bit) and a decrement on exit. `close()` sets the
// closed bit; if other operations are in flight it calls shutdown(SHUT_RDWR)
// to wake them (a blocked `poll` or `recv` returns at once and the operation
// ends with `.closed`), and whoever brings the count to zero with the closed
// bit set performs the real close(2), guarded by a compare-and-swap of the
// released bit. Until then the descriptor number stays allocated to this
// socket, so no in-flight operation can reach a number the kernel has handed
// to someone else. (Go's `fdMutex` works the same way.)
#if canImport(Glibc)
import Glibc
#endif
import SockBindings
import Synchronization

/// An owned file descriptor, typically a socket, that closes exactly once and
/// is safe to share between threads.
///
/// - Closing is idempotent: the first ``close()`` closes, later calls do
///   nothing.
/// - Every operation after ``close()`` throws ``SockError/closed``.
/// - A ``close()`` that races with operations in flight on other threads wakes
///   them (with `shutdown(SHUT_RDWR)`; they end with ``SockError/closed``) and
///   defers the real `close(2)` to the last of them, so no operation can touch
///   a descriptor number the kernel has reused.
/// - A descriptor that is never closed is closed when the last reference goes
///   away.
///
/// Operations cost two atomic operations and allocate nothing. Descriptors
/// Sock creates are non-blocking and close-on-exec from birth
/// (`SOCK_NONBLOCK | SOCK_CLOEXEC`).
///
/// The raw number is available as ``rawValue`` (for epoll or io_uring); use
/// ``withFileDescriptor(_:)`` to keep it valid while you use it.
public final class Descriptor: Sendable, CustomStringConvertible {
    /// The descriptor number.
    ///
    /// It is only guaranteed to denote this descriptor until ``close()``; to use
    /// it safely while another thread may close, call
    /// ``withFileDescriptor(_:)``.
    public let rawValue: CInt

    /// The state word: closed bit, released bit, in-flight count.
    private let state: Atomic<UInt64>

    private static var closedBit: UInt64 { 1 << 63 }
    private static var releasedBit: UInt64 { 1 << 62 }
    private static var countMask: UInt64 { (1 << 62) - 1 }

    /// Takes ownership of `rawValue`: the descriptor will close it.
    ///
    /// Nothing is checked or changed; for a socket from elsewhere consider
    /// ``setNonBlocking(_:)`` and ``setCloseOnExec(_:)``.
    public init(adopting rawValue: CInt) {
        self.rawValue = rawValue
        self.state = Atomic(0)
    }

    deinit {
        // No operation can be in flight: each one holds a reference.
        if state.load(ordering: .acquiring) & Self.releasedBit == 0 {
            _ = Syscall.close(rawValue)
        }
    }

    /// "Descriptor(5)", or "Descriptor(5, closed)" once closed.
    public var description: String {
        isClosed ? "Descriptor(\(rawValue), closed)" : "Descriptor(\(rawValue))"
    }

    // MARK: Lifetime

    /// Whether ``close()`` has been called.
    public var isClosed: Bool {
        state.load(ordering: .relaxed) & Self.closedBit != 0
    }

    /// Closes the descriptor. Idempotent: only the first call has an effect.
    ///
    /// If operations are in flight on other threads, they are woken with
    /// `shutdown(SHUT_RDWR)` and end with ``SockError/closed``; the last of
    /// them performs the real `close(2)`, so this call may return before the
    /// number is released.
    ///
    /// - Throws: The error of `close(2)` when this call performed it and it
    ///   failed with something other than `EINTR` (on Linux the descriptor is
    ///   released even then). Nothing is retried.
    ///
    /// The corresponding C function is `close`.
    public func close() throws(SockError) {
        // Pin the descriptor so that the shutdown below cannot reach a reused
        // number, and learn whether someone closed it before us.
        let pinned = state.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
        if pinned & Self.closedBit != 0 {
            leave()
            return
        }
        let before = state.bitwiseOr(Self.closedBit, ordering: .acquiringAndReleasing).oldValue
        if before & Self.closedBit != 0 {
            leave()  // another thread closed it first
            return
        }
        if before & Self.countMask > 1 {
            // Others are in flight: wake any of them waiting in poll or recv.
            _ = Syscall.shutdownBoth(rawValue)
        }
        let after = state.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue
        if after == Self.closedBit, claimRelease() {
            if case .failure(let error) = Syscall.close(rawValue), error.rawValue != SockBindings.EINTR {
                throw SockError(error)
            }
        }
    }

    /// Registers an operation in flight; fails with `.closed` after close.
    @inline(__always)
    internal func enter() throws(SockError) {
        let before = state.wrappingAdd(1, ordering: .acquiring).oldValue
        if _slowPath(before & Self.closedBit != 0) {
            leave()
            throw .closed
        }
    }

    /// Ends an operation in flight; the last one after close closes.
    @inline(__always)
    internal func leave() {
        let after = state.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue
        if _slowPath(after == Self.closedBit) {
            releaseDeferred()
        }
    }

    /// The deferred close(2), run by the last operation after close.
    @inline(never)
    private func releaseDeferred() {
        if claimRelease() {
            _ = Syscall.close(rawValue)
        }
    }

    /// Sets the released bit if the state is exactly "closed, nothing in
    /// flight"; true for the single caller that succeeds.
    private func claimRelease() -> Bool {
        state.compareExchange(
            expected: Self.closedBit,
            desired: Self.closedBit | Self.releasedBit,
            ordering: .acquiringAndReleasing
        ).exchanged
    }

    /// The outcome of ``releaseOwnership()``.
    internal enum OwnershipRelease {
        /// The closed and released bits are set; the number is the caller's.
        case released
        /// ``close()`` was called before, or ownership was already released.
        case alreadyClosed
        /// Operations are in flight; nothing changed.
        case busy
    }

    /// Marks the descriptor closed and released without calling close(2), if
    /// it is open and nothing is in flight (one compare-and-swap from the
    /// idle state): ``takeOwnership()``.
    internal func releaseOwnership() -> OwnershipRelease {
        let exchange = state.compareExchange(
            expected: 0,
            desired: Self.closedBit | Self.releasedBit,
            ordering: .acquiringAndReleasing
        )
        if exchange.exchanged { return .released }
        return exchange.original & Self.closedBit != 0 ? .alreadyClosed : .busy
    }

    /// Calls `body` with the descriptor number, which stays valid (not closed,
    /// not reused) until `body` returns even if another thread calls
    /// ``close()`` meanwhile.
    ///
    /// Do not close the number yourself, and do not block indefinitely inside
    /// `body` unless a concurrent ``close()`` (which shuts a socket down) can
    /// wake you.
    ///
    /// - Throws: ``SockError/closed`` if the descriptor is closed, or what
    ///   `body` throws.
    @inline(__always)
    public func withFileDescriptor<Result: ~Copyable>(
        _ body: (CInt) throws(SockError) -> Result
    ) throws(SockError) -> Result {
        try enter()
        defer { leave() }
        return try body(rawValue)
    }

    /// Runs an adaptive operation (see the free function
    /// `adaptiveOperation(fd:events:deadline:isClosing:_:)`) while registered
    /// in flight. Every read, write, accept and connect goes through here.
    ///
    /// - Parameters:
    ///   - events: `POLLIN` to wait for readability, `POLLOUT` for
    ///     writability.
    ///   - deadline: ``Deadline/none`` for one non-blocking attempt.
    ///   - strike: One attempt, given the descriptor number.
    @inline(__always)
    internal func adaptive<Success>(
        events: CInt,
        deadline: Deadline,
        _ strike: (CInt) -> Attempt<Success>
    ) throws(SockError) -> IOResult<Success> {
        try enter()
        defer { leave() }
        let fd = rawValue
        return try adaptiveOperation(fd: fd, events: events, deadline: deadline, isClosing: { isClosed }, strike)
    }

    // MARK: Flags

    /// Whether `O_NONBLOCK` is set. The corresponding C function is `fcntl`
    /// (`F_GETFL`).
    public var isNonBlocking: Bool {
        get throws(SockError) {
            try statusFlags() & SockBindings.O_NONBLOCK != 0
        }
    }

    /// Sets or clears `O_NONBLOCK`. Sock's operations assume non-blocking
    /// descriptors; clear it only for descriptors you hand to blocking code.
    /// The corresponding C function is `fcntl` (`F_SETFL`).
    public func setNonBlocking(_ enabled: Bool = true) throws(SockError) {
        try updateFlag(SockBindings.O_NONBLOCK, enabled, get: SockBindings.F_GETFL, set: SockBindings.F_SETFL)
    }

    /// Whether `FD_CLOEXEC` is set. The corresponding C function is `fcntl`
    /// (`F_GETFD`).
    public var isCloseOnExec: Bool {
        get throws(SockError) {
            try withFileDescriptor { fd throws(SockError) in
                try Syscall.fcntl(fd, SockBindings.F_GETFD).mapped() & SockBindings.FD_CLOEXEC != 0
            }
        }
    }

    /// Sets or clears `FD_CLOEXEC`. The corresponding C function is `fcntl`
    /// (`F_SETFD`).
    public func setCloseOnExec(_ enabled: Bool = true) throws(SockError) {
        try updateFlag(SockBindings.FD_CLOEXEC, enabled, get: SockBindings.F_GETFD, set: SockBindings.F_SETFD)
    }

    /// Sets or clears `flag` in the flags `fcntl` reads with `get` and
    /// writes with `set`, writing only when they change.
    private func updateFlag(_ flag: CInt, _ enabled: Bool, get: CInt, set: CInt) throws(SockError) {
        try withFileDescriptor { fd throws(SockError) in
            let flags = try Syscall.fcntl(fd, get).mapped()
            let updated = enabled ? flags | flag : flags & ~flag
            if updated != flags {
                _ = try Syscall.fcntl(fd, set, updated).mapped()
            }
        }
    }

    private func statusFlags() throws(SockError) -> CInt {
        try withFileDescriptor { fd throws(SockError) in
            try Syscall.fcntl(fd, SockBindings.F_GETFL).mapped()
        }
    }

    // MARK: Creation

    /// Creates a socket, non-blocking and close-on-exec.
    ///
    /// - Parameters:
    ///   - family: The address family, such as `AF_INET6`.
    ///   - type: The socket type, such as `SOCK_STREAM`; `SOCK_NONBLOCK` and
    ///     `SOCK_CLOEXEC` are always added.
    ///   - proto: The protocol, or 0 for the family's default.
    ///
    /// The corresponding C function is `socket`.
    public static func socket(family: CInt, type: CInt, protocol proto: CInt = 0) throws(SockError) -> Descriptor {
        Descriptor(adopting: try Syscall.socket(family, type, proto).mapped())
    }

    /// Creates a connected pair of sockets, both non-blocking and
    /// close-on-exec.
    ///
    /// - Parameters:
    ///   - family: The address family, normally `AF_UNIX`.
    ///   - type: `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`.
    ///   - proto: The protocol, or 0.
    ///
    /// The corresponding C function is `socketpair`.
    public static func socketPair(
        family: CInt, type: CInt, protocol proto: CInt = 0
    ) throws(SockError) -> (Descriptor, Descriptor) {
        var fds: (CInt, CInt) = (-1, -1)
        try withUnsafeMutableBytes(of: &fds) { raw throws(SockError) in
            _ = try Syscall.socketpair(family, type, proto, raw.baseAddress!.assumingMemoryBound(to: CInt.self)).mapped()
        }
        return (Descriptor(adopting: fds.0), Descriptor(adopting: fds.1))
    }

    // MARK: I/O

    /// Reads up to `buffer.count` bytes.
    ///
    /// Without a deadline this is one non-blocking attempt: ``IOResult/wouldBlock``
    /// (0 bytes) when no data is ready. With a deadline it waits for data (see
    /// ``Deadline``) and throws ``SockError/timedOut`` when none arrives in
    /// time. `.completed(0)` on a stream socket is end of stream; on a datagram
    /// socket, an empty datagram. An empty `buffer` completes with 0 at once,
    /// without a system call.
    ///
    /// - Parameters:
    ///   - buffer: Where to store the bytes.
    ///   - flags: `recv` flags, such as `MSG_PEEK`; usually 0.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of bytes read, or would-block.
    /// - Throws: ``SockError``, such as ``SockError/connectionReset`` or
    ///   ``SockError/closed``.
    ///
    /// The corresponding C function is `recv`.
    public func read(
        into buffer: UnsafeMutableRawBufferPointer, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        if buffer.isEmpty {
            try enter()
            leave()
            return .completed(0)
        }
        return try adaptive(events: SockBindings.POLLIN, deadline: deadline) { fd in
            let received = Syscall.recv(fd, buffer.baseAddress, buffer.count, flags)
            // A concurrent close() shuts the socket down to wake us, which
            // recv reports as end of stream: report it as the close it is.
            if case .success(0) = received, isClosed {
                return .failure(SockErrno(rawValue: SockBindings.EBADF))  // mapped to .closed
            }
            return Attempt(received)
        }
    }

    /// Writes up to `buffer.count` bytes, always with `MSG_NOSIGNAL` (a gone
    /// peer gives ``SockError/connectionReset``, never `SIGPIPE`).
    ///
    /// Without a deadline this is one non-blocking attempt:
    /// ``IOResult/wouldBlock`` (0 bytes) when the send buffer is full. With a
    /// deadline it waits for room (see ``Deadline``) and throws
    /// ``SockError/timedOut`` when there is none in time. A completed write may
    /// be short.
    ///
    /// - Parameters:
    ///   - buffer: The bytes to send.
    ///   - flags: `send` flags, such as `MSG_MORE`; `MSG_NOSIGNAL` is always
    ///     added.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The number of bytes written, or would-block.
    ///
    /// The corresponding C function is `send`.
    public func write(
        _ buffer: UnsafeRawBufferPointer, flags: CInt = 0, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try adaptive(events: SockBindings.POLLOUT, deadline: deadline) { fd in
            Attempt(Syscall.send(fd, buffer.baseAddress, buffer.count, flags))
        }
    }

    /// Accepts a pending connection; the new descriptor is non-blocking and
    /// close-on-exec.
    ///
    /// Errors the kernel reports for a connection that died while queued
    /// (`ECONNABORTED`, `EPROTO`, and the network errors accept(2) lists) are
    /// skipped and the next pending connection is taken, as accept(2) advises.
    ///
    /// - Parameters:
    ///   - address: Where to store the peer's address (any `sockaddr_*`
    ///     layout), or `nil`.
    ///   - length: The capacity of `address` on entry; the address's length on
    ///     return (which may exceed the capacity; see unix(7)). `nil` when
    ///     `address` is `nil`.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The accepted descriptor, or would-block when none is pending.
    ///
    /// The corresponding C function is `accept4`.
    public func accept(
        address: UnsafeMutableRawPointer? = nil,
        length: UnsafeMutablePointer<socklen_t>? = nil,
        deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Descriptor> {
        let accepted = try adaptive(events: SockBindings.POLLIN, deadline: deadline) { fd -> Attempt<CInt> in
            while true {
                let attempt = Attempt(Syscall.accept4(fd, address, length))
                if case .failure(let error) = attempt, Self.isTransientAcceptError(error.rawValue) {
                    continue  // that connection is gone; take the next one
                }
                return attempt
            }
        }
        switch accepted {
        case .completed(let fd): return .completed(Descriptor(adopting: fd))
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Errors accept(2) reports for an already-dead queued connection.
    private static func isTransientAcceptError(_ errno: CInt) -> Bool {
        switch errno {
        case SockBindings.ECONNABORTED, SockBindings.EPROTO, SockBindings.ENETDOWN, SockBindings.ENETUNREACH, SockBindings.EHOSTDOWN,
             SockBindings.EHOSTUNREACH, SockBindings.ENONET, SockBindings.ENOPROTOOPT:
            true
        default:
            false
        }
    }

    /// Connects to `address`.
    ///
    /// Without a deadline this starts the connection and returns
    /// ``IOResult/wouldBlock`` while it is in progress (`EINPROGRESS`); call
    /// `connect` again with the same address to learn the outcome (completed
    /// once connected, or the failure, such as ``SockError/connectionRefused``),
    /// or wait for writability and call ``finishConnect()``. With a deadline it
    /// waits for the outcome: `poll(POLLOUT)`, then one read of `SO_ERROR`.
    /// Already connected (`EISCONN`) counts as completed.
    ///
    /// - Parameters:
    ///   - address: The peer's address (any `sockaddr_*` layout).
    ///   - length: The address's length in bytes.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Throws: ``SockError/timedOut`` when the deadline passes first; the
    ///   connection's failure otherwise.
    ///
    /// The corresponding C function is `connect`.
    public func connect(
        to address: UnsafeRawPointer, length: socklen_t, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Void> {
        // Phases: the first strike calls connect(2); later strikes check for
        // completion. A Unix socket whose peer's backlog is full reports
        // EAGAIN without starting anything, and polls as writable at once;
        // there later strikes retry connect(2) itself after a short back-off
        // sleep (bounded by the deadline), so the wait does not spin.
        var started = false
        var retryConnect = false
        var backoff = Backoff(base: .microseconds(50), max: .milliseconds(5))
        return try adaptive(events: SockBindings.POLLOUT, deadline: deadline) { fd -> Attempt<Void> in
            if started && !retryConnect {
                return Self.connectionOutcome(fd)
            }
            if started {
                let left = deadline.remainingNanoseconds()
                sleepUninterrupted(nanoseconds: Swift.min(backoff.nextDelay().saturatingNanoseconds, left))
            }
            started = true
            switch Syscall.connect(fd, address, length) {
            case .success:
                return .success(())
            case .failure(let error):
                switch error.rawValue {
                case SockBindings.EINPROGRESS, SockBindings.EALREADY, SockBindings.EINTR:
                    retryConnect = false
                    return .wouldBlock
                case SockBindings.EAGAIN:
                    retryConnect = true
                    return .wouldBlock
                default:
                    return .failure(error)
                }
            }
        }
    }

    /// Completes a connection started by ``connect(to:length:deadline:)``
    /// without a deadline: would-block while it is still in progress, completed
    /// once connected, or throws its failure (read once from `SO_ERROR`, which
    /// clears it).
    ///
    /// The corresponding C functions are `poll` and `getsockopt` (`SO_ERROR`).
    public func finishConnect() throws(SockError) -> IOResult<Void> {
        try adaptive(events: SockBindings.POLLOUT, deadline: .none) { fd in
            Self.connectionOutcome(fd)
        }
    }

    /// Whether a connection in progress has finished: writability by a
    /// zero-timeout `poll`, then the one `SO_ERROR` read.
    private static func connectionOutcome(_ fd: CInt) -> Attempt<Void> {
        var request = pollfd(fd: fd, events: CShort(SockBindings.POLLOUT), revents: 0)
        switch Syscall.poll(&request, 1, 0) {
        case .failure(let error) where error.rawValue == SockBindings.EINTR:
            return .wouldBlock
        case .failure(let error):
            return .failure(error)
        case .success(0):
            return .wouldBlock
        case .success:
            break
        }
        // The key's errno is wanted as SockErrno here, so the option is read
        // through the syscall table directly rather than with `option(_:)`.
        let key = SocketOption<OptionScope.Socket, _, _>.pendingError
        var pending: CInt = 0
        var pendingLength = socklen_t(MemoryLayout<CInt>.size)
        if case .failure(let error) = Syscall.getsockopt(fd, key.level, key.name, &pending, &pendingLength) {
            return .failure(error)
        }
        if pending != 0 {
            return .failure(SockErrno(rawValue: pending))
        }
        // Writable with no pending error also describes a socket that
        // never started connecting (it polls as hung up); only a peer
        // address proves the connection.
        var peer = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        switch Syscall.getpeername(fd, &peer, &length) {
        case .success: return .success(())
        case .failure(let error): return .failure(error)
        }
    }
}
