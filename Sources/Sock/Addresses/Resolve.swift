// Host-name resolution: an explicit call, never hidden inside address
// parsing or dialing.
//
// Resolution uses `getaddrinfo`, which may read files, talk to DNS and block
// for as long as the resolver's own timeouts allow. It allocates (the C
// library's result list, the returned array and the error's text); it is not a
// hot path. Numeric addresses are recognised first and never reach
// `getaddrinfo`.
//
// Its errors are their own type, `ResolveError`, not `SockError`: they are not
// errno values (getaddrinfo reports `EAI_*` codes), and they carry the host
// name and the resolver's message, which a `SockError` (8 bytes, no payload)
// cannot.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// An error from host-name resolution (``AnySocketAddress/resolve(host:port:family:passive:)``
/// and the `resolve` functions of ``SockaddrInet4`` and ``SockaddrInet6``).
///
/// It keeps the resolver's `EAI_*` code (``resolverCode``), the `errno` for a
/// system error, the host that was asked for, and a readable message:
///
/// ```swift
/// do {
///     let addresses = try AnySocketAddress.resolve(host: "example.invalid", port: 80)
/// } catch {
///     print(error)   // sock: cannot resolve "example.invalid": Name or service not known (EAI_NONAME)
///     if error.code == .hostNotFound { … }
/// }
/// ```
public struct ResolveError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Hashable, Sendable, CustomStringConvertible {
        /// The name is not known, or has no address of the requested family
        /// (`EAI_NONAME`, `EAI_NODATA`).
        case hostNotFound
        /// The name server failed temporarily; trying again later may work
        /// (`EAI_AGAIN`).
        case temporaryFailure
        /// The name server failed permanently (`EAI_FAIL`).
        case permanentFailure
        /// The address family is not `AF_UNSPEC`, `AF_INET` or `AF_INET6`
        /// (`EAI_FAMILY`), or the host has no address of the requested family
        /// (`EAI_ADDRFAMILY`).
        case familyNotSupported
        /// Out of memory (`EAI_MEMORY`).
        case noMemory
        /// A system error; see ``ResolveError/errnoCode`` (`EAI_SYSTEM`).
        case system
        /// The host or `host:port` text is malformed (Sock's own check, such
        /// as a missing port, a port above 65535, an unbracketed IPv6 address,
        /// an invalid numeric address or a NUL byte), or the resolver rejected
        /// its arguments (`EAI_BADFLAGS`, `EAI_SERVICE`, `EAI_SOCKTYPE`).
        case invalidInput
        /// Any other resolver error; see ``ResolveError/message``.
        case other

