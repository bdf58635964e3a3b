// SCTP-level options as methods of SCTPSocket, SCTPConn and SCTPListener,
// delegating to the generated accessors. None allocates.
//
// The Go reference's options that are `int`s but whose kernel option takes a
// `struct sctp_assoc_value` (SCTP_CONTEXT, SCTP_MAX_BURST, SCTP_MAXSEG) pass
// `assoc_id` SCTP_FUTURE_ASSOC (0): on a one-to-one socket the id is
// ignored, on a one-to-many socket it is the default for future
// associations — what the reference's int-typed functions mean.
import SockBindings

/// An SCTP socket: ``SCTPSocket``, ``SCTPConn`` or ``SCTPListener``.
/// Conforming types get the SCTP option methods (``setNoDelay(_:)``,
/// ``setInitMessage(_:)``, ``setMaxSegmentSize(_:)``, …), so an option can be
/// set before connecting, on a listener (accepted associations inherit most
/// of them) or on a connection.
///
/// Each method delegates to the generated accessor of ``SockBindings`` (the
/// Go reference's `SetSCTPNodelay(fd, …)` free functions become methods) and
/// throws ``SockError``.
public protocol SCTPSocketOptions: Socket {}

extension SCTPSocketOptions {
    // MARK: No delay

    /// Whether `SCTP_NODELAY` is set (the Nagle-like bundling delay off). Go:
    /// `GetSCTPNodelay`. The corresponding C function is `getsockopt`.
    public var noDelay: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getSCTPNodelay(fd) } }
    }

    /// Sets `SCTP_NODELAY`: small messages go out at once instead of being
    /// bundled. Go: `SetSCTPNodelay`. The corresponding C function is
    /// `setsockopt`.
    public func setNoDelay(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPNodelay(fd, enabled) }
    }

    // MARK: Autoclose

    /// How long an idle association stays up before the kernel closes it
    /// (`SCTP_AUTOCLOSE`, whole seconds); `nil` when off (the default). Go:
    /// `GetSCTPAutoclose`. The corresponding C function is `getsockopt`.
    public var autoClose: Duration? {
        get throws(SockError) {
            let seconds = try socketOption { fd throws(SockErrno) in try SockBindings.getSCTPAutoclose(fd) }
            return seconds == 0 ? nil : .seconds(seconds)
        }
    }

    /// Sets `SCTP_AUTOCLOSE`: idle associations are closed after `timeout`
    /// (whole seconds, rounded down); `nil` or zero turns it off. Only
    /// one-to-many sockets support it (one-to-one sockets throw
    /// ``SockError/notSupported``). Go: `SetSCTPAutoclose`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative duration.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setAutoClose(_ timeout: Duration?) throws(SockError) {
        let seconds = try timeout.map { (timeout) throws(SockError) in try optionSeconds(timeout, minimum: 0) } ?? 0
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPAutoclose(fd, seconds) }
    }

    // MARK: Context

    /// The default context of outgoing messages (`SCTP_CONTEXT`), returned
    /// with send failures. Go: `GetSCTPContext`. The corresponding C function
    /// is `getsockopt`.
    public var context: UInt32 {
        get throws(SockError) { try associationValue { fd, value throws(SockErrno) in try SockBindings.getSCTPContext(fd, into: &value) } }
    }

    /// Sets the default context of outgoing messages (`SCTP_CONTEXT`). Go:
    /// `SetSCTPContext`. The corresponding C function is `setsockopt`.
    public func setContext(_ context: UInt32) throws(SockError) {
        let value = Self.futureAssociation(context)
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPContext(fd, value) }
    }

    // MARK: Fragments

    /// Whether `SCTP_DISABLE_FRAGMENTS` is set: messages larger than the path
    /// MTU fail instead of being fragmented. Go: `GetSCTPDisableFragments`.
    /// The corresponding C function is `getsockopt`.
    public var fragmentsDisabled: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getSCTPDisableFragments(fd) } }
    }

    /// Sets `SCTP_DISABLE_FRAGMENTS`: when on, a message larger than the path
    /// MTU is refused with ``SockError/messageTooLarge`` instead of being
    /// fragmented. Go: `SetSCTPDisableFragments`. The corresponding C
    /// function is `setsockopt`.
    public func setFragmentsDisabled(_ disabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPDisableFragments(fd, disabled) }
    }

    /// The fragment interleave level (`SCTP_FRAGMENT_INTERLEAVE`): 0 no
    /// interleaving, 1 messages of different associations may interleave,
    /// 2 also messages of different streams of one association. Go:
    /// `GetSCTPFragmentInterleave`. The corresponding C function is
    /// `getsockopt`.
    public var fragmentInterleave: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getSCTPFragmentInterleave(fd) }) }
    }

    /// Sets the fragment interleave level (`SCTP_FRAGMENT_INTERLEAVE`), 0, 1
    /// or 2. Go: `SetSCTPFragmentInterleave`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a level the kernel
    ///   rejects or one that does not fit an `int`.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setFragmentInterleave(_ level: Int) throws(SockError) {
        let value = try optionInteger(level, as: CInt.self)
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPFragmentInterleave(fd, value) }
    }

    // MARK: Association set-up

    /// The parameters of new associations (`SCTP_INITMSG`): outbound streams
    /// (`sinit_num_ostreams`), maximum inbound streams
    /// (`sinit_max_instreams`), INIT retransmissions (`sinit_max_attempts`)
    /// and the INIT timeout in milliseconds (`sinit_max_init_timeo`). Go:
    /// `GetSCTPInitMsg`. The corresponding C function is `getsockopt`.
    public var initMessage: SCTPInitMsg {
        get throws(SockError) {
            var value = SCTPInitMsg()
            _ = try socketOption { fd throws(SockErrno) in try SockBindings.getSCTPInitMsg(fd, into: &value) }
            return value
        }
    }

    /// Sets the parameters of new associations (`SCTP_INITMSG`); set it
    /// before connecting or listening. A field left 0 keeps the kernel's
    /// default. Go: `SetSCTPInitMsg`. The corresponding C function is
    /// `setsockopt`.
    public func setInitMessage(_ message: SCTPInitMsg) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPInitMsg(fd, message) }
    }

    // MARK: IPv4-mapped addresses

    /// Whether an IPv6 socket reports IPv4 peers as IPv4-mapped IPv6
    /// addresses (`SCTP_I_WANT_MAPPED_V4_ADDR`). Go: `GetSCTPMappedV4`. The
    /// corresponding C function is `getsockopt`.
    public var mappedV4: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getSCTPMappedV4(fd) } }
    }

    /// Sets `SCTP_I_WANT_MAPPED_V4_ADDR`. Go: `SetSCTPMappedV4`. The
    /// corresponding C function is `setsockopt`.
    public func setMappedV4(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPMappedV4(fd, enabled) }
    }

    // MARK: Burst and segment size

    /// The most packets sent in one burst (`SCTP_MAX_BURST`). Go:
    /// `GetSCTPMaxBurst`. The corresponding C function is `getsockopt`.
    public var maxBurst: Int {
        get throws(SockError) {
            Int(try associationValue { fd, value throws(SockErrno) in try SockBindings.getSCTPMaxBurst(fd, into: &value) })
        }
    }

    /// Sets the most packets sent in one burst (`SCTP_MAX_BURST`); 0 means
    /// no limit. Go: `SetSCTPMaxBurst`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative count or one
    ///   above `UInt32.max`.
    ///
    /// The corresponding C function is `setsockopt`.
    public func setMaxBurst(_ burst: Int) throws(SockError) {
        let value = Self.futureAssociation(try optionInteger(burst))
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPMaxBurst(fd, value) }
    }

    /// The largest DATA chunk the socket sends, in bytes (`SCTP_MAXSEG`);
    /// 0 when it follows the path MTU. Go: `GetSCTPMaxseg`. The corresponding
    /// C function is `getsockopt`.
    public var maxSegmentSize: Int {
        get throws(SockError) {
            Int(try associationValue { fd, value throws(SockErrno) in try SockBindings.getSCTPMaxseg(fd, into: &value) })
        }
    }

    /// Sets the largest DATA chunk (`SCTP_MAXSEG`): larger messages are
    /// fragmented to it; 0 follows the path MTU. Go: `SetSCTPMaxseg`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative size, or one
    ///   the kernel rejects (outside what the path allows).
    ///
    /// The corresponding C function is `setsockopt`.
    public func setMaxSegmentSize(_ bytes: Int) throws(SockError) {
        let value = Self.futureAssociation(try optionInteger(bytes))
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPMaxseg(fd, value) }
    }

    // MARK: Partial delivery

    /// The size in bytes from which a large message is handed to the reader
    /// in parts (`SCTP_PARTIAL_DELIVERY_POINT`). Go:
    /// `GetSCTPPartialDeliveryPoint`. The corresponding C function is
    /// `getsockopt`.
    public var partialDeliveryPoint: Int {
        get throws(SockError) {
            Int(try socketOption { fd throws(SockErrno) in try SockBindings.getSCTPPartialDeliveryPoint(fd) })
        }
    }

    /// Sets the partial delivery point (`SCTP_PARTIAL_DELIVERY_POINT`), in
    /// bytes. Go: `SetSCTPPartialDeliveryPoint`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative size, one
    ///   above `UInt32.max`, or one larger than the receive buffer (the
    ///   kernel's check).
    ///
    /// The corresponding C function is `setsockopt`.
    public func setPartialDeliveryPoint(_ bytes: Int) throws(SockError) {
        let value = try optionInteger(bytes, as: UInt32.self)
        try socketOption { fd throws(SockErrno) in try SockBindings.setSCTPPartialDeliveryPoint(fd, value) }
    }

    // MARK: Helpers

    /// An `sctp_assoc_value` for `SCTP_FUTURE_ASSOC` (the socket's default;
    /// the only association of a one-to-one socket).
    @inline(__always)
    internal static func futureAssociation(_ value: UInt32) -> SCTPAssocValue {
        var result = SCTPAssocValue()
        result.assoc_id = SockBindings.SCTP_FUTURE_ASSOC
        result.assoc_value = value
        return result
    }

    /// Reads an `sctp_assoc_value` option for `SCTP_FUTURE_ASSOC` and returns
    /// its value.
    @inline(__always)
    internal func associationValue(
        _ read: (CInt, inout SCTPAssocValue) throws(SockErrno) -> Int
    ) throws(SockError) -> UInt32 {
        var value = Self.futureAssociation(0)
        _ = try socketOption { fd throws(SockErrno) in try read(fd, &value) }
        return value.assoc_value
    }
}
