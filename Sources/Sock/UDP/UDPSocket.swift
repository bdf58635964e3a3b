// UDPSocket: a UDP socket of one IP family, before or after it is bound or
// connected, with the options only UDP (broadcast) or only one IP family
// (TOS/TTL, traffic class/hop limit, IPv6-only) has. The socket-level options,
// close and the pending error come from the `Socket` protocol
// (Socket.swift, SocketOptions.swift). UDPConn (UDPConn.swift) is a UDPSocket
// that is bound or connected and can send and receive.
//
// Why a class hierarchy: the Go reference's UDPConn embeds *UDPSocket, so
// every option and `Close` of the socket is a method of the connection too.
// A subclass says the same in Swift without forwarding code: `UDPConn` is a
// `UDPSocket`. Every member is `final` (statically dispatched), the class is
// `public` but not `open` (only Sock can subclass it), and all stored state is
// immutable, so sharing either type between threads is safe.
//
// Constants and accessors come from the generated bindings and are written
// `SockBindings.X`: Glibc declares the same constant names, and inside these
// classes an unqualified `setBroadcast(fd, …)` would name the method.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// A UDP socket of one IP family (`Address` is ``SockaddrInet4`` or
/// ``SockaddrInet6``), with its socket options.
///
/// Create one with ``init()`` to set options that must precede binding (such
/// as ``setIPv6Only(_:)`` or a receive buffer size), then hand it to
/// ``UDPConn/listen(on:socket:)`` or ``UDPConn/dial(to:from:socket:)``. Most
/// code never creates a `UDPSocket` itself: those constructors create one.
/// Every ``UDPConn`` is a `UDPSocket`, so every option is available on
/// connections too: broadcast and the family's IP options here, and the
/// socket-level ones every ``Socket`` has (``Socket/setReceiveBufferSize(_:)``,
/// ``Socket/setReusePort(_:)``, ``Socket/setZeroCopy(_:)``,
/// ``Socket/takeError()``, ``Socket/close()``, …).
///
/// Like every socket Sock creates, the descriptor is non-blocking and
/// close-on-exec from birth. Option getters and setters make one
/// `getsockopt`/`setsockopt` call each and never allocate.
///
/// This is the Go reference's `UDPSocket`: `NewUDPSocket4`/`NewUDPSocket6`
/// are ``init()`` with ``SockaddrInet4``/``SockaddrInet6``, `Protocol` is
/// ``underlyingProtocol``, `FD` is ``descriptor``.
public class UDPSocket<Address: IPSocketAddress>: Socket, @unchecked Sendable {
    // @unchecked only because a class that is not final cannot be checked:
    // the stored state is one immutable reference to a Sendable Descriptor,
    // and the one subclass (UDPConn) adds only immutable Sendable state.

    /// The socket's descriptor: the raw number (``Descriptor/rawValue``) for
    /// epoll or io_uring, and ``Descriptor/withFileDescriptor(_:)`` to use it
    /// safely while another thread might close the socket.
    ///
    /// This is the Go reference's `FD` and `SyscallConn`.
    public let descriptor: Descriptor

    /// Wraps a descriptor that already is a UDP socket of `Address`'s family.
    internal init(descriptor: Descriptor) {
        self.descriptor = descriptor
    }

    /// Creates an unbound UDP socket of `Address`'s family
    /// (`socket(AF_INET or AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
    /// IPPROTO_UDP)`) with the reference's defaults: `SO_REUSEADDR` and
    /// `SO_REUSEPORT` on, and `SO_ZEROCOPY` on where the kernel supports it
    /// (its failure is ignored).
    ///
    /// ```swift
    /// let socket = try UDPSocket<SockaddrInet6>()
    /// try socket.setIPv6Only(true)
    /// let conn = try UDPConn.listen(on: SockaddrInet6(port: 5353), socket: socket)
    /// ```
    ///
    /// Go: `NewUDPSocket4` (with `SockaddrInet4`) and `NewUDPSocket6` (with
    /// `SockaddrInet6`).
    ///
    /// - Throws: ``SockError``, such as ``SockError/addressFamilyNotSupported``
    ///   on a host without IPv6.
    ///
    /// The corresponding C functions are `socket` and `setsockopt`.
    public convenience init() throws(SockError) {
        let descriptor = try Descriptor.socket(
            family: Address.family, type: SockBindings.SOCK_DGRAM, protocol: SockBindings.IPPROTO_UDP
        )
        try descriptor.withFileDescriptor { fd throws(SockError) in
            try mappingErrno { () throws(SockErrno) in
                try SockBindings.setReuseAddr(fd, true)
                try SockBindings.setReusePort(fd, true)
            }
            // Best effort, as in the reference: SO_ZEROCOPY needs Linux 5.0
            // for UDP, and only matters to sends that pass MSG_ZEROCOPY.
            do { try SockBindings.setZeroCopy(fd, true) } catch {}
        }
        self.init(descriptor: descriptor)
    }