        /// A short lower-case description, such as "host not found".
        public var description: String {
            switch self {
            case .hostNotFound: "host not found"
            case .temporaryFailure: "temporary failure"
            case .permanentFailure: "permanent failure"
            case .familyNotSupported: "address family not supported"
            case .noMemory: "no memory"
            case .system: "system error"
            case .invalidInput: "invalid input"
            case .other: "resolver error"
            }
        }
    }

    /// The kind of error.
    public let code: Code

    /// The resolver's `EAI_*` code (negative on Linux), or 0 when Sock
    /// detected the problem itself.
    public let resolverCode: CInt

    /// The `errno` of an ``Code/system`` error; for ``Code/invalidInput``
    /// found by Sock, `EINVAL` (bad syntax), `ERANGE` (a number out of range)
    /// or `ENODEV` (an unknown interface in an IPv6 zone); otherwise 0.
    public let errnoCode: CInt

    /// The host (or `host:port` text) that was being resolved.
    public let host: String

    /// A readable explanation: the resolver's own text (`gai_strerror`) or
    /// Sock's.
    public let message: String

    /// Creates an error from its parts.
    public init(code: Code, resolverCode: CInt, errnoCode: CInt, host: String, message: String) {
        self.code = code
        self.resolverCode = resolverCode
        self.errnoCode = errnoCode
        self.host = host
        self.message = message
    }

    /// Maps a `getaddrinfo` result code.
    internal init(resolverCode status: CInt, errno: CInt, host: String) {
        let code: Code
        switch status {
        case SockBindings.EAI_NONAME, SockBindings.EAI_NODATA: code = .hostNotFound
        case SockBindings.EAI_AGAIN: code = .temporaryFailure
        case SockBindings.EAI_FAIL: code = .permanentFailure
        case SockBindings.EAI_FAMILY, SockBindings.EAI_ADDRFAMILY: code = .familyNotSupported
        case SockBindings.EAI_MEMORY: code = .noMemory
        case SockBindings.EAI_SYSTEM: code = .system
        case SockBindings.EAI_BADFLAGS, SockBindings.EAI_SERVICE, SockBindings.EAI_SOCKTYPE: code = .invalidInput
        default: code = .other
        }
        var message = gai_strerror(status).map { String(cString: $0) } ?? "resolver error \(status)"
        if status == SockBindings.EAI_SYSTEM {
            message += ": " + (strerror(errno).map { String(cString: $0) } ?? "errno \(errno)")
        }
        self.init(code: code, resolverCode: status, errnoCode: status == SockBindings.EAI_SYSTEM ? errno : 0,
                  host: host, message: message)
    }

    /// An input error Sock found while parsing `host`.
    internal init(invalid error: SockError, host: String) {
        let message = switch error.errnoCode {
        case Glibc.ERANGE: "number out of range (a port must be 0...65535)"
        case Glibc.ENODEV: "unknown network interface in the IPv6 zone"
        default: "malformed host or port"
        }
        self.init(code: .invalidInput, resolverCode: 0, errnoCode: error.errnoCode, host: host, message: message)
    }

    /// The host has no address of the requested family.
    internal static func noSuitableAddress(_ host: String) -> ResolveError {
        ResolveError(code: .hostNotFound, resolverCode: 0, errnoCode: 0, host: host,
                     message: "no address of the requested family")
    }

    /// The symbolic name of a resolver code, such as "EAI_NONAME".
    internal static func resolverCodeName(_ status: CInt) -> String? {
        switch status {
        case Glibc.EAI_NONAME: "EAI_NONAME"
        case SockBindings.EAI_AGAIN: "EAI_AGAIN"
        case SockBindings.EAI_FAIL: "EAI_FAIL"
        case Glibc.EAI_FAMILY: "EAI_FAMILY"
        case SockBindings.EAI_MEMORY: "EAI_MEMORY"
        case SockBindings.EAI_SYSTEM: "EAI_SYSTEM"
        case SockBindings.EAI_BADFLAGS: "EAI_BADFLAGS"
        case SockBindings.EAI_SERVICE: "EAI_SERVICE"
        case SockBindings.EAI_SOCKTYPE: "EAI_SOCKTYPE"
        case Glibc.EAI_OVERFLOW: "EAI_OVERFLOW"
        default: nil
        }
    }

    /// For example `sock: cannot resolve "db.internal": Name or service not
    /// known (EAI_NONAME)`.
    public var description: String {
        var text = "sock: cannot resolve \"\(host)\": \(message)"
        if resolverCode != 0 {
            text += " (\(Self.resolverCodeName(resolverCode) ?? "EAI \(resolverCode)"))"
        }
        return text
    }
}

// MARK: - Resolution

