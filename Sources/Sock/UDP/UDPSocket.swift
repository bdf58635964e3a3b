// UDPSocket: a UDP socket of one IP family, before or after it is bound or
// connected. Options are the typed keys of the socket, IP, IPv6 and UDP
// scopes (UDPConfigurable, Options/SocketOption.swift); close and the pending
// error come from the `Socket` protocol (Socket.swift). A UDPConn
// (UDPConn.swift) is made from a UDPSocket by binding or connecting it: it
// takes over the socket's descriptor, as a TCPConn does a TCPSocket's.
//
// Composition, as for TCP and SCTP: the two are separate final classes
// whose only stored state is immutable and Sendable, so the compiler checks
// that sharing them between threads is safe. What both offer (options,
// close, packet info) comes from the protocols they conform to
// (UDPConfigurable and its parents), written once.
//
// Constants come from the generated bindings and are written `SockBindings.X`:
// Glibc declares the same constant names.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// A UDP socket of one IP family (`Address` is ``SockaddrInet4`` or
/// ``SockaddrInet6``), with its socket options.
///
/// Create one with ``init()`` to set options that must precede binding (such
/// as `.ipv6Only` or a receive buffer size), then hand it to
/// ``UDPConn/listen(on:socket:)`` or ``UDPConn/dial(to:from:socket:)``. Most
/// code never creates a `UDPSocket` itself: those constructors create one.
/// Every ``UDPConn`` is a `UDPSocket`, so every option is available on
/// connections too: the socket-level, IP, IPv6 and UDP keys
/// (`try conn.setOption(.broadcast, to: true)`), ``Socket/takeError()``,
/// ``Socket/close()``, ….
///
/// Like every socket Sock creates, the descriptor is non-blocking and
/// close-on-exec from birth. Option getters and setters make one
/// `getsockopt`/`setsockopt` call each and never allocate.
///
/// This is the Go reference's `UDPSocket`: `NewUDPSocket4`/`NewUDPSocket6`
/// are ``init()`` with ``SockaddrInet4``/``SockaddrInet6``, `Protocol` is
/// ``underlyingProtocol``, `FD` is ``descriptor``.
public final class UDPSocket<Address: IPSocketAddress>: UDPConfigurable {
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
    /// try socket.setOption(.ipv6Only, to: true)
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
        try descriptor.setOption(SocketOption<OptionScope.Socket, _, _>.reuseAddress, to: true)
        try descriptor.setOption(SocketOption<OptionScope.Socket, _, _>.reusePort, to: true)
        // Best effort, as in the reference: SO_ZEROCOPY needs Linux 5.0
        // for UDP, and only matters to sends that pass MSG_ZEROCOPY.
        do { try descriptor.setOption(SocketOption<OptionScope.Socket, _, _>.zeroCopy, to: true) } catch {}
        self.init(descriptor: descriptor)
    }

    // MARK: Identity

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``, following `Address`
    /// (Go: `NetworkType()`).
    public var networkType: NetworkType { NetworkType(family: Address.family) }

    /// Always ``UnderlyingProtocol/datagram`` (Go: `UDPSocket.Protocol()`).
    public var underlyingProtocol: UnderlyingProtocol { .datagram }
}
