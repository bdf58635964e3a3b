// What kind of socket a socket is: its address family (`NetworkType`) and its
// type (`UnderlyingProtocol`), the reference's two classifications. Shared by
// every socket type (NetSocket, TCP, UDP, Unix).
import SockBindings

/// The address family of a socket: Unix, IPv4 or IPv6.
///
/// This is the Go reference's `NetworkType` (`NetworkUnix`, `NetworkIPv4`,
/// `NetworkIPv6`, whose values are the `AF_*` numbers). A family Sock has no
/// case for, such as `AF_NETLINK` on a ``NetSocket`` created by number, is
/// ``other(family:)``.
public enum NetworkType: Hashable, Sendable, CustomStringConvertible {
    /// A Unix-domain socket (`AF_UNIX`). Go: `NetworkUnix`.
    case unix
    /// An IPv4 socket (`AF_INET`). Go: `NetworkIPv4`.
    case ipv4
    /// An IPv6 socket (`AF_INET6`). Go: `NetworkIPv6`.
    case ipv6
    /// Any other address family, by its `AF_*` number.
    case other(family: CInt)

    /// The network type of an `AF_*` number.
    @inlinable
    public init(family: CInt) {
        switch family {
        case SockBindings.AF_UNIX: self = .unix
        case SockBindings.AF_INET: self = .ipv4
        case SockBindings.AF_INET6: self = .ipv6
        default: self = .other(family: family)
        }
    }

    /// The `AF_*` number: `AF_UNIX`, `AF_INET`, `AF_INET6`, or the number of
    /// ``other(family:)``. (The Go reference's integer value.)
    @inlinable
    public var family: CInt {
        switch self {
        case .unix: SockBindings.AF_UNIX
        case .ipv4: SockBindings.AF_INET
        case .ipv6: SockBindings.AF_INET6
        case .other(let family): family
        }
    }

    /// "unix", "ipv4", "ipv6", or "family N".
    public var description: String {
        switch self {
        case .unix: "unix"
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        case .other(let family): "family \(family)"
        }
    }
}

/// The type of a socket: stream, datagram, raw or sequenced packet.
///
/// This is the Go reference's `UnderlyingProtocol`
/// (`UnderlyingProtocolStream`, `…Dgram`, `…Raw`, `…SeqPacket`, whose values
/// are the `SOCK_*` numbers). It is the socket's type with the creation flags
/// (`SOCK_NONBLOCK`, `SOCK_CLOEXEC`) masked off, not its `IPPROTO_*` number.
public enum UnderlyingProtocol: Hashable, Sendable, CustomStringConvertible {
    /// A byte stream (`SOCK_STREAM`): TCP, Unix stream. Go:
    /// `UnderlyingProtocolStream`.
    case stream
    /// Datagrams (`SOCK_DGRAM`): UDP, Unix datagram. Go:
    /// `UnderlyingProtocolDgram`.
    case datagram
    /// Raw packets (`SOCK_RAW`). Go: `UnderlyingProtocolRaw`.
    case raw
    /// Sequenced, reliable, connection-based datagrams (`SOCK_SEQPACKET`):
    /// SCTP, Unix seqpacket. Go: `UnderlyingProtocolSeqPacket`.
    case seqPacket
    /// Any other socket type, by its `SOCK_*` number.
    case other(type: CInt)

    /// The underlying protocol of a `SOCK_*` number; `SOCK_NONBLOCK` and
    /// `SOCK_CLOEXEC` are ignored.
    @inlinable
    public init(socketType: CInt) {
        let type = socketType & ~(SockBindings.SOCK_NONBLOCK | SockBindings.SOCK_CLOEXEC)
        switch type {
        case SockBindings.SOCK_STREAM: self = .stream
        case SockBindings.SOCK_DGRAM: self = .datagram
        case SockBindings.SOCK_RAW: self = .raw
        case SockBindings.SOCK_SEQPACKET: self = .seqPacket
        default: self = .other(type: type)
        }
    }

    /// The `SOCK_*` number. (The Go reference's integer value.)
    @inlinable
    public var socketType: CInt {
        switch self {
        case .stream: SockBindings.SOCK_STREAM
        case .datagram: SockBindings.SOCK_DGRAM
        case .raw: SockBindings.SOCK_RAW
        case .seqPacket: SockBindings.SOCK_SEQPACKET
        case .other(let type): type
        }
    }

    /// Whether a read of 0 bytes means end of stream: true for ``stream`` and
    /// ``seqPacket`` (as in the reference), false for datagram and raw
    /// sockets, where it is an empty message.
    @inlinable
    public var zeroReadIsEndOfStream: Bool {
        switch self {
        case .stream, .seqPacket: true
        case .datagram, .raw, .other: false
        }
    }

    /// "stream", "datagram", "raw", "seqpacket", or "type N".
    public var description: String {
        switch self {
        case .stream: "stream"
        case .datagram: "datagram"
        case .raw: "raw"
        case .seqPacket: "seqpacket"
        case .other(let type): "type \(type)"
        }
    }
}