extension AnySocketAddress {
    /// Resolves a host name or numeric address to socket addresses with the
    /// given port.
    ///
    /// A numeric IPv4 address, or an IPv6 address with an optional zone
    /// (`fe80::1%eth0`, brackets allowed), is converted directly without
    /// asking the resolver. Anything else goes to `getaddrinfo`, which may
    /// block (files, DNS) and allocates; the result keeps the resolver's order
    /// (RFC 6724 preference), with duplicates removed. An empty host means the
    /// local host: the loopback addresses, or with `passive` the wildcard
    /// addresses for binding (`AI_PASSIVE`).
    ///
    /// Text made of digits and dots that is not a strict dotted quad (such as
    /// `127.1`) is rejected instead of being read in the legacy `inet_aton`
    /// forms.
    ///
    /// - Parameters:
    ///   - host: A host name, a numeric address, or empty.
    ///   - port: The port of every returned address.
    ///   - family: `AF_UNSPEC` (both, the default), `AF_INET` or `AF_INET6`.
    ///   - passive: Whether an empty host means the wildcard address.
    /// - Returns: At least one address.
    /// - Throws: ``ResolveError``.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public static func resolve(
        host: String, port: UInt16, family: CInt = SockBindings.AF_UNSPEC, passive: Bool = false
    ) throws(ResolveError) -> [AnySocketAddress] {
        try resolveAddresses(host: host, port: port, family: family, passive: passive, label: host)
    }

    /// Resolves `"host:port"` text: `"example.com:80"`, `"127.0.0.1:80"`,
    /// `"[::1]:80"`, `"[fe80::1%eth0]:80"` or `":80"` (the local host, or the
    /// wildcard with `passive`). The port must be numeric. An IPv6 address
    /// needs brackets.
    ///
    /// - Throws: ``ResolveError``; ``ResolveError/Code/invalidInput`` for
    ///   malformed text.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public static func resolve(
        _ hostPort: String, family: CInt = SockBindings.AF_UNSPEC, passive: Bool = false
    ) throws(ResolveError) -> [AnySocketAddress] {
        let bytes = hostPort.utf8.span
        let host: Range<Int>
        let port: UInt16
        do throws(SockError) {
            if bytes.count > 0 && bytes[0] == AddressByte.openBracket {
                (host, port) = try splitBracketedHostPort(bytes, 0 ..< bytes.count)
            } else {
                (host, port) = try splitHostPort(bytes, 0 ..< bytes.count)
                // An unbracketed IPv6 address is ambiguous ("::1:80").
                if firstIndex(of: AddressByte.colon, in: bytes, host) != nil { throw SockError.badAddress() }
            }
        } catch {
            throw ResolveError(invalid: error, host: hostPort)
        }
        // The split points are ASCII bytes, so they are character boundaries.
        let utf8 = hostPort.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: host.lowerBound)
        let end = utf8.index(utf8.startIndex, offsetBy: host.upperBound)
        let hostText = String(Substring(utf8[start ..< end]))
        return try resolveAddresses(host: hostText, port: port, family: family, passive: passive, label: hostPort)
    }
}

/// Whether `bytes` is made of ASCII digits and dots only.
private func isDigitsAndDots(_ bytes: Span<UInt8>) -> Bool {
    for index in bytes.indices where !(AddressByte.isDigit(bytes[index]) || bytes[index] == AddressByte.dot) {
        return false
    }
    return true
}

/// Resolution shared by every entry point; `label` is the text errors report.
private func resolveAddresses(
    host rawHost: String, port: UInt16, family: CInt, passive: Bool, label: String
) throws(ResolveError) -> [AnySocketAddress] {
    let wantsV4 = family == SockBindings.AF_UNSPEC || family == SockBindings.AF_INET
    let wantsV6 = family == SockBindings.AF_UNSPEC || family == SockBindings.AF_INET6
    guard wantsV4 || wantsV6 else {
        throw ResolveError(code: .familyNotSupported, resolverCode: 0, errnoCode: 0, host: label,
                           message: "the family must be AF_UNSPEC, AF_INET or AF_INET6")
    }
    // Brackets around a host are allowed ("[::1]").
    var host = rawHost
    if host.utf8.first == AddressByte.openBracket && host.utf8.last == AddressByte.closeBracket {
        host = String(host.dropFirst().dropLast())
    }
    let bytes = host.utf8.span
    let noSuitable = { (kind: String) in
        ResolveError(code: .hostNotFound, resolverCode: 0, errnoCode: 0, host: label,
                     message: "a numeric \(kind) address does not match the requested family")
    }

    // Numeric addresses: no resolver.
    if bytes.count > 0 && isDigitsAndDots(bytes) {
        let address: IPv4Address
        do {
            address = try parseIPv4(bytes, 0 ..< bytes.count)
        } catch {
            throw ResolveError(invalid: error, host: label)
        }
        guard wantsV4 else { throw noSuitable("IPv4") }
        return [.inet4(SockaddrInet4(address: address, port: port))]
    }
    if firstIndex(of: AddressByte.colon, in: bytes, 0 ..< bytes.count) != nil {
        let parsed: (IPv6Address, UInt32)
        do {
            parsed = try parseIPv6WithZone(bytes, 0 ..< bytes.count)
        } catch {
            throw ResolveError(invalid: error, host: label)
        }
        guard wantsV6 else { throw noSuitable("IPv6") }
        return [.inet6(SockaddrInet6(address: parsed.0, port: port, scopeID: parsed.1))]
    }
    if firstIndex(of: 0, in: bytes, 0 ..< bytes.count) != nil {
        throw ResolveError(invalid: .badAddress(), host: label)
    }

    var hints = addrinfo()
    hints.ai_family = family
    hints.ai_socktype = SockBindings.SOCK_STREAM  // one entry per address, not one per socket type
    hints.ai_flags = Glibc.AI_NUMERICSERV | (passive ? Glibc.AI_PASSIVE : 0)
    var list: UnsafeMutablePointer<addrinfo>?
    var savedErrno: CInt = 0
    let status = String(port).withCString { service in
        let status: CInt
        if host.isEmpty {
            status = getaddrinfo(nil, service, &hints, &list)
        } else {
            status = host.withCString { getaddrinfo($0, service, &hints, &list) }
        }
        savedErrno = errno
        return status
    }
    guard status == 0 else {
        throw ResolveError(resolverCode: status, errno: savedErrno, host: label)
    }
    defer { freeaddrinfo(list) }

    var results: [AnySocketAddress] = []
    var entry = list
    while let current = entry {
        defer { entry = current.pointee.ai_next }
        guard let sockaddr = current.pointee.ai_addr else { continue }
        let buffer = UnsafeRawBufferPointer(start: sockaddr, count: Int(current.pointee.ai_addrlen))
        guard var address = try? AnySocketAddress(decoding: buffer, length: current.pointee.ai_addrlen) else {
            continue
        }
        switch address {
        case .inet4(var a):
            a.port = port
            address = .inet4(a)
        case .inet6(var a):
            a.port = port
            address = .inet6(a)
        case .unix:
            continue
        }
        if !results.contains(address) { results.append(address) }
    }
    guard !results.isEmpty else { throw .noSuitableAddress(label) }
    return results
}

