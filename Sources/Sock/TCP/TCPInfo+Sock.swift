// TCP_INFO filled in place, knowing which fields this kernel provided.
//
// The generated `TCPInfo` mirrors the `struct tcp_info` of the headers the
// bindings came from (280 bytes with kernel 7.2 headers). The running kernel
// fills as many bytes as *it* knows and reports that length: an older kernel
// fills fewer (232 bytes for 6.1, 104 for the glibc 2.36 view), a newer one
// cuts its answer to our size. Fields past the filled length are not zero,
// they are unavailable — the Go reference ignores the length (§2.8); here
// `TCPInfoSnapshot` keeps it and answers per field.
//
// Nothing here allocates: the snapshot is a 288-byte value the caller owns,
// filled with one getsockopt(2); per-field availability is arithmetic on the
// offset the compiler gives for a key path (`MemoryLayout.offset(of:)`).
// The two bitfield storage units of `tcp_info` are computed properties in
// Swift, so their byte ranges are derived from the neighbouring stored fields
// rather than typed in.
import SockBindings

// MARK: - Snapshot

/// A `TCP_INFO` reading together with the number of bytes the kernel filled,
/// so that each field can say whether this kernel provided it.
///
/// Fill one in place, without allocation, with
/// ``TCPConfigurable/tcpInfo(into:)``; reuse it for every reading:
///
/// ```swift
/// var snapshot = TCPInfoSnapshot()
/// try conn.tcpInfo(into: &snapshot)
/// print(snapshot.info.tcpi_rtt)                    // always provided
/// if let window = snapshot.available(\.tcpi_rcv_wnd) {
///     print("receive window", window)              // Linux 6.0 and later
/// }
/// ```
///
/// ``info`` holds the raw structure (bytes the kernel did not fill are zero);
/// ``available(_:)`` and ``isAvailable(_:)`` tell "zero" apart from "this
/// kernel does not report it".
///
/// This is the Go reference's `TCPInfo` as filled by `GetTCPInfoInto`, plus
/// the filled length that the reference discards.
public struct TCPInfoSnapshot: Sendable, BitwiseCopyable {
    /// The structure as the kernel filled it; bytes past ``filledBytes`` are
    /// zero.
    public var info: TCPInfo

    /// How many bytes of ``info`` the kernel filled: ``capacity`` (280) when
    /// the running kernel knows every field of the headers the bindings came
    /// from, fewer on an older kernel; 0 before the first reading.
    public var filledBytes: Int

    /// The size of ``info`` in bytes: `MemoryLayout<TCPInfo>.size`, 280 with
    /// the kernel 7.2 headers (the Go reference's `SizeofTCPInfo`).
    @inlinable
    public static var capacity: Int { MemoryLayout<TCPInfo>.size }

    /// An empty snapshot: all zero, no field available. Fill it with
    /// ``TCPConfigurable/tcpInfo(into:)``.
    @inlinable
    public init() {
        info = TCPInfo()
        filledBytes = 0
    }

    /// A snapshot from a structure and the number of bytes that count as
    /// filled (clamped to 0...``capacity``). Bytes of `info` past
    /// `filledBytes` are zeroed, as a real reading leaves them.
    ///
    /// Use it to replay a reading, or to see how code behaves on an older
    /// kernel (`filledBytes: 232` is what Linux 6.1 returns).
    public init(info: TCPInfo, filledBytes: Int) {
        self.info = info
        self.filledBytes = Swift.min(Swift.max(filledBytes, 0), Self.capacity)
        zeroUnfilledTail()
    }

