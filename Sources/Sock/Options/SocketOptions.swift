// Socket-level (SOL_SOCKET) options as methods of every `Socket`, delegating
// to the generated accessors of SockBindings. None allocates. Also what every
// typed option method shares: running a generated accessor on a descriptor
// (`Descriptor.socketOption`) and the small conversions (counts, integers,
// Durations).
import SockBindings

extension Socket {
    /// Whether `SO_REUSEADDR` is set. The corresponding C function is
    /// `getsockopt`.
    public var reuseAddress: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getReuseAddr(fd) } }
    }

    /// Sets `SO_REUSEADDR` (binding despite connections in `TIME_WAIT`). TCP
    /// sockets Sock creates have it set. The corresponding C function is
    /// `setsockopt`.
    public func setReuseAddress(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setReuseAddr(fd, enabled) }
    }

    /// Whether `SO_REUSEPORT` is set. The corresponding C function is
    /// `getsockopt`.
    public var reusePort: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getReusePort(fd) } }
    }

    /// Sets `SO_REUSEPORT` (several sockets of the same user may bind the same
    /// address and port; the kernel balances connections between listeners).
    /// Must be set before `bind`. The corresponding C function is
    /// `setsockopt`.
    public func setReusePort(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setReusePort(fd, enabled) }
    }

    /// The receive buffer size in bytes (`SO_RCVBUF`). The kernel reports
    /// twice the value that was set, for its bookkeeping. The corresponding C
    /// function is `getsockopt`.
    public var receiveBufferSize: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getRecvBuffer(fd) }) }
    }

    /// Sets the receive buffer size (`SO_RCVBUF`); the kernel doubles it and
    /// caps it at `net.core.rmem_max`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative size or one
    ///   above `Int32.max`.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setReceiveBufferSize(_ bytes: Int) throws(SockError) {
        let value = try optionCount(bytes)
        try socketOption { fd throws(SockErrno) in try SockBindings.setRecvBuffer(fd, value) }
    }

    /// The send buffer size in bytes (`SO_SNDBUF`); twice the value that was
    /// set. The corresponding C function is `getsockopt`.
    public var sendBufferSize: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getSendBuffer(fd) }) }
    }

    /// Sets the send buffer size (`SO_SNDBUF`); the kernel doubles it and caps
    /// it at `net.core.wmem_max`. On a Unix datagram socket it also bounds the
    /// largest datagram (``SockError/messageTooLarge`` beyond).
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative size or one
    ///   above `Int32.max`.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setSendBufferSize(_ bytes: Int) throws(SockError) {
        let value = try optionCount(bytes)
        try socketOption { fd throws(SockErrno) in try SockBindings.setSendBuffer(fd, value) }
    }

    /// The linger timeout (`SO_LINGER`): `nil` when lingering is off (close
    /// returns at once and the kernel sends what is left in the background),
    /// else how long close waits for unsent data, whole seconds. The
    /// corresponding C function is `getsockopt`.
    public var linger: Duration? {
        get throws(SockError) {
            var value = Linger()
            _ = try socketOption { fd throws(SockErrno) in try SockBindings.getLinger(fd, into: &value) }
            return value.l_onoff == 0 ? nil : .seconds(value.l_linger)
        }
    }

    /// Sets `SO_LINGER`: `nil` turns lingering off (the default); a duration
    /// makes close wait up to that long (whole seconds, rounded down) for
    /// unsent data; `.zero` makes close reset the connection at once (the
    /// peer's next read fails with ``SockError/connectionReset``).
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative duration.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setLinger(_ timeout: Duration?) throws(SockError) {
        var value = Linger()
        if let timeout {
            value.l_onoff = 1
            value.l_linger = try optionSeconds(timeout, minimum: 0)
        }
        try socketOption { fd throws(SockErrno) in try SockBindings.setLinger(fd, value) }
    }

    /// Whether `SO_ZEROCOPY` is set. The corresponding C function is
    /// `getsockopt`.
    public var zeroCopy: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getZeroCopy(fd) } }
    }

    /// Sets `SO_ZEROCOPY`, which allows `MSG_ZEROCOPY` sends (on loopback the
    /// kernel falls back to a deferred copy). TCP sockets Sock creates have it
    /// set when the kernel allows. The corresponding C function is
    /// `setsockopt`.
    public func setZeroCopy(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setZeroCopy(fd, enabled) }
    }
}

// MARK: - Running a generated accessor

extension Descriptor {
    /// Runs a generated option accessor with the descriptor number, keeping
    /// the descriptor valid meanwhile, and maps its `SockErrno` to
    /// ``SockError``. Every typed option method goes through here (the
    /// ``Socket`` ones through ``Socket/socketOption(_:)``).
    @inline(__always)
    internal func socketOption<Value>(_ body: (CInt) throws(SockErrno) -> Value) throws(SockError) -> Value {
        try withFileDescriptor { fd throws(SockError) -> Value in
            try mappingErrno { () throws(SockErrno) -> Value in try body(fd) }
        }
    }
}

// MARK: - Value conversions shared by the typed option methods

/// A count or size for an `int` option: 0...Int32.max, or
/// ``SockError/invalidParameter``.
@inline(__always)
internal func optionCount(_ value: Int) throws(SockError) -> CInt {
    guard value >= 0, value <= Int(CInt.max) else { throw .invalidParameter }
    return CInt(value)
}

/// `value` as the integer type an option holds (a C `int`, a `uint32_t`,
/// …), or ``SockError/invalidParameter`` when it does not fit: never
/// truncated. Range checks beyond the type's are the kernel's.
@inline(__always)
internal func optionInteger<Value: FixedWidthInteger>(
    _ value: some BinaryInteger, as type: Value.Type = Value.self
) throws(SockError) -> Value {
    guard let converted = Value(exactly: value) else { throw .invalidParameter }
    return converted
}

/// A duration in whole seconds (rounded down, at least `minimum`) for an
/// `int` option, or ``SockError/invalidParameter`` when negative.
@inline(__always)
internal func optionSeconds(_ duration: Duration, minimum: CInt) throws(SockError) -> CInt {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0, attoseconds >= 0 else { throw .invalidParameter }
    return Swift.max(minimum, CInt(clamping: seconds))
}

/// A duration in whole milliseconds (rounded down) for an unsigned option, or
/// ``SockError/invalidParameter`` when negative.
@inline(__always)
internal func optionMilliseconds(_ duration: Duration) throws(SockError) -> CUnsignedInt {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0, attoseconds >= 0 else { throw .invalidParameter }
    let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
    if overflow { return .max }
    return CUnsignedInt(clamping: scaled &+ attoseconds / 1_000_000_000_000_000)
}