extension SockaddrInet4 {
    /// Resolves `host` to its first IPv4 address, with `port`.
    ///
    /// A dotted quad is converted directly; anything else goes to
    /// `getaddrinfo` (may block, allocates). See
    /// ``AnySocketAddress/resolve(host:port:family:passive:)``.
    ///
    /// - Throws: ``ResolveError``; ``ResolveError/Code/hostNotFound`` when the
    ///   host has no IPv4 address.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public static func resolve(host: String, port: UInt16) throws(ResolveError) -> SockaddrInet4 {
        guard let first = try resolveAll(host: host, port: port).first else {
            throw .noSuitableAddress(host)
        }
        return first
    }

    /// Resolves `host` to all its IPv4 addresses, with `port`, in the
    /// resolver's order. Never empty.
    ///
    /// - Throws: ``ResolveError``.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public static func resolveAll(host: String, port: UInt16) throws(ResolveError) -> [SockaddrInet4] {
        let all = try AnySocketAddress.resolve(host: host, port: port, family: SockBindings.AF_INET)
        let matching = all.compactMap { if case .inet4(let address) = $0 { address } else { nil } }
        guard !matching.isEmpty else { throw .noSuitableAddress(host) }
        return matching
    }
}

extension SockaddrInet6 {
    /// Resolves `host` to its first IPv6 address, with `port`.
    ///
    /// An IPv6 address (with an optional zone, such as `fe80::1%eth0`) is
    /// converted directly; anything else goes to `getaddrinfo` (may block,
    /// allocates). IPv4 addresses are not mapped: a host with only IPv4
    /// addresses is not found. See
    /// ``AnySocketAddress/resolve(host:port:family:passive:)``.
    ///
    /// - Throws: ``ResolveError``; ``ResolveError/Code/hostNotFound`` when the
    ///   host has no IPv6 address.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public static func resolve(host: String, port: UInt16) throws(ResolveError) -> SockaddrInet6 {
        guard let first = try resolveAll(host: host, port: port).first else {
            throw .noSuitableAddress(host)
        }
        return first
    }

    /// Resolves `host` to all its IPv6 addresses, with `port`, in the
    /// resolver's order. Never empty.
    ///
    /// - Throws: ``ResolveError``.
    ///
    /// The corresponding C function is `getaddrinfo`.
    public static func resolveAll(host: String, port: UInt16) throws(ResolveError) -> [SockaddrInet6] {
        let all = try AnySocketAddress.resolve(host: host, port: port, family: SockBindings.AF_INET6)
        let matching = all.compactMap { if case .inet6(let address) = $0 { address } else { nil } }
        guard !matching.isEmpty else { throw .noSuitableAddress(host) }
        return matching
    }
}
