// IPv4 and IPv6 addresses as small values: the kernel's `in_addr` and
// `in6_addr` with Swift accessors, parsing and RFC 5952 printing.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

// MARK: - IPv4Address

/// An IPv4 address: four bytes in network order, the kernel's `in_addr`.
///
/// A plain 4-byte value: creating, comparing, hashing and handing it to the
/// kernel never allocates.
///
/// ```swift
/// let a = IPv4Address.loopback                 // 127.0.0.1
/// let b = IPv4Address(192, 168, 1, 10)
/// let c = try IPv4Address("10.0.0.1")
/// print(c)                                     // "10.0.0.1"
/// ```
///
/// The Go reference's `IP4AddressToBytes` corresponds to ``bytes`` (and to
/// ``IPv6Address/ipv4Mapped`` for a mapped IPv6 address).
public struct IPv4Address: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The address as the kernel stores it (`s_addr`, network byte order).
    @usableFromInline
    internal var _storage: InAddr

    /// Creates an address from the kernel's `in_addr`.
    @inlinable
    public init(_ inAddr: InAddr) {
        _storage = inAddr
    }

    /// Creates an address from its 32-bit value in host byte order, for example
    /// `0x7F00_0001` for 127.0.0.1.
    @inlinable
    public init(hostOrder value: UInt32) {
        _storage = InAddr()
        _storage.s_addr = value.bigEndian
    }

    /// Creates an address from its four octets, most significant first:
    /// `IPv4Address(127, 0, 0, 1)`.
    @inlinable
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.init(hostOrder: UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    /// Creates an address from its four bytes in network order (the order in
    /// which they are written, `[127, 0, 0, 1]`).
    @inlinable
    public init(bytes: InlineArray<4, UInt8>) {
        self.init(bytes[0], bytes[1], bytes[2], bytes[3])
    }

    /// Parses a dotted-quad address such as `"192.168.1.10"`.
    ///
    /// Exactly four decimal octets of 0...255 are accepted, without leading
    /// zeros (`"010.0.0.1"` is rejected rather than read as octal). Parsing
    /// does not allocate.
    ///
    /// - Throws: ``SockError/invalidParameter`` (`EINVAL`, or `ERANGE` for an
    ///   octet above 255).
    public init(_ string: String) throws(SockError) {
        let bytes = string.utf8.span
        self = try parseIPv4(bytes, 0 ..< bytes.count)
    }

    /// The kernel's `in_addr` for this address.
    @inlinable
    public var inAddr: InAddr { _storage }

    /// The 32-bit value in host byte order (`0x7F00_0001` for 127.0.0.1).
    @inlinable
    public var hostOrder: UInt32 { UInt32(bigEndian: _storage.s_addr) }

    /// The four bytes in network order, most significant first. This is the
    /// Go reference's `IP4AddressToBytes`.
    @inlinable
    public var bytes: InlineArray<4, UInt8> {
        let value = hostOrder
        return [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// The unspecified address 0.0.0.0 (`INADDR_ANY`): bind to every interface.
    @inlinable
    public static var any: IPv4Address { IPv4Address(hostOrder: 0) }

    /// The loopback address 127.0.0.1 (`INADDR_LOOPBACK`).
    @inlinable
    public static var loopback: IPv4Address { IPv4Address(127, 0, 0, 1) }

    /// The limited broadcast address 255.255.255.255 (`INADDR_BROADCAST`).
    @inlinable
    public static var broadcast: IPv4Address { IPv4Address(hostOrder: .max) }

    /// Whether this is 0.0.0.0.
    @inlinable
    public var isUnspecified: Bool { _storage.s_addr == 0 }

    /// Whether this is in 127.0.0.0/8.
    @inlinable
    public var isLoopback: Bool { hostOrder >> 24 == 127 }

    /// Whether this is a multicast address (224.0.0.0/4).
    @inlinable
    public var isMulticast: Bool { hostOrder >> 28 == 0xE }

    /// The dotted-quad text, such as `"127.0.0.1"`; it allocates nothing
    /// beyond the returned string (which, at 15 bytes at most, is stored
    /// inline).
    public var description: String {
        var text = AddressText()
        text.append(self)
        return text.makeString()
    }

    /// Equal when the four bytes are equal.
    @inlinable
    public static func == (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
        lhs._storage.s_addr == rhs._storage.s_addr
    }

    /// Hashes the four bytes.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(_storage.s_addr)
    }
}

// MARK: - IPv6Address

/// An IPv6 address: sixteen bytes in network order, the kernel's `in6_addr`.
///
/// A plain 16-byte value: creating, comparing, hashing and handing it to the
/// kernel never allocates. A zone (scope id) is not part of the address; it
/// belongs to ``SockaddrInet6/scopeID``.
///
/// ```swift
/// let a = IPv6Address.loopback                       // ::1
/// let b = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)
/// let c = try IPv6Address("2001:db8::1")
/// print(IPv6Address(ipv4Mapped: .loopback))          // "::ffff:127.0.0.1"
/// ```
///
/// The Go reference's `IP6AddressToBytes` corresponds to ``bytes``.
public struct IPv6Address: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    /// The address as the kernel stores it (network byte order).
    @usableFromInline
    internal var _storage: In6Addr

    /// Creates an address from the kernel's `in6_addr`.
    @inlinable
    public init(_ in6Addr: In6Addr) {
        _storage = in6Addr
    }

    /// Creates an address from its sixteen bytes in network order.
    @inlinable
    public init(bytes: InlineArray<16, UInt8>) {
        _storage = In6Addr()
        _storage.__u6_addr8 = bytes
    }

    /// Creates an address from its eight 16-bit groups in host byte order, as
    /// they are written: `IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)` is
    /// `2001:db8::1`.
    @inlinable
    public init(
        _ s0: UInt16, _ s1: UInt16, _ s2: UInt16, _ s3: UInt16,
        _ s4: UInt16, _ s5: UInt16, _ s6: UInt16, _ s7: UInt16
    ) {
        _storage = In6Addr()
        _storage.__u6_addr16 = [s0.bigEndian, s1.bigEndian, s2.bigEndian, s3.bigEndian,
                                s4.bigEndian, s5.bigEndian, s6.bigEndian, s7.bigEndian]
    }

    /// Creates the IPv4-mapped address `::ffff:a.b.c.d` for `address`, which an
    /// IPv6 socket uses to reach an IPv4 peer.
    @inlinable
    public init(ipv4Mapped address: IPv4Address) {
        let v4 = address.hostOrder
        self.init(0, 0, 0, 0, 0, 0xFFFF, UInt16(truncatingIfNeeded: v4 >> 16), UInt16(truncatingIfNeeded: v4))
    }

    /// Parses an IPv6 address in any RFC 4291 text form, such as
    /// `"2001:db8::1"`, `"::"` or `"::ffff:192.0.2.1"`.
    ///
    /// A zone (`%eth0`) and brackets are not accepted here: a zone belongs to a
    /// socket address (``SockaddrInet6/init(ip:port:)``). Parsing does not
    /// allocate.
    ///
    /// - Throws: ``SockError/invalidParameter`` (`EINVAL`).
    public init(_ string: String) throws(SockError) {
        let bytes = string.utf8.span
        self = try parseIPv6(bytes, 0 ..< bytes.count)
    }

    /// The kernel's `in6_addr` for this address.
    @inlinable
    public var in6Addr: In6Addr { _storage }

    /// The sixteen bytes in network order. This is the Go reference's
    /// `IP6AddressToBytes`.
    @inlinable
    public var bytes: InlineArray<16, UInt8> { _storage.__u6_addr8 }

    /// The eight 16-bit groups in host byte order, as they are written.
    @inlinable
    public var segments: InlineArray<8, UInt16> {
        var groups = _storage.__u6_addr16
        for index in groups.indices { groups[index] = UInt16(bigEndian: groups[index]) }
        return groups
    }

    /// The IPv4 address inside an IPv4-mapped address (`::ffff:a.b.c.d`), or
    /// nil for any other address.
    @inlinable
    public var ipv4Mapped: IPv4Address? {
        let words = _storage.__u6_addr32
        guard words[0] == 0, words[1] == 0, words[2] == UInt32(0xFFFF).bigEndian else { return nil }
        var v4 = InAddr()
        v4.s_addr = words[3]
        return IPv4Address(v4)
    }

    /// The unspecified address `::` (`in6addr_any`): bind to every interface.
    @inlinable
    public static var any: IPv6Address { IPv6Address(In6Addr()) }

    /// The loopback address `::1` (`in6addr_loopback`).
    @inlinable
    public static var loopback: IPv6Address { IPv6Address(0, 0, 0, 0, 0, 0, 0, 1) }

    /// Whether this is `::`.
    @inlinable
    public var isUnspecified: Bool { self == .any }

    /// Whether this is `::1`.
    @inlinable
    public var isLoopback: Bool { self == .loopback }

    /// Whether this is a link-local unicast address (`fe80::/10`), which needs
    /// a scope id to be usable.
    @inlinable
    public var isLinkLocal: Bool { segments[0] & 0xFFC0 == 0xFE80 }

    /// Whether this is a multicast address (`ff00::/8`).
    @inlinable
    public var isMulticast: Bool { bytes[0] == 0xFF }

    /// The RFC 5952 canonical text: lower-case hexadecimal without leading
    /// zeros, the longest run of two or more zero groups (the first on a tie)
    /// written `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`. It
    /// allocates nothing beyond the returned string.
    public var description: String {
        var text = AddressText()
        text.append(self)
        return text.makeString()
    }

    /// Equal when the sixteen bytes are equal.
    @inlinable
    public static func == (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        let l = lhs._storage.__u6_addr32
        let r = rhs._storage.__u6_addr32
        return l[0] == r[0] && l[1] == r[1] && l[2] == r[2] && l[3] == r[3]
    }

    /// Hashes the sixteen bytes.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        let words = _storage.__u6_addr32
        hasher.combine(words[0])
        hasher.combine(words[1])
        hasher.combine(words[2])
        hasher.combine(words[3])
    }
}