    /// A snapshot from the bytes a kernel returned for `TCP_INFO` (for
    /// example recorded elsewhere): the first `min(bytes.count, capacity)`
    /// bytes are copied and count as filled; the rest is zero.
    public init(kernelBytes bytes: UnsafeRawBufferPointer) {
        self.init()
        let count = Swift.min(bytes.count, Self.capacity)
        if count > 0 {
            withUnsafeMutableBytes(of: &info) { destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0 ..< count]))
            }
        }
        filledBytes = count
    }

    /// Whether the kernel filled every field the bindings know
    /// (``filledBytes`` == ``capacity``).
    @inlinable
    public var isComplete: Bool { filledBytes >= Self.capacity }

    // MARK: Per-field availability

    /// Whether the running kernel provided `field`: its bytes lie within
    /// ``filledBytes``.
    ///
    /// Works for every field of `TCPInfo`, including the bitfields
    /// (`tcpi_snd_wscale`, `tcpi_rcv_wscale`,
    /// `tcpi_delivery_rate_app_limited`, `tcpi_fastopen_client_fail`,
    /// `tcpi_ecn_mode`, `tcpi_accecn_opt_seen`, `tcpi_accecn_fail_mode`,
    /// `tcpi_options2`), which count as provided when their whole storage unit
    /// was filled. A key path that is not a field of the structure counts as
    /// provided only when the reading is complete.
    ///
    /// ```swift
    /// snapshot.isAvailable(\.tcpi_rtt)       // true on every kernel since 2.6
    /// snapshot.isAvailable(\.tcpi_rcv_wnd)   // false on Linux 6.1 (232 bytes)
    /// ```
    @inlinable
    public func isAvailable<Value>(_ field: KeyPath<TCPInfo, Value>) -> Bool {
        guard let range = TCPInfoSnapshot.byteRange(of: field) else { return isComplete }
        return range.upperBound <= filledBytes
    }

    /// The value of `field`, or `nil` when the running kernel did not provide
    /// it (see ``isAvailable(_:)``). A zero the kernel reported is `0`, not
    /// `nil`.
    ///
    /// ```swift
    /// let rtt = snapshot.available(\.tcpi_rtt)             // UInt32? (µs)
    /// let rcvWindow = snapshot.available(\.tcpi_rcv_wnd)   // nil on Linux 6.1 (232 bytes)
    /// ```
    @inlinable
    public func available<Value>(_ field: KeyPath<TCPInfo, Value>) -> Value? {
        isAvailable(field) ? info[keyPath: field] : nil
    }

    /// Whether the bytes `range` of the structure were filled.
    @inlinable
    public func isAvailable(bytes range: Range<Int>) -> Bool {
        range.upperBound <= filledBytes
    }

    /// The bytes `field` occupies in `TCPInfo`: its stored range, the
    /// storage unit of a bitfield, or `nil` for a key path that is neither.
    public static func byteRange<Value>(of field: KeyPath<TCPInfo, Value>) -> Range<Int>? {
        if let offset = MemoryLayout<TCPInfo>.offset(of: field) {
            return offset ..< offset + MemoryLayout<Value>.size
        }
        return bitfieldByteRange(of: field)
    }

    // MARK: Helpers (available when the kernel filled the fields)

    /// The connection's state (`tcpi_state`), or `nil` before the first
    /// reading.
    @inlinable
    public var state: TCPState? {
        isAvailable(\.tcpi_state) ? info.state : nil
    }

    // MARK: Internals

    /// Zeroes ``info`` past ``filledBytes``.
    private mutating func zeroUnfilledTail() {
        let start = filledBytes
        guard start < Self.capacity else { return }
        withUnsafeMutableBytes(of: &info) { bytes in
            _ = UnsafeMutableRawBufferPointer(rebasing: bytes[start...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    /// The storage unit of a bitfield of `tcp_info`, derived from the stored
    /// fields around it (so nothing depends on numbers typed in here).
    private static func bitfieldByteRange<Value>(of field: KeyPath<TCPInfo, Value>) -> Range<Int>? {
        let key = field as AnyKeyPath
        if key == \TCPInfo.tcpi_snd_wscale || key == \TCPInfo.tcpi_rcv_wscale
            || key == \TCPInfo.tcpi_delivery_rate_app_limited || key == \TCPInfo.tcpi_fastopen_client_fail {
            // Between tcpi_options (a byte) and tcpi_rto.
            guard let options = MemoryLayout<TCPInfo>.offset(of: \TCPInfo.tcpi_options),
                  let rto = MemoryLayout<TCPInfo>.offset(of: \TCPInfo.tcpi_rto) else { return nil }
            return options + MemoryLayout<UInt8>.size ..< rto
        }
        if key == \TCPInfo.tcpi_ecn_mode || key == \TCPInfo.tcpi_accecn_opt_seen
            || key == \TCPInfo.tcpi_accecn_fail_mode || key == \TCPInfo.tcpi_options2 {
            // After tcpi_received_ce_bytes, to the end of the structure.
            guard let last = MemoryLayout<TCPInfo>.offset(of: \TCPInfo.tcpi_received_ce_bytes) else { return nil }
            return last + MemoryLayout<UInt32>.size ..< MemoryLayout<TCPInfo>.size
        }
        return nil
    }
}

// MARK: - Reading

extension Descriptor {
    /// Fills `snapshot` with `getsockopt(IPPROTO_TCP, TCP_INFO)`: zeroes it
    /// (an older kernel leaves the tail untouched, and a reused snapshot must
    /// not show the previous reading there), passes the whole structure, and
    /// records the length the kernel filled.
    ///
    /// - Parameter read: The option read; tests pass one that behaves like an
    ///   older kernel.
    internal func readTCPInfo(
        into snapshot: inout TCPInfoSnapshot,
        using read: (Descriptor, inout TCPInfo) throws(SockError) -> Int = { descriptor, info throws(SockError) in
            try descriptor.option(SocketOption<OptionScope.TCP, _, _>.info, into: &info)
        }
    ) throws(SockError) {
        snapshot.info = TCPInfo()
        snapshot.filledBytes = 0
        let filled = try read(self, &snapshot.info)
        snapshot.filledBytes = Swift.min(Swift.max(filled, 0), TCPInfoSnapshot.capacity)
    }
}

extension TCPConfigurable {
    /// Reads `TCP_INFO` into `snapshot`, in place and without allocation,
    /// recording how many bytes the kernel filled (see
    /// ``TCPInfoSnapshot/available(_:)``).
    ///
    /// Reuse one snapshot for repeated readings. Works on connections,
    /// listeners (state ``TCPState/listen``) and unconnected sockets (state
    /// ``TCPState/close``).
    ///
    /// Go: `GetTCPInfoInto` (which ignores the filled length). The
    /// corresponding C function is `getsockopt` (`TCP_INFO`).
    ///
    /// - Throws: ``SockError/closed`` after close; otherwise the kernel's
    ///   error.
    public func tcpInfo(into snapshot: inout TCPInfoSnapshot) throws(SockError) {
        try descriptor.readTCPInfo(into: &snapshot)
    }

    /// Reads `TCP_INFO` and returns it with the filled length. The snapshot
    /// is a value (288 bytes, on the stack): nothing is allocated.
    ///
    /// Go: `GetTCPInfo` (which allocates a `*TCPInfo`). The corresponding C
    /// function is `getsockopt` (`TCP_INFO`).
    public func tcpInfo() throws(SockError) -> TCPInfoSnapshot {
        var snapshot = TCPInfoSnapshot()
        try descriptor.readTCPInfo(into: &snapshot)
        return snapshot
    }
}

// MARK: - States

/// The state of a TCP connection, as `tcpi_state` reports it (`TCP_*`
/// states of `netinet/tcp.h`).
///
/// The Go reference exposes the raw `TCP_ESTABLISHED`… constants; they are in
/// ``SockBindings`` too.
public enum TCPState: Hashable, Sendable, CustomStringConvertible {
    /// `TCP_ESTABLISHED`: data flows both ways.
    case established
    /// `TCP_SYN_SENT`: a connect is waiting for the peer's SYN-ACK.
    case synSent
    /// `TCP_SYN_RECV`: a SYN arrived and was answered.
    case synReceived
    /// `TCP_FIN_WAIT1`: we closed; our FIN is not yet acknowledged.
    case finWait1
    /// `TCP_FIN_WAIT2`: our FIN is acknowledged; waiting for the peer's.
    case finWait2
    /// `TCP_TIME_WAIT`: both sides closed; waiting out stray segments.
    case timeWait
    /// `TCP_CLOSE`: closed, or never connected.
    case close
    /// `TCP_CLOSE_WAIT`: the peer closed; we have not yet.
    case closeWait
    /// `TCP_LAST_ACK`: we closed after the peer; waiting for the last ACK.
    case lastAck
    /// `TCP_LISTEN`: a listening socket.
    case listen
    /// `TCP_CLOSING`: both sides closed at the same time.
    case closing
    /// A state number this enumeration does not know.
    case other(UInt8)

    /// The state of a `tcpi_state` value.
    @inlinable
    public init(rawValue: UInt8) {
        switch CInt(rawValue) {
        case SockBindings.TCP_ESTABLISHED: self = .established
        case SockBindings.TCP_SYN_SENT: self = .synSent
        case SockBindings.TCP_SYN_RECV: self = .synReceived
        case SockBindings.TCP_FIN_WAIT1: self = .finWait1
        case SockBindings.TCP_FIN_WAIT2: self = .finWait2
        case SockBindings.TCP_TIME_WAIT: self = .timeWait
        case SockBindings.TCP_CLOSE: self = .close
        case SockBindings.TCP_CLOSE_WAIT: self = .closeWait
        case SockBindings.TCP_LAST_ACK: self = .lastAck
        case SockBindings.TCP_LISTEN: self = .listen
        case SockBindings.TCP_CLOSING: self = .closing
        default: self = .other(rawValue)
        }
    }

    /// The `TCP_*` state number.
    @inlinable
    public var rawValue: UInt8 {
        let value: CInt
        switch self {
        case .established: value = SockBindings.TCP_ESTABLISHED
        case .synSent: value = SockBindings.TCP_SYN_SENT
        case .synReceived: value = SockBindings.TCP_SYN_RECV
        case .finWait1: value = SockBindings.TCP_FIN_WAIT1
        case .finWait2: value = SockBindings.TCP_FIN_WAIT2
        case .timeWait: value = SockBindings.TCP_TIME_WAIT
        case .close: value = SockBindings.TCP_CLOSE
        case .closeWait: value = SockBindings.TCP_CLOSE_WAIT
        case .lastAck: value = SockBindings.TCP_LAST_ACK
        case .listen: value = SockBindings.TCP_LISTEN
        case .closing: value = SockBindings.TCP_CLOSING
        case .other(let raw): return raw
        }
        return UInt8(truncatingIfNeeded: value)
    }

    /// The kernel's name, such as "ESTABLISHED", or "state N".
    public var description: String {
        switch self {
        case .established: "ESTABLISHED"
        case .synSent: "SYN_SENT"
        case .synReceived: "SYN_RECV"
        case .finWait1: "FIN_WAIT1"
        case .finWait2: "FIN_WAIT2"
        case .timeWait: "TIME_WAIT"
        case .close: "CLOSE"
        case .closeWait: "CLOSE_WAIT"
        case .lastAck: "LAST_ACK"
        case .listen: "LISTEN"
        case .closing: "CLOSING"
        case .other(let raw): "state \(raw)"
        }
    }
}

/// The congestion-avoidance state of a TCP connection, as `tcpi_ca_state`
/// reports it (`TCP_CA_*` of `linux/tcp.h`; the Go reference exposes the raw
/// constants).
public enum TCPCongestionState: Hashable, Sendable {
    /// `TCP_CA_Open`: nothing unusual.
    case open
    /// `TCP_CA_Disorder`: duplicate ACKs or SACKs seen.
    case disorder
    /// `TCP_CA_CWR`: the window was reduced (ECN or a local congestion event).
    case congestionWindowReduced
    /// `TCP_CA_Recovery`: fast retransmit in progress.
    case recovery
    /// `TCP_CA_Loss`: a retransmission timeout fired.
    case loss
    /// A state number this enumeration does not know.
    case other(UInt8)

    /// The state of a `tcpi_ca_state` value.
    @inlinable
    public init(rawValue: UInt8) {
        switch CInt(rawValue) {
        case SockBindings.TCP_CA_Open: self = .open
        case SockBindings.TCP_CA_Disorder: self = .disorder
        case SockBindings.TCP_CA_CWR: self = .congestionWindowReduced
        case SockBindings.TCP_CA_Recovery: self = .recovery
        case SockBindings.TCP_CA_Loss: self = .loss
        default: self = .other(rawValue)
        }
    }
}

// MARK: - The reference's helpers

extension TCPInfo {
    /// The connection state (`tcpi_state`).
    @inlinable
    public var state: TCPState { TCPState(rawValue: tcpi_state) }

    /// The congestion-avoidance state (`tcpi_ca_state`).
    @inlinable
    public var congestionState: TCPCongestionState { TCPCongestionState(rawValue: tcpi_ca_state) }

    /// The window scale this side applies to what it sends
    /// (`tcpi_snd_wscale`, the low nibble of byte 6). Go: `TCPInfo.SndWscale`.
    @inlinable
    public var sendWindowScale: UInt8 { tcpi_snd_wscale }

    /// The window scale this side applies to what it receives
    /// (`tcpi_rcv_wscale`, the high nibble of byte 6). Go:
    /// `TCPInfo.RcvWscale`.
    @inlinable
    public var receiveWindowScale: UInt8 { tcpi_rcv_wscale }

    /// Whether the delivery-rate sample was limited by the application
    /// rather than the network (`tcpi_delivery_rate_app_limited`). Go:
    /// `TCPInfo.IsDeliveryRateAppLimited`.
    @inlinable
    public var isDeliveryRateAppLimited: Bool { tcpi_delivery_rate_app_limited != 0 }

    /// Why TCP Fast Open failed on the client side
    /// (`tcpi_fastopen_client_fail`): 0 unspecified, 1 no cookie
    /// available, 2 SYN data not acknowledged, 3 SYN retransmitted. Go:
    /// `TCPInfo.FastOpenClientFail`.
    @inlinable
    public var fastOpenClientFail: UInt8 { tcpi_fastopen_client_fail }

    /// Whether both sides use TCP timestamps (`TCPI_OPT_TIMESTAMPS`). Go:
    /// `TCPInfo.HasTimestamps`.
    @inlinable
    public var hasTimestamps: Bool { hasOption(SockBindings.TCPI_OPT_TIMESTAMPS) }

    /// Whether selective acknowledgements are in use (`TCPI_OPT_SACK`). Go:
    /// `TCPInfo.HasSACK`.
    @inlinable
    public var hasSACK: Bool { hasOption(SockBindings.TCPI_OPT_SACK) }

    /// Whether window scaling is in use (`TCPI_OPT_WSCALE`). Go:
    /// `TCPInfo.HasWscale`.
    @inlinable
    public var hasWindowScaling: Bool { hasOption(SockBindings.TCPI_OPT_WSCALE) }

    /// Whether ECN was negotiated (`TCPI_OPT_ECN`). Go: `TCPInfo.HasECN`.
    @inlinable
    public var hasECN: Bool { hasOption(SockBindings.TCPI_OPT_ECN) }

    /// Whether the `TCPI_OPT_*` bit `option` is set in `tcpi_options`.
    @inlinable
    public func hasOption(_ option: CInt) -> Bool {
        CInt(tcpi_options) & option != 0
    }
}
