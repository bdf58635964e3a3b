// Socket addresses: IPv4/IPv6/Unix values, parsing and printing, kernel
// encode/decode against real sockets, and host-name resolution.
//
// Constants are written `SockBindings.X` or `Glibc.X`: both modules declare
// the same names.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

// MARK: - Helpers

/// The elements of an inline array, for comparisons.
private func elements<let count: Int, Element>(_ value: InlineArray<count, Element>) -> [Element] {
    var result: [Element] = []
    for index in value.indices { result.append(value[index]) }
    return result
}

/// Expects `body` to throw `SockError.invalidParameter` with `errno`.
private func expectInvalid(
    _ errno: CInt = Glibc.EINVAL,
    _ comment: Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected invalidParameter (errno \(errno)), nothing was thrown \(comment.map { "— \($0)" } ?? "")",
                     sourceLocation: sourceLocation)
    } catch let error as SockError {
        #expect(error.code == .invalidParameter, comment, sourceLocation: sourceLocation)
        #expect(error.errnoCode == errno, comment, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected SockError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A socket of `family`/`type`, closed after `body`.
private func withSocket<Result>(
    _ family: CInt, _ type: CInt, _ body: (CInt) throws -> Result
) throws -> Result {
    let fd = Glibc.socket(family, type | SockBindings.SOCK_CLOEXEC, 0)
    try #require(fd >= 0, "socket(\(family), \(type)) failed: errno \(errno)")
    defer { Glibc.close(fd) }
    return try body(fd)
}

/// Binds `fd` to `address` with the address's own pointer and length.
private func bind(_ fd: CInt, _ address: some SocketAddress) -> CInt {
    address.withSockaddrPointer { pointer, length in
        Glibc.bind(fd, UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self), length)
    }
}

/// Connects `fd` to `address`.
private func connect(_ fd: CInt, _ address: some SocketAddress) -> CInt {
    address.withSockaddrPointer { pointer, length in
        Glibc.connect(fd, UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self), length)
    }
}

