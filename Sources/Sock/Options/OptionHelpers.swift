// The few option methods that add meaning to the generated keys: the Go
// reference's linger as an optional Duration and its keep-alive period (idle
// time and probe interval set together). Everything else is a key used with
// `option(_:)` / `setOption(_:to:)` (Options/SocketOption.swift).
import SockBindings

extension Socket {
    /// The linger timeout (`SO_LINGER`): `nil` when lingering is off (close
    /// returns at once and the kernel sends what is left in the background),
    /// else how long close waits for unsent data, whole seconds. The raw
    /// structure is the key `.linger`. Go: `GetLinger`.
    ///
    /// The corresponding C function is `getsockopt`.
    public var lingerTimeout: Duration? {
        get throws(SockError) {
            let value = try option(.linger)
            return value.l_onoff == 0 ? nil : .seconds(value.l_linger)
        }
    }

    /// Sets `SO_LINGER`: `nil` turns lingering off (the default); a duration
    /// makes close wait up to that long (rounded up to whole seconds) for
    /// unsent data; `.zero` makes close reset the connection at once (the
    /// peer's next read fails with ``SockError/connectionReset``). Go:
    /// `SetLinger`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative duration or
    ///   one beyond `Int32.max` seconds; nothing is written.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setLinger(_ timeout: Duration?) throws(SockError) {
        var value = Linger()
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            guard seconds >= 0, attoseconds >= 0 else { throw .invalidParameter }
            guard let whole = CInt(exactly: seconds + (attoseconds > 0 ? 1 : 0)) else { throw .invalidParameter }
            value.l_onoff = 1
            value.l_linger = whole
        }
        try setOption(.linger, to: value)
    }
}

extension TCPConfigurable {
    /// Sets the keep-alive idle time and probe interval together
    /// (`TCP_KEEPIDLE` and `TCP_KEEPINTVL`, the keys `.keepAliveIdle` and
    /// `.keepAliveInterval`) to `period`, rounded up to whole seconds and at
    /// least 1 second, as the reference does. Keep-alive itself is enabled
    /// with the key `.keepAlive`. Go: `TCPConn.SetKeepAlivePeriod`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative period;
    ///   nothing is written.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setKeepAlivePeriod(_ period: Duration) throws(SockError) {
        guard period >= .zero else { throw .invalidParameter }
        let value = Swift.max(period, .seconds(1))
        try setOption(.keepAliveIdle, to: value)
        try setOption(.keepAliveInterval, to: value)
    }
}