    // MARK: Identity

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``, following `Address`
    /// (Go: `NetworkType()`).
    public final var networkType: NetworkType { NetworkType(family: Address.family) }

    /// Always ``UnderlyingProtocol/datagram`` (Go: `UDPSocket.Protocol()`).
    public final var underlyingProtocol: UnderlyingProtocol { .datagram }

    // MARK: Broadcast

    /// Whether sending to broadcast addresses is allowed (`SO_BROADCAST`);
    /// off by default.
    ///
    /// Go: `UDPConn.GetBroadcast`. The corresponding C function is
    /// `getsockopt`.
    public final var broadcast: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getBroadcast(fd) } }
    }

    /// Allows or forbids sending to broadcast addresses (`SO_BROADCAST`).
    /// Without it, a datagram to a broadcast address fails with
    /// ``SockError/permissionDenied`` and is not sent.
    ///
    /// Go: `UDPConn.SetBroadcast`. The corresponding C function is
    /// `setsockopt`.
    public final func setBroadcast(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setBroadcast(fd, enabled) }
    }
}

// MARK: - IPv4 options

extension UDPSocket where Address == SockaddrInet4 {
    /// The type-of-service byte of outgoing packets (`IP_TOS`): DSCP in the
    /// upper six bits, ECN in the lower two.
    ///
    /// The corresponding C function is `getsockopt`.
    public var typeOfService: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getIPTOS(fd) }) }
    }

    /// Sets the type-of-service byte of outgoing packets (`IP_TOS`), 0...255.
    ///
    /// The corresponding C function is `setsockopt`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a value the kernel
    ///   rejects.
    public func setTypeOfService(_ value: Int) throws(SockError) {
        let value = try optionInteger(value, as: CInt.self)
        try socketOption { fd throws(SockErrno) in try SockBindings.setIPTOS(fd, value) }
    }

    /// The time-to-live of outgoing unicast packets (`IP_TTL`).
    ///
    /// The corresponding C function is `getsockopt`.
    public var timeToLive: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getIPTTL(fd) }) }
    }

    /// Sets the time-to-live of outgoing unicast packets (`IP_TTL`), 1...255
    /// (−1 restores the system default).
    ///
    /// The corresponding C function is `setsockopt`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a value out of range.
    public func setTimeToLive(_ value: Int) throws(SockError) {
        let value = try optionInteger(value, as: CInt.self)
        try socketOption { fd throws(SockErrno) in try SockBindings.setIPTTL(fd, value) }
    }
}

// MARK: - IPv6 options

extension UDPSocket where Address == SockaddrInet6 {
    /// Whether the socket is restricted to IPv6 (`IPV6_V6ONLY`). When off
    /// (the Linux default), a socket bound to `::` also receives IPv4
    /// datagrams, from IPv4-mapped addresses such as `[::ffff:192.0.2.1]`.
    ///
    /// Go: `GetIPv6Only`. The corresponding C function is `getsockopt`.
    public var isIPv6Only: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getIPv6Only(fd) } }
    }

    /// Restricts the socket to IPv6 or allows IPv4-mapped traffic
    /// (`IPV6_V6ONLY`). Must be set before binding: create a ``UDPSocket``,
    /// set it, then pass the socket to ``UDPConn/listen(on:socket:)``.
    ///
    /// Go: `SetIPv6Only`. The corresponding C function is `setsockopt`.
    public func setIPv6Only(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setIPv6Only(fd, enabled) }
    }

    /// The traffic class of outgoing packets (`IPV6_TCLASS`), IPv6's
    /// type-of-service byte.
    ///
    /// The corresponding C function is `getsockopt`.
    public var trafficClass: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getIPv6TClass(fd) }) }
    }

    /// Sets the traffic class of outgoing packets (`IPV6_TCLASS`), 0...255
    /// (−1 restores the default).
    ///
    /// The corresponding C function is `setsockopt`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a value out of range.
    public func setTrafficClass(_ value: Int) throws(SockError) {
        let value = try optionInteger(value, as: CInt.self)
        try socketOption { fd throws(SockErrno) in try SockBindings.setIPv6TClass(fd, value) }
    }

    /// The hop limit of outgoing unicast packets (`IPV6_UNICAST_HOPS`),
    /// IPv6's time-to-live.
    ///
    /// The corresponding C function is `getsockopt`.
    public var hopLimit: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getIPv6UnicastHops(fd) }) }
    }

    /// Sets the hop limit of outgoing unicast packets (`IPV6_UNICAST_HOPS`),
    /// 1...255 (−1 restores the route's default).
    ///
    /// The corresponding C function is `setsockopt`.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a value out of range.
    public func setHopLimit(_ value: Int) throws(SockError) {
        let value = try optionInteger(value, as: CInt.self)
        try socketOption { fd throws(SockErrno) in try SockBindings.setIPv6UnicastHops(fd, value) }
    }
}