/// `getsockname` into a zeroed `sockaddr_storage`; returns it and the length
/// the kernel reported.
private func localAddress(_ fd: CInt) throws -> (RawSockaddrAny, socklen_t) {
    var storage = RawSockaddrAny()
    var length = socklen_t(MemoryLayout<RawSockaddrAny>.size)
    let result = withUnsafeMutableBytes(of: &storage) { raw in
        getsockname(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
    }
    try #require(result == 0, "getsockname failed: errno \(errno)")
    return (storage, length)
}

/// A name unique to this process and call.
private func uniqueName(_ tag: String) -> String {
    "sock-address-test-\(getpid())-\(tag)-\(UInt32.random(in: 0 ... .max))"
}

/// The index of the loopback interface `lo`.
private var loopbackIndex: UInt32 { if_nametoindex("lo") }

// MARK: - Tests

@Suite("Socket addresses")
struct AddressTests {
    // MARK: Layout

    @Test("address values are exactly the kernel structures: no box, no extra storage")
    func layout() {
        #expect(MemoryLayout<SockaddrInet4>.size == SizeofRawSockaddrInet4)
        #expect(MemoryLayout<SockaddrInet4>.size == 16)
        #expect(MemoryLayout<SockaddrInet6>.size == SizeofRawSockaddrInet6)
        #expect(MemoryLayout<SockaddrInet6>.size == 28)
        #expect(MemoryLayout<SockaddrUnix>.size == SizeofRawSockaddrUnix + 1)  // + the exact length byte
        #expect(MemoryLayout<IPv4Address>.size == 4)
        #expect(MemoryLayout<IPv6Address>.size == 16)
        #expect(MemoryLayout<AnySocketAddress>.size <= SizeofRawSockaddrUnix + 2)
        #expect(_isPOD(SockaddrInet4.self) && _isPOD(SockaddrInet6.self) && _isPOD(SockaddrUnix.self))
        #expect(_isPOD(AnySocketAddress.self))
        #expect(SockaddrUnix.maxPathLength == 108)
        #expect(SockaddrUnix.maxAbstractNameLength == 107)
    }

    @Test("withSockaddrPointer hands over the kernel layout with the exact length")
    func sockaddrPointer() throws {
        let v4 = SockaddrInet4(address: IPv4Address(10, 1, 2, 3), port: 0x1234)
        v4.withSockaddrPointer { pointer, length in
            #expect(length == 16)
            let raw = UnsafeRawPointer(pointer).load(as: RawSockaddrInet4.self)
            #expect(CInt(raw.sin_family) == SockBindings.AF_INET)
            #expect(raw.sin_port == UInt16(0x1234).bigEndian)
            #expect(withUnsafeBytes(of: raw.sin_addr) { Array($0) } == [10, 1, 2, 3])
        }
        let v6 = SockaddrInet6(address: .loopback, port: 443, scopeID: 7, flowInfo: 0xABCDE)
        v6.withSockaddrPointer { pointer, length in
            #expect(length == 28)
            let raw = UnsafeRawPointer(pointer).load(as: RawSockaddrInet6.self)
            #expect(CInt(raw.sin6_family) == SockBindings.AF_INET6)
            #expect(raw.sin6_port == UInt16(443).bigEndian)
            #expect(raw.sin6_scope_id == 7)
            #expect(raw.sin6_flowinfo == UInt32(0xABCDE).bigEndian)
            #expect(withUnsafeBytes(of: raw.sin6_addr) { Array($0) } == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        }
        let unix = try SockaddrUnix(path: "@abc")
        unix.withSockaddrPointer { pointer, length in
            #expect(length == 6)
            #expect(CInt(pointer.pointee.sa_family) == SockBindings.AF_UNIX)
            #expect(Array(UnsafeRawBufferPointer(start: pointer, count: Int(length))) == [1, 0, 0, 97, 98, 99])
        }
        // Through the enum, too.
        AnySocketAddress.inet4(v4).withSockaddrPointer { _, length in #expect(length == 16) }
        AnySocketAddress.unix(unix).withSockaddrPointer { _, length in #expect(length == 6) }
        // Typed errors pass through.
        struct Marker: Error {}
        #expect(throws: Marker.self) {
            try v4.withSockaddrPointer { (_, _) throws(Marker) in throw Marker() }
        }
    }

    // MARK: IPv4

    @Test("IPv4Address: octets, bytes, host order, constants (IP4AddressToBytes)")
    func ipv4Address() throws {
        let address = IPv4Address(192, 168, 1, 10)
        #expect(elements(address.bytes) == [192, 168, 1, 10])
        #expect(address.hostOrder == 0xC0A8_010A)
        #expect(IPv4Address(hostOrder: 0x7F00_0001) == .loopback)
        #expect(IPv4Address(bytes: [127, 0, 0, 1]) == .loopback)
        #expect(address.inAddr.s_addr == UInt32(0xC0A8_010A).bigEndian)
        #expect(IPv4Address.any.description == "0.0.0.0")
        #expect(IPv4Address.loopback.description == "127.0.0.1")
        #expect(IPv4Address.broadcast.description == "255.255.255.255")
        #expect(IPv4Address.loopback.isLoopback && !address.isLoopback)
        #expect(IPv4Address(224, 0, 0, 1).isMulticast && !address.isMulticast)
        #expect(IPv4Address.any.isUnspecified)
        #expect(elements(try IPv4Address("1.2.3.4").bytes) == [1, 2, 3, 4])
        #expect(Set([IPv4Address.loopback, IPv4Address(127, 0, 0, 1), .any]).count == 2)
    }

    @Test("SockaddrInet4 parses and prints a.b.c.d:port", arguments: [
        ("0.0.0.0:0", IPv4Address.any, UInt16(0)),
        ("127.0.0.1:80", IPv4Address.loopback, 80),
        ("255.255.255.255:65535", IPv4Address.broadcast, 65535),
        ("192.168.1.10:8080", IPv4Address(192, 168, 1, 10), 8080),
        ("10.0.0.1:1", IPv4Address(10, 0, 0, 1), 1),
    ])
    func inet4RoundTrip(text: String, address: IPv4Address, port: UInt16) throws {
        let parsed = try SockaddrInet4(text)
        #expect(parsed.address == address)
        #expect(parsed.port == port)
        #expect(parsed.description == text)
        #expect(try SockaddrInet4(parsed.description) == parsed)
        #expect(SockaddrInet4(address: address, port: port) == parsed)
        #expect(try SockaddrInet4(ip: address.description, port: port) == parsed)
        #expect(try AnySocketAddress(text) == .inet4(parsed))
        #expect(parsed.family == SockBindings.AF_INET && SockaddrInet4.family == SockBindings.AF_INET)
        #expect(parsed.length == socklen_t(SizeofRawSockaddrInet4))
    }

    @Test("SockaddrInet4 accessors: address, port (host order) and raw")
    func inet4Accessors() throws {
        var address = SockaddrInet4(address: .loopback, port: 80)
        address.port = 8081
        address.address = IPv4Address(10, 9, 8, 7)
        #expect(address.description == "10.9.8.7:8081")
        #expect(address.raw.sin_port == UInt16(8081).bigEndian)
        #expect(try SockaddrInet4(address.raw) == address)
        var wrong = address.raw
        wrong.sin_family = UInt16(SockBindings.AF_INET6)
        #expect(throws: SockError.addressFamilyNotSupported) { try SockaddrInet4(wrong) }
        #expect(SockaddrInet4() == SockaddrInet4(address: .any, port: 0))
        #expect(Set([address, address, SockaddrInet4()]).count == 2)
        // A leading zero in the port is harmless (it is decimal).
        #expect(try SockaddrInet4("1.2.3.4:080").port == 80)
    }

    @Test("invalid IPv4 texts throw invalidParameter, never trap")
    func inet4Invalid() {
        for text in ["", ":", "1.2.3.4", "1.2.3.4:", ":80", "1.2.3:80", "1.2.3.4.5:80",
                     "01.2.3.4:80", "1.2.3.04:80", "a.b.c.d:80", "1.2.3.4:8x", "1.2.3.4:-1", "1.2.3.4:+1",
                     " 1.2.3.4:80", "1.2.3.4 :80", "[1.2.3.4]:80", "1..3.4:80", ".1.2.3:80", "1.2.3.:80",
                     "1.2.3.4:80:80", "localhost:80", "1.2.3.4%lo:80", "１.2.3.4:80", "1.2.3.4\0:80"] {
            expectInvalid(Glibc.EINVAL, "\(text.debugDescription)") { _ = try SockaddrInet4(text) }
        }
        expectInvalid(Glibc.ERANGE, "port 65536") { _ = try SockaddrInet4("1.2.3.4:65536") }
        expectInvalid(Glibc.ERANGE, "huge port") { _ = try SockaddrInet4("1.2.3.4:99999999999999999999999999") }
        expectInvalid(Glibc.ERANGE, "octet 999") { _ = try SockaddrInet4("999.1.1.1:80") }
        expectInvalid(Glibc.ERANGE, "octet 256") { _ = try SockaddrInet4("1.2.3.256:80") }
        expectInvalid(Glibc.EINVAL) { _ = try IPv4Address("1.2.3.4:80") }
        expectInvalid(Glibc.EINVAL) { _ = try IPv4Address("") }
        expectInvalid(Glibc.EINVAL) { _ = try SockaddrInet4(ip: "::1", port: 1) }
    }

    // MARK: IPv6

    @Test("IPv6Address: groups, bytes, mapped IPv4, predicates (IP6AddressToBytes)")
    func ipv6Address() throws {
        let address = IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)
        #expect(elements(address.bytes) == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(elements(address.segments) == [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])
        #expect(IPv6Address(bytes: address.bytes) == address)
        #expect(IPv6Address(address.in6Addr) == address)
        #expect(try IPv6Address("2001:db8::1") == address)
        #expect(elements(try IPv6Address("::1").bytes) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        let mapped = IPv6Address(ipv4Mapped: IPv4Address(1, 2, 3, 4))
        #expect(mapped.ipv4Mapped == IPv4Address(1, 2, 3, 4))
        #expect(elements(mapped.segments) == [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304])
        #expect(address.ipv4Mapped == nil && IPv6Address.loopback.ipv4Mapped == nil)
        #expect(IPv6Address.loopback.isLoopback && IPv6Address.any.isUnspecified)
        #expect(try IPv6Address("fe80::1").isLinkLocal && !address.isLinkLocal)
        #expect(try IPv6Address("febf::1").isLinkLocal && !(try IPv6Address("fec0::1").isLinkLocal))
        #expect(try IPv6Address("ff02::1").isMulticast && !address.isMulticast)
        #expect(Set([address, try IPv6Address("2001:DB8:0::1"), .loopback]).count == 2)
    }

    @Test("IPv6 printing is RFC 5952 canonical", arguments: [
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),       // a single zero group is not compressed
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),               // the longest run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),          // the first of equal runs
        ("2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:FFFF", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"),
        ("fe80:0000:0000:0000:0204:61ff:fe9d:f156", "fe80::204:61ff:fe9d:f156"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),              // IPv4-mapped in dotted form
        ("0:0:0:0:0:ffff:0102:0304", "::ffff:1.2.3.4"),
        ("::ffff:0.0.0.0", "::ffff:0.0.0.0"),
        ("::1.2.3.4", "::102:304"),                            // deprecated IPv4-compatible: not dotted
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:0:0:4:5:0:0:8", "1::4:5:0:0:8"),
        ("0:0:1:0:0:0:1:0", "0:0:1::1:0"),
        ("ff02::1", "ff02::1"),
    ])
    func rfc5952(input: String, canonical: String) throws {
        let address = try IPv6Address(input)
        #expect(address.description == canonical)
        #expect(try IPv6Address(canonical) == address)
    }

    @Test("IPv6 printing agrees with inet_ntop for 2,000 random addresses")
    func rfc5952AgainstInetNtop() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 2000 {
            // Groups that are often zero, so zero runs of every length occur.
            var groups = InlineArray<8, UInt16>(repeating: 0)
            for index in groups.indices where Bool.random(using: &generator) {
                groups[index] = Bool.random(using: &generator) ? UInt16.random(in: 1 ... 0xF, using: &generator)
                                                               : UInt16.random(in: 1 ... .max, using: &generator)
            }
            let address = IPv6Address(groups[0], groups[1], groups[2], groups[3],
                                      groups[4], groups[5], groups[6], groups[7])
            // glibc prints the deprecated IPv4-compatible form (::a.b.c.d); RFC 5952 does not.
            if elements(groups)[0 ..< 6].allSatisfy({ $0 == 0 }) && groups[6] != 0 { continue }
            var text = InlineArray<64, CChar>(repeating: 0)
            var in6 = address.in6Addr
            let result = withUnsafeMutableBytes(of: &text) { buffer in
                inet_ntop(SockBindings.AF_INET6, &in6, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), 64)
            }
            let expected = String(cString: try #require(result))
            #expect(address.description == expected)
            #expect(try IPv6Address(expected) == address)
        }
    }

    @Test("SockaddrInet6 parses and prints [address]:port", arguments: [
        ("[::1]:443", "::1", UInt16(443)),
        ("[::]:0", "::", 0),
        ("[2001:db8::1]:80", "2001:db8::1", 80),
        ("[::ffff:1.2.3.4]:80", "::ffff:1.2.3.4", 80),
        ("[ff02::1]:65535", "ff02::1", 65535),
    ])
    func inet6RoundTrip(text: String, address: String, port: UInt16) throws {
        let parsed = try SockaddrInet6(text)
        #expect(parsed.address == (try IPv6Address(address)))
        #expect(parsed.port == port)
        #expect(parsed.scopeID == 0)
        #expect(parsed.zone == nil)
        #expect(parsed.description == text)
        #expect(try SockaddrInet6(parsed.description) == parsed)
        #expect(try SockaddrInet6(ip: address, port: port) == parsed)
        #expect(try AnySocketAddress(text) == .inet6(parsed))
        #expect(parsed.family == SockBindings.AF_INET6 && SockaddrInet6.family == SockBindings.AF_INET6)
        #expect(parsed.length == socklen_t(SizeofRawSockaddrInet6))
    }

    @Test("non-canonical IPv6 input prints canonically")
    func inet6Canonicalises() throws {
        #expect(try SockaddrInet6("[2001:0DB8:0:0:0:0:0:0001]:80").description == "[2001:db8::1]:80")
        #expect(try SockaddrInet6("[0:0::1]:1").description == "[::1]:1")
    }

    @Test("zones: an interface name resolves to its index; a number is accepted; printing uses the name")
    func scopeIDs() throws {
        let lo = loopbackIndex
        try #require(lo != 0, "no loopback interface")
        let named = try SockaddrInet6("[fe80::1%lo]:80")
        #expect(named.scopeID == lo)
        #expect(named.address == (try IPv6Address("fe80::1")))
        #expect(named.zone == "lo")
        #expect(named.description == "[fe80::1%lo]:80")
        #expect(try SockaddrInet6(named.description) == named)

        let numeric = try SockaddrInet6("[fe80::1%\(lo)]:80")
        #expect(numeric == named)
        #expect(numeric.description == "[fe80::1%lo]:80")  // the name, since the system knows it

        // An index no interface has prints as the number, and parses back.
        var unknownIndex: UInt32 = 4_000_000_000
        func isInterface(_ index: UInt32) -> Bool {
            var name = InlineArray<32, CChar>(repeating: 0)
            return withUnsafeMutableBytes(of: &name) { raw in
                if_indextoname(index, raw.baseAddress!.assumingMemoryBound(to: CChar.self)) != nil
            }
        }
        while isInterface(unknownIndex) { unknownIndex += 1 }
        let unnamed = SockaddrInet6(address: try IPv6Address("fe80::2"), port: 9, scopeID: unknownIndex)
        #expect(unnamed.description == "[fe80::2%\(unknownIndex)]:9")
        #expect(unnamed.zone == "\(unknownIndex)")
        #expect(try SockaddrInet6(unnamed.description) == unnamed)

        #expect(try SockaddrInet6(ip: "fe80::1%lo", port: 80) == named)
        var changed = named
        changed.scopeID = 0
        #expect(changed.description == "[fe80::1]:80")
        changed.flowInfo = 0x12345
        #expect(changed.flowInfo == 0x12345 && changed != named)
    }

    @Test("invalid IPv6 texts throw invalidParameter, never trap")
    func inet6Invalid() {
        for text in ["", "::1:80", "::1", "[::1]", "[::1]:", "[::1:80", "::1]:80", "[]:80", "[::1] :80",
                     "[fe80::1%]:80", "[1.2.3.4]:80", "[::g]:80", "[:::1]:80", "[1:2:3:4:5:6:7:8:9]:80",
                     "[1:2:3:4:5:6:7]:80", "[::1]x80", "[::1]:8o", "[::1]:-1", "[[::1]]:80",
                     "[2001:db8::1::1]:80", "[12345::1]:80", "[::1\0]:80",
                     "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:80"] {
            expectInvalid(Glibc.EINVAL, "\(text.debugDescription)") { _ = try SockaddrInet6(text) }
        }
        expectInvalid(Glibc.ERANGE, "port 65536") { _ = try SockaddrInet6("[::1]:65536") }
        expectInvalid(Glibc.ERANGE, "zone 2^32") { _ = try SockaddrInet6("[fe80::1%4294967296]:80") }
        expectInvalid(Glibc.ENODEV, "unknown interface") { _ = try SockaddrInet6("[fe80::1%nosuchif0]:80") }
        // "%" may appear in a Linux interface name, so this is an unknown interface.
        expectInvalid(Glibc.ENODEV, "zone lo%lo") { _ = try SockaddrInet6("[::1%lo%lo]:80") }
        expectInvalid(Glibc.ENODEV, "long unknown interface") {
            _ = try SockaddrInet6("[fe80::1%averyveryverylonginterfacename]:80")
        }
        expectInvalid(Glibc.EINVAL) { _ = try IPv6Address("fe80::1%lo") }
        expectInvalid(Glibc.EINVAL) { _ = try IPv6Address("[::1]") }
        expectInvalid(Glibc.EINVAL) { _ = try IPv6Address("") }
        expectInvalid(Glibc.EINVAL) { _ = try AnySocketAddress("") }
        expectInvalid(Glibc.EINVAL) { _ = try AnySocketAddress("[::1]") }
    }

    // MARK: Unix

    @Test("Unix filesystem paths: exact lengths, 106/107/108 bytes accepted, 109 rejected")
    func unixPathLengths() throws {
        let short = try SockaddrUnix(path: "/tmp/x")
        #expect(short.length == 2 + 6 + 1)
        #expect(short.path == "/tmp/x" && short.description == "/tmp/x")
        #expect(!short.isAbstract && !short.isUnnamed)
        for count in [1, 106, 107] {
            let path = "/" + String(repeating: "p", count: count - 1)
            let address = try SockaddrUnix(path: path)
            #expect(address.length == socklen_t(2 + count + 1), "\(count) bytes: with the NUL")
            #expect(address.path == path)
            #expect(address.raw.sun_path[count] == 0)
        }
        let full = "/" + String(repeating: "f", count: 107)
        let fullAddress = try SockaddrUnix(path: full)
        #expect(fullAddress.length == 110, "108 bytes: fills sun_path, no NUL")
        #expect(fullAddress.length == socklen_t(SizeofRawSockaddrUnix))
        #expect(fullAddress.path == full)
        #expect(fullAddress.raw.sun_path[107] == CChar(UInt8(ascii: "f")))
        fullAddress.withNameBytes { #expect($0.count == 108) }
        expectInvalid(Glibc.ENAMETOOLONG, "109 bytes") { _ = try SockaddrUnix(path: full + "x") }
        expectInvalid(Glibc.ENAMETOOLONG, "1000 bytes") { _ = try SockaddrUnix(path: String(repeating: "/", count: 1000)) }
        expectInvalid(Glibc.EINVAL, "embedded NUL") { _ = try SockaddrUnix(path: "/tmp/a\0b") }
        // Multi-byte UTF-8 counts bytes, not characters.
        let accented = "/" + String(repeating: "é", count: 53) + "x"  // 1 + 106 + 1 = 108 bytes
        #expect(try SockaddrUnix(path: accented).length == 110)
        expectInvalid(Glibc.ENAMETOOLONG) { _ = try SockaddrUnix(path: "/" + String(repeating: "é", count: 54)) }
    }

    @Test("Unix abstract names: @name, leading NUL, exact length 2+1+n, no trailing NUL")
    func unixAbstract() throws {
        let address = try SockaddrUnix(path: "@abc")
        #expect(address.isAbstract && !address.isUnnamed)
        #expect(address.length == 2 + 1 + 3)
        #expect(address.raw.sun_path[0] == 0)
        #expect(address.raw.sun_path[1] == CChar(UInt8(ascii: "a")))
        #expect(address.raw.sun_path[3] == CChar(UInt8(ascii: "c")))
        #expect(address.path == "@abc")
        #expect(address.description == "@abc")
        address.withNameBytes { #expect(Array($0) == Array("abc".utf8)) }
        #expect(try SockaddrUnix(path: "\0abc") == address)
        #expect(try SockaddrUnix(abstractName: "abc") == address)
        // NULs inside an abstract name are part of it.
        let withNul = try SockaddrUnix(path: "@a\0b\0")
        #expect(withNul.length == 2 + 1 + 4)
        #expect(withNul.path == "@a\0b\0")
        #expect(withNul != (try SockaddrUnix(path: "@a\0b")))
        // The longest name is 107 bytes (plus the leading NUL: 110).
        let longest = try SockaddrUnix(path: "@" + String(repeating: "n", count: 107))
        #expect(longest.length == 110)
        expectInvalid(Glibc.ENAMETOOLONG) { _ = try SockaddrUnix(path: "@" + String(repeating: "n", count: 108)) }
        // "@" alone is the empty abstract name, not autobind.
        #expect(try SockaddrUnix(path: "@").length == 3)
    }

    @Test("Unix unnamed (autobind), literal filesystem paths and setPath")
    func unixUnnamedAndSetPath() throws {
        let unnamed = SockaddrUnix()
        #expect(unnamed.length == 2 && unnamed.isUnnamed && !unnamed.isAbstract)
        #expect(unnamed.path == "" && unnamed.description == "")
        #expect(try SockaddrUnix(path: "") == unnamed)
        #expect(unnamed.family == SockBindings.AF_UNIX && SockaddrUnix.family == SockBindings.AF_UNIX)

        let literal = try SockaddrUnix(filesystemPath: "@not-abstract")
        #expect(!literal.isAbstract && literal.length == 2 + 13 + 1)
        #expect(literal.path == "@not-abstract")
        expectInvalid(Glibc.EINVAL) { _ = try SockaddrUnix(filesystemPath: "") }

        var address = try SockaddrUnix(path: "/tmp/one")
        try address.setPath("@two")
        #expect(address == (try SockaddrUnix(path: "@two")))
        try address.setPath("")
        #expect(address.isUnnamed)
        try address.setPath("/tmp/three")
        expectInvalid(Glibc.ENAMETOOLONG) { try address.setPath("/" + String(repeating: "x", count: 200)) }
        #expect(address.path == "/tmp/three", "unchanged after a failed setPath")
        #expect(Set([address, try SockaddrUnix(path: "/tmp/three"), unnamed]).count == 2)
    }

    @Test("real bind + getsockname: an abstract name round-trips at its exact length")
    func unixAbstractKernelRoundTrip() throws {
        let name = uniqueName("abstract")
        let address = try SockaddrUnix(path: "@" + name)
        try withSocket(SockBindings.AF_UNIX, SockBindings.SOCK_STREAM) { fd in
            try #require(bind(fd, address) == 0, "bind: errno \(errno)")
            #expect(Glibc.listen(fd, 1) == 0)
            let (storage, length) = try localAddress(fd)
            #expect(length == socklen_t(2 + 1 + name.utf8.count), "the kernel reports the exact length")
            let decoded = try SockaddrUnix(decoding: storage, length: length)
            #expect(decoded == address)
            #expect(decoded.path == "@" + name)
            #expect(try AnySocketAddress(decoding: storage, length: length) == .unix(address))
            // A client reaches it with the same exact-length encoding.
            try withSocket(SockBindings.AF_UNIX, SockBindings.SOCK_STREAM) { client in
                #expect(connect(client, address) == 0, "connect: errno \(errno)")
            }
            // A padded name (trailing NULs) is a different socket: connection refused.
            try withSocket(SockBindings.AF_UNIX, SockBindings.SOCK_STREAM) { client in
                let padded = try SockaddrUnix(path: "@" + name + "\0")
                #expect(connect(client, padded) == -1 && errno == Glibc.ECONNREFUSED)
            }
        }
    }

    @Test("real bind + getsockname: a 108-byte path (kernel reports 111) decodes clamped to the same path")
    func unixFullPathKernelRoundTrip() throws {
        let prefix = "/tmp/" + uniqueName("p") + "-"
        let path = prefix + String(repeating: "z", count: 108 - prefix.utf8.count)
        #expect(path.utf8.count == 108)
        let address = try SockaddrUnix(path: path)
        #expect(address.length == 110)
        unlink(path)
        defer { unlink(path) }
        try withSocket(SockBindings.AF_UNIX, SockBindings.SOCK_STREAM) { fd in
            try #require(bind(fd, address) == 0, "bind: errno \(errno)")
            let (storage, length) = try localAddress(fd)
            #expect(length == 111, "the kernel reports one byte more than sockaddr_un")
            let decoded = try SockaddrUnix(decoding: storage, length: length)
            #expect(decoded == address)
            #expect(decoded.path == path)
            #expect(decoded.length == 110)

            // Into a buffer that is exactly a sockaddr_un, the reported 111 must be clamped to 110.
            var exact = RawSockaddrUnix()
            var exactLength = socklen_t(MemoryLayout<RawSockaddrUnix>.size)
            let result = withUnsafeMutableBytes(of: &exact) { raw in
                getsockname(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &exactLength)
            }
            #expect(result == 0)
            #expect(exactLength == 111)
            let clamped = try SockaddrUnix(exact, length: exactLength)
            #expect(clamped == address && clamped.path == path)
            let viaBuffer = try withUnsafeBytes(of: exact) { try SockaddrUnix(decoding: $0, length: exactLength) }
            #expect(viaBuffer == address)
        }
    }

    @Test("real bind + getsockname: 106- and 107-byte paths, and autobind")
    func unixShortPathsAndAutobind() throws {
        for count in [106, 107] {
            let prefix = "/tmp/" + uniqueName("q") + "-"
            let path = prefix + String(repeating: "y", count: count - prefix.utf8.count)
            let address = try SockaddrUnix(path: path)
            unlink(path)
            defer { unlink(path) }
            try withSocket(SockBindings.AF_UNIX, SockBindings.SOCK_DGRAM) { fd in
                try #require(bind(fd, address) == 0, "bind \(count): errno \(errno)")
                let (storage, length) = try localAddress(fd)
                #expect(length == socklen_t(2 + count + 1))
                #expect(try SockaddrUnix(decoding: storage, length: length) == address)
            }
        }
        // Binding the unnamed address autobinds to a kernel-chosen abstract name.
        try withSocket(SockBindings.AF_UNIX, SockBindings.SOCK_DGRAM) { fd in
            try #require(bind(fd, SockaddrUnix()) == 0, "autobind: errno \(errno)")
            let (storage, length) = try localAddress(fd)
            let decoded = try SockaddrUnix(decoding: storage, length: length)
            #expect(decoded.isAbstract)
            #expect(decoded.length == length)
            #expect(decoded.path.hasPrefix("@") && decoded.path.utf8.count == Int(length) - 2)
        }
        // An unbound socket has the unnamed address.
        try withSocket(SockBindings.AF_UNIX, SockBindings.SOCK_STREAM) { fd in
            let (storage, length) = try localAddress(fd)
            #expect(length == 2)
            #expect(try SockaddrUnix(decoding: storage, length: length) == SockaddrUnix())
        }
    }

    // MARK: Decoding kernel addresses

    @Test("decode a kernel-filled sockaddr_storage from a bound IPv4 UDP socket")
    func decodeInet4FromKernel() throws {
        try withSocket(SockBindings.AF_INET, SockBindings.SOCK_DGRAM) { fd in
            try #require(bind(fd, SockaddrInet4(address: .loopback, port: 0)) == 0)
            let (storage, length) = try localAddress(fd)
            #expect(length == 16)
            let decoded = try SockaddrInet4(decoding: storage, length: length)
            #expect(decoded.address == .loopback)
            #expect(decoded.port != 0)
            guard case .inet4(let any) = try AnySocketAddress(decoding: storage, length: length) else {
                Issue.record("not decoded as IPv4")
                return
            }
            #expect(any == decoded)
            #expect(any.description == "127.0.0.1:\(decoded.port)")
            // The decoded address is usable: a datagram sent to it arrives.
            try withSocket(SockBindings.AF_INET, SockBindings.SOCK_DGRAM) { client in
                var byte: UInt8 = 42
                let sent = decoded.withSockaddrPointer { pointer, length in
                    sendto(client, &byte, 1, 0, UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self), length)
                }
                #expect(sent == 1)
                var received: UInt8 = 0
                var peer = RawSockaddrAny()
                var peerLength = socklen_t(MemoryLayout<RawSockaddrAny>.size)
                let count = withUnsafeMutableBytes(of: &peer) { raw in
                    recvfrom(fd, &received, 1, 0, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &peerLength)
                }
                #expect(count == 1 && received == 42)
                // The peer is the client: 127.0.0.1 and the client's autobound port.
                let (clientStorage, clientLength) = try localAddress(client)
                let sender = try SockaddrInet4(decoding: peer, length: peerLength)
                #expect(sender.address == .loopback)
                #expect(sender.port == (try SockaddrInet4(decoding: clientStorage, length: clientLength)).port)
            }
        }
    }

    @Test("decode a kernel-filled sockaddr_storage from a bound IPv6 UDP socket")
    func decodeInet6FromKernel() throws {
        let probe = Glibc.socket(SockBindings.AF_INET6, SockBindings.SOCK_DGRAM, 0)
        guard probe >= 0 else {
            print("IPv6 unavailable (errno \(errno)); skipped")
            return
        }
        Glibc.close(probe)
        try withSocket(SockBindings.AF_INET6, SockBindings.SOCK_DGRAM) { fd in
            try #require(bind(fd, SockaddrInet6(address: .loopback, port: 0)) == 0, "bind [::1]: errno \(errno)")
            let (storage, length) = try localAddress(fd)
            #expect(length == 28)
            let decoded = try SockaddrInet6(decoding: storage, length: length)
            #expect(decoded.address == .loopback)
            #expect(decoded.port != 0)
            #expect(decoded.scopeID == 0)
            #expect(decoded.description == "[::1]:\(decoded.port)")
            #expect(try AnySocketAddress(decoding: storage, length: length) == .inet6(decoded))
        }
    }

    @Test("decoding rejects wrong families and short lengths, and clamps long ones")
    func decodeErrors() throws {
        let v4 = SockaddrInet4(address: .loopback, port: 7)
        var storage = RawSockaddrAny()
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: v4.raw) { raw.copyMemory(from: $0) }
        }
        #expect(throws: SockError.addressFamilyNotSupported) { try SockaddrInet6(decoding: storage, length: 16) }
        #expect(throws: SockError.addressFamilyNotSupported) { try SockaddrUnix(decoding: storage, length: 16) }
        expectInvalid { _ = try SockaddrInet4(decoding: storage, length: 7) }
        expectInvalid { _ = try SockaddrInet4(decoding: storage, length: 1) }
        expectInvalid { _ = try AnySocketAddress(decoding: storage, length: 0) }
        #expect(try SockaddrInet4(decoding: storage, length: 8) == v4)
        #expect(try SockaddrInet4(decoding: storage, length: 4096) == v4)  // clamped to 128
        // A length past the buffer is never read: decode from an 8-byte buffer.
        let decoded = try withUnsafeBytes(of: storage) { raw in
            try SockaddrInet4(decoding: UnsafeRawBufferPointer(rebasing: raw[0 ..< 8]), length: 16)
        }
        #expect(decoded == v4)

        var unknown = RawSockaddrAny()
        unknown.ss_family = UInt16(SockBindings.AF_PACKET)
        #expect(throws: SockError.addressFamilyNotSupported) { try AnySocketAddress(decoding: unknown, length: 20) }

        let v6 = SockaddrInet6(address: .loopback, port: 9, scopeID: 3)
        var storage6 = RawSockaddrAny()
        withUnsafeMutableBytes(of: &storage6) { raw in
            withUnsafeBytes(of: v6.raw) { raw.copyMemory(from: $0) }
        }
        expectInvalid { _ = try SockaddrInet6(decoding: storage6, length: 23) }
        #expect(try SockaddrInet6(decoding: storage6, length: 24).scopeID == 0)  // RFC 2133 length: no scope id
        #expect(try SockaddrInet6(decoding: storage6, length: 28) == v6)
        #expect(try SockaddrInet6(v6.raw) == v6)

        // Unix: the family alone is unnamed; a short abstract name keeps only its valid bytes.
        let abstract = try SockaddrUnix(path: "@hello")
        var storageUnix = RawSockaddrAny()
        withUnsafeMutableBytes(of: &storageUnix) { raw in
            withUnsafeBytes(of: abstract.raw) { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0 ..< 110])) }
        }
        #expect(try SockaddrUnix(decoding: storageUnix, length: 2) == SockaddrUnix())
        #expect(try SockaddrUnix(decoding: storageUnix, length: 6).path == "@hel")
        #expect(try SockaddrUnix(decoding: storageUnix, length: 8) == abstract)
        // An abstract name's length is kept exactly even with trailing NULs reported.
        #expect(try SockaddrUnix(decoding: storageUnix, length: 10).length == 10)
        // A filesystem path reported without its NUL, or with extra bytes, gets the canonical length.
        let file = try SockaddrUnix(path: "/tmp/s")
        var storageFile = RawSockaddrAny()
        withUnsafeMutableBytes(of: &storageFile) { raw in
            withUnsafeBytes(of: file.raw) { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0 ..< 110])) }
        }
        #expect(try SockaddrUnix(decoding: storageFile, length: 8) == file)
        #expect(try SockaddrUnix(decoding: storageFile, length: 9) == file)
        #expect(try SockaddrUnix(decoding: storageFile, length: 128) == file)
    }

    // MARK: Allocation

    @Test("parse, print, encode and decode allocate nothing beyond the returned String", .countingAllocations)
    func noAllocation() throws {
        let v4Text = "192.168.100.200:65535"
        let v6Text = "[2001:db8:aaaa:bbbb::1]:443"
        let zoneText = "[fe80::1%lo]:80"
        let pathText = "/tmp/" + String(repeating: "x", count: 100)
        let abstractText = "@some-abstract-name"
        let v4 = try SockaddrInet4(v4Text)
        let v6 = try SockaddrInet6(v6Text)
        let zoned = try SockaddrInet6(zoneText)
        let unix = try SockaddrUnix(path: pathText)
        var sink = 0

        #expect(try allocations { sink &+= Int(try SockaddrInet4(v4Text).port) } == 0)
        #expect(try allocations { sink &+= Int(try SockaddrInet6(v6Text).port) } == 0)
        #expect(try allocations { sink &+= Int(try SockaddrInet6(zoneText).scopeID) } == 0)
        #expect(try allocations { sink &+= Int(try IPv4Address("10.0.0.1").hostOrder & 1) } == 0)
        #expect(try allocations { sink &+= Int(try SockaddrUnix(path: pathText).length) } == 0)
        #expect(try allocations { sink &+= Int(try SockaddrUnix(path: abstractText).length) } == 0)

        // Errors are typed: throwing allocates nothing.
        let invalid = allocations(throwsPerCall: 1) {
            do throws(SockError) { _ = try SockaddrInet4("1.2.3.4:99999") } catch { sink &+= Int(error.errnoCode) }
        }
        #expect(invalid == 0)
        let tooLong = pathText + pathText
        let longPath = allocations(throwsPerCall: 1) {
            do throws(SockError) { _ = try SockaddrUnix(path: tooLong) } catch { sink &+= Int(error.errnoCode) }
        }
        #expect(longPath == 0)

        // Printing: the String is the only allocation, and short ones are stored inline.
        #expect(allocations { sink &+= SockaddrInet4(address: .loopback, port: 80).description.utf8.count } == 0)
        #expect(allocations { sink &+= zoned.description.utf8.count } == 0)  // 15 bytes
        #expect(allocations { sink &+= IPv6Address.loopback.description.utf8.count } == 0)
        // `allocations` counts 100 calls: one String each.
        #expect(allocations { sink &+= v4.description.utf8.count } == 100)
        #expect(allocations { sink &+= v6.description.utf8.count } == 100)

        // Encode, decode, compare, hash.
        var storage6 = RawSockaddrAny()
        withUnsafeMutableBytes(of: &storage6) { raw in withUnsafeBytes(of: v6.raw) { raw.copyMemory(from: $0) } }
        var storageUnix = RawSockaddrAny()
        withUnsafeMutableBytes(of: &storageUnix) { raw in withUnsafeBytes(of: unix.raw) { raw.copyMemory(from: $0) } }
        let any6 = AnySocketAddress.inet6(v6)
        #expect(allocations {
            v4.withSockaddrPointer { _, length in sink &+= Int(length) }
            v6.withSockaddrPointer { _, length in sink &+= Int(length) }
            unix.withSockaddrPointer { _, length in sink &+= Int(length) }
            any6.withSockaddrPointer { _, length in sink &+= Int(length) }
        } == 0)
        #expect(try allocations {
            sink &+= Int(try SockaddrInet6(decoding: storage6, length: 28).port)
            sink &+= Int(try AnySocketAddress(decoding: storage6, length: 28).length)
            sink &+= Int(try SockaddrUnix(decoding: storageUnix, length: 111).length)
        } == 0)
        #expect(allocations {
            var hasher = Hasher()
            hasher.combine(v6)
            hasher.combine(unix)
            sink &+= hasher.finalize() & 1
            sink &+= (v6 == zoned ? 1 : 0) + (unix == unix ? 1 : 0)
            var copy = v4
            copy.port = 81
            copy.address = .loopback
            sink &+= Int(copy.port)
        } == 0)
        #expect(sink != 0)
    }

    // MARK: Resolution

    @Test("resolution: numeric addresses bypass the resolver")
    func resolveNumeric() throws {
        #expect(try SockaddrInet4.resolve(host: "127.0.0.1", port: 80) == SockaddrInet4(address: .loopback, port: 80))
        #expect(try SockaddrInet6.resolve(host: "::1", port: 443) == SockaddrInet6(address: .loopback, port: 443))
        let zoned = try SockaddrInet6.resolve(host: "fe80::1%lo", port: 80)
        #expect(zoned.scopeID == loopbackIndex)
        #expect(try AnySocketAddress.resolve("[::1]:80") == [.inet6(SockaddrInet6(address: .loopback, port: 80))])
        #expect(try AnySocketAddress.resolve("127.0.0.1:8080") == [.inet4(SockaddrInet4(address: .loopback, port: 8080))])
        #expect(try AnySocketAddress.resolve(host: "[::1]", port: 1) == [.inet6(SockaddrInet6(address: .loopback, port: 1))])
    }

    @Test("resolution: localhost, and the empty host as loopback or wildcard")
    func resolveNames() throws {
        let v4 = try SockaddrInet4.resolveAll(host: "localhost", port: 8080)
        #expect(v4.contains(SockaddrInet4(address: .loopback, port: 8080)))
        #expect(v4.allSatisfy { $0.port == 8080 })
        #expect(try SockaddrInet4.resolve(host: "localhost", port: 1).address.isLoopback)

        let both = try AnySocketAddress.resolve("localhost:22")
        #expect(!both.isEmpty)
        #expect(both.allSatisfy { $0.port == 22 })
        #expect(Set(both).count == both.count, "no duplicates")

        let wildcard = try AnySocketAddress.resolve(host: "", port: 9000, family: SockBindings.AF_INET, passive: true)
        #expect(wildcard == [.inet4(SockaddrInet4(address: .any, port: 9000))])
        let local = try AnySocketAddress.resolve(":9000", family: SockBindings.AF_INET)
        #expect(local == [.inet4(SockaddrInet4(address: .loopback, port: 9000))])
    }

    @Test("resolution errors are typed and say what went wrong")
    func resolveErrors() throws {
        for text in ["localhost", "::1:80", "[::1]", "host:port", "host:65536", "[::1%nosuchif0]:80", "127.1:80",
                     "1.2.3.256:80", "bad\0host:80"] {
            do {
                _ = try AnySocketAddress.resolve(text)
                Issue.record("\(text.debugDescription) resolved")
            } catch {
                #expect(error.code == .invalidInput, "\(text.debugDescription): \(error)")
                #expect(error.resolverCode == 0)
                #expect(error.description.contains("cannot resolve"))
            }
        }
        #expect(throws: ResolveError.self) { try AnySocketAddress.resolve("host:65536") }
        do {
            _ = try AnySocketAddress.resolve("host:65536")
        } catch {
            #expect(error.errnoCode == Glibc.ERANGE)
        }
        do {
            _ = try SockaddrInet6.resolve(host: "127.0.0.1", port: 1)
            Issue.record("an IPv4 literal resolved as IPv6")
        } catch {
            #expect(error.code == .hostNotFound)
        }
        do {
            _ = try AnySocketAddress.resolve(host: "localhost", port: 1, family: SockBindings.AF_UNIX)
            Issue.record("AF_UNIX resolved")
        } catch {
            #expect(error.code == .familyNotSupported)
        }
        // A name that does not exist (.invalid is reserved, RFC 6761).
        do {
            _ = try AnySocketAddress.resolve(host: "no-such-host.invalid", port: 80)
            Issue.record("no-such-host.invalid resolved")
        } catch {
            // Offline resolvers may report a temporary failure instead.
            #expect([.hostNotFound, .temporaryFailure, .other].contains(error.code), "\(error)")
            #expect(error.resolverCode != 0)
            #expect(error.host == "no-such-host.invalid")
            #expect(error.description.contains("no-such-host.invalid"))
            #expect(error.description.contains("(EAI_"))
        }
    }
}
