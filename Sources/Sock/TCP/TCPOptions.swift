// TCP-level options (and SO_KEEPALIVE) as methods of TCPSocket, TCPConn and
// TCPListener, delegating to the generated accessors. None allocates, except
// reading the congestion algorithm's name as a String.
import SockBindings

/// A TCP socket: ``TCPSocket``, ``TCPConn`` or ``TCPListener``. Conforming
/// types get the TCP option methods (`setNoDelay`, `setKeepAlivePeriod`,
/// `setCork`, …), so an option can be set before connecting, on a listener
/// (accepted connections inherit most of them) or on a connection.
///
/// Each method delegates to the generated accessor of ``SockBindings`` (the
/// Go reference's `SetTCPNoDelay(fd, …)` free functions become methods) and
/// throws ``SockError``. Times are `Duration`s, converted to the option's
/// unit (seconds or milliseconds, rounded down).
public protocol TCPSocketOptions: Socket {}

extension TCPSocketOptions {
    // MARK: Nagle, cork, quick ACK

    /// Whether `TCP_NODELAY` is set (Nagle's algorithm off). The corresponding
    /// C function is `getsockopt`.
    public var noDelay: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getTCPNoDelay(fd) } }
    }

    /// Sets `TCP_NODELAY`: small writes go out at once instead of waiting to
    /// be coalesced (Nagle's algorithm off). Go: `TCPConn.SetNoDelay`,
    /// `SetTCPNoDelay`. The corresponding C function is `setsockopt`.
    public func setNoDelay(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPNoDelay(fd, enabled) }
    }

    /// Whether `TCP_CORK` is set. Go: `GetTCPCork`. The corresponding C
    /// function is `getsockopt`.
    public var cork: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getTCPCork(fd) } }
    }

    /// Sets `TCP_CORK`: partial frames are held back until the cork is
    /// removed (or 200 ms pass). Go: `SetTCPCork`. The corresponding C
    /// function is `setsockopt`.
    public func setCork(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPCork(fd, enabled) }
    }

    /// Whether `TCP_QUICKACK` is currently set (the kernel clears it on its
    /// own). Go: `GetTCPQuickAck`. The corresponding C function is
    /// `getsockopt`.
    public var quickAck: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getTCPQuickAck(fd) } }
    }

    /// Sets `TCP_QUICKACK`: acknowledge at once instead of delaying. Not
    /// permanent: the kernel may leave quick-ack mode. Go: `SetTCPQuickAck`.
    /// The corresponding C function is `setsockopt`.
    public func setQuickAck(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPQuickAck(fd, enabled) }
    }

    // MARK: Keep-alive

    /// Whether `SO_KEEPALIVE` is set. The corresponding C function is
    /// `getsockopt`.
    public var keepAlive: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getKeepAlive(fd) } }
    }

    /// Sets `SO_KEEPALIVE`: probe an idle connection and fail it when the peer
    /// is gone. Go: `TCPConn.SetKeepAlive`. The corresponding C function is
    /// `setsockopt`.
    public func setKeepAlive(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setKeepAlive(fd, enabled) }
    }

    /// Sets the keep-alive idle time and probe interval together
    /// (`TCP_KEEPIDLE` and `TCP_KEEPINTVL`) to `period` in whole seconds, at
    /// least 1, as the reference does. Keep-alive itself is enabled with
    /// ``setKeepAlive(_:)``. Go: `TCPConn.SetKeepAlivePeriod`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative period.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setKeepAlivePeriod(_ period: Duration) throws(SockError) {
        let seconds = try optionSeconds(period, minimum: 1)
        try socketOption { fd throws(SockErrno) in
            try SockBindings.setTCPKeepIdle(fd, seconds)
            try SockBindings.setTCPKeepIntvl(fd, seconds)
        }
    }

    /// The idle time before the first keep-alive probe (`TCP_KEEPIDLE`). Go:
    /// `GetTCPKeepIdle`. The corresponding C function is `getsockopt`.
    public var keepAliveIdle: Duration {
        get throws(SockError) { .seconds(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPKeepIdle(fd) }) }
    }

    /// Sets `TCP_KEEPIDLE` in whole seconds (at least 1). Go:
    /// `SetTCPKeepIdle`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative duration.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setKeepAliveIdle(_ idle: Duration) throws(SockError) {
        let seconds = try optionSeconds(idle, minimum: 1)
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPKeepIdle(fd, seconds) }
    }

    /// The interval between keep-alive probes (`TCP_KEEPINTVL`). Go:
    /// `GetTCPKeepIntvl`. The corresponding C function is `getsockopt`.
    public var keepAliveInterval: Duration {
        get throws(SockError) { .seconds(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPKeepIntvl(fd) }) }
    }

    /// Sets `TCP_KEEPINTVL` in whole seconds (at least 1). Go:
    /// `SetTCPKeepIntvl`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative duration.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setKeepAliveInterval(_ interval: Duration) throws(SockError) {
        let seconds = try optionSeconds(interval, minimum: 1)
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPKeepIntvl(fd, seconds) }
    }

    /// How many unanswered probes fail the connection (`TCP_KEEPCNT`). Go:
    /// `GetTCPKeepCnt`. The corresponding C function is `getsockopt`.
    public var keepAliveCount: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPKeepCnt(fd) }) }
    }

    /// Sets `TCP_KEEPCNT`. Go: `SetTCPKeepCnt`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative count (the
    ///   kernel rejects 0 and values above 127 the same way).
    ///
    /// The corresponding C function is `setsockopt`.
    public func setKeepAliveCount(_ count: Int) throws(SockError) {
        let value = try optionCount(count)
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPKeepCnt(fd, value) }
    }

    // MARK: Timeouts and segment sizes

    /// How long sent data may stay unacknowledged before the connection is
    /// dropped (`TCP_USER_TIMEOUT`); `.zero` is the system default. The
    /// corresponding C function is `getsockopt`.
    public var userTimeout: Duration {
        get throws(SockError) {
            .milliseconds(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPUserTimeout(fd) })
        }
    }

    /// Sets `TCP_USER_TIMEOUT` in whole milliseconds; `.zero` restores the
    /// system default.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative duration.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setUserTimeout(_ timeout: Duration) throws(SockError) {
        let milliseconds = try optionMilliseconds(timeout)
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPUserTimeout(fd, milliseconds) }
    }

    /// The unsent-data threshold below which the socket polls writable
    /// (`TCP_NOTSENT_LOWAT`), in bytes. The corresponding C function is
    /// `getsockopt`.
    public var notSentLowWatermark: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPNotSentLowat(fd) }) }
    }

    /// Sets `TCP_NOTSENT_LOWAT` in bytes.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative value.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setNotSentLowWatermark(_ bytes: Int) throws(SockError) {
        let value = CUnsignedInt(try optionCount(bytes))
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPNotSentLowat(fd, value) }
    }

    /// The maximum segment size (`TCP_MAXSEG`), in bytes. The corresponding C
    /// function is `getsockopt`.
    public var maxSegmentSize: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPMaxSeg(fd) }) }
    }

    /// Sets `TCP_MAXSEG` (before connecting; the kernel bounds it).
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative or
    ///   out-of-range size.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setMaxSegmentSize(_ bytes: Int) throws(SockError) {
        let value = try optionCount(bytes)
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPMaxSeg(fd, value) }
    }

    /// The bound on the advertised window (`TCP_WINDOW_CLAMP`), in bytes. The
    /// corresponding C function is `getsockopt`.
    public var windowClamp: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPWindowClamp(fd) }) }
    }

    /// Sets `TCP_WINDOW_CLAMP` in bytes.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative size.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setWindowClamp(_ bytes: Int) throws(SockError) {
        let value = try optionCount(bytes)
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPWindowClamp(fd, value) }
    }

    // MARK: Listener-side options

    /// How long a listener waits for the first data before completing an
    /// accept (`TCP_DEFER_ACCEPT`), as the kernel rounded it. Go:
    /// `GetTCPDeferAccept`. The corresponding C function is `getsockopt`.
    public var deferAccept: Duration {
        get throws(SockError) { .seconds(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPDeferAccept(fd) }) }
    }

    /// Sets `TCP_DEFER_ACCEPT` in whole seconds; `.zero` turns it off. Go:
    /// `SetTCPDeferAccept`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative duration.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setDeferAccept(_ timeout: Duration) throws(SockError) {
        let seconds = try optionSeconds(timeout, minimum: 0)
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPDeferAccept(fd, seconds) }
    }

    /// The TCP Fast Open queue length of a listener (`TCP_FASTOPEN`); 0 when
    /// off. Go: `GetTCPFastOpen`. The corresponding C function is
    /// `getsockopt`.
    public var fastOpenQueueLength: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getTCPFastOpen(fd) }) }
    }

    /// Enables TCP Fast Open on a listener with a queue of `length` pending
    /// requests (`TCP_FASTOPEN`). Go: `SetTCPFastOpen`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative length.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setFastOpenQueueLength(_ length: Int) throws(SockError) {
        let value = try optionCount(length)
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPFastOpen(fd, value) }
    }

    // MARK: Congestion control and connection state

    /// Writes the congestion-control algorithm's name (`TCP_CONGESTION`, such
    /// as `cubic`) into `buffer` and returns its length in bytes, without
    /// allocating. A 16-byte buffer holds any name.
    ///
    /// The corresponding C function is `getsockopt`.
    public func congestion(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> Int {
        try socketOption { fd throws(SockErrno) in try SockBindings.getTCPCongestion(fd, into: buffer) }
    }

    /// The congestion-control algorithm's name, such as `"cubic"` or `"bbr"`
    /// (`TCP_CONGESTION`). Allocates the string; see
    /// ``congestion(into:)``.
    ///
    /// The corresponding C function is `getsockopt`.
    public var congestion: String {
        get throws(SockError) {
            var name = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            return try withUnsafeMutableBytes(of: &name) { buffer throws(SockError) -> String in
                let count = try congestion(into: buffer)
                return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
            }
        }
    }

    /// Selects the congestion-control algorithm by name (`TCP_CONGESTION`).
    ///
    /// - Throws: An error with `ENOENT` (``SockError/Code/other``) for an
    ///   algorithm the kernel does not have; ``SockError/permissionDenied``
    ///   for one that is not allowed to unprivileged users.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setCongestion(_ name: String) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setTCPCongestion(fd, name) }
    }

    /// Fills `info` with the kernel's `struct tcp_info` (`TCP_INFO`) and
    /// returns how many bytes it filled: a kernel older than the bindings'
    /// headers fills fewer than `MemoryLayout<TCPInfo>.size`, and the fields
    /// past that are unavailable (left as they were), not zero. Allocates
    /// nothing. Go: `GetTCPInfoInto`.
    ///
    /// The corresponding C function is `getsockopt`.
    @discardableResult
    public func tcpInfo(into info: inout TCPInfo) throws(SockError) -> Int {
        try socketOption { fd throws(SockErrno) in try SockBindings.getTCPInfo(fd, into: &info) }
    }
}
