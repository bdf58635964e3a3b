// Allocation-free parsing and printing helpers shared by the address types.
//
// Parsing works on the UTF-8 bytes of a `String` through `Span<UInt8>`
// (`String.utf8.span`): no copy, no allocation, bounds-checked. Printing
// writes into a fixed stack buffer (`AddressText`) and makes the `String` at
// the end, which is the only allocation (none at all for results of up to 15
// bytes, which Swift stores inline).
//
// The few C functions used (`inet_pton`, `if_nametoindex`, `if_indextoname`)
// need NUL-terminated strings; the bytes are copied into a stack buffer first.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

// MARK: - Errors

extension SockError {
    /// Sock rejected a malformed address or name: ``Code/invalidParameter``
    /// with `errnoCode` saying what kind of problem it was.
    ///
    /// - `EINVAL`: bad syntax (an empty string, a bad octet, missing brackets,
    ///   a missing or non-numeric port, an embedded NUL, …);
    /// - `ERANGE`: a number out of range (a port above 65535, a numeric zone
    ///   above `UInt32.max`);
    /// - `ENODEV`: an IPv6 zone that names no network interface;
    /// - `ENAMETOOLONG`: a Unix path or abstract name that does not fit.
    @usableFromInline
    internal static func badAddress(_ errno: CInt = Glibc.EINVAL) -> SockError {
        SockError(code: .invalidParameter, errnoCode: errno)
    }
}

// MARK: - Byte-level parsing

/// ASCII code units used by the parsers.
@usableFromInline
internal enum AddressByte {
    @usableFromInline static var zero: UInt8 { UInt8(ascii: "0") }
    @usableFromInline static var nine: UInt8 { UInt8(ascii: "9") }
    @usableFromInline static var dot: UInt8 { UInt8(ascii: ".") }
    @usableFromInline static var colon: UInt8 { UInt8(ascii: ":") }
    @usableFromInline static var percent: UInt8 { UInt8(ascii: "%") }
    @usableFromInline static var openBracket: UInt8 { UInt8(ascii: "[") }
    @usableFromInline static var closeBracket: UInt8 { UInt8(ascii: "]") }
    @usableFromInline static var at: UInt8 { UInt8(ascii: "@") }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= zero && byte <= nine }
}

/// The index of the last `byte` in `bytes[range]`, or nil.
internal func lastIndex(of byte: UInt8, in bytes: Span<UInt8>, _ range: Range<Int>) -> Int? {
    var index = range.upperBound
    while index > range.lowerBound {
        index -= 1
        if bytes[index] == byte { return index }
    }
    return nil
}

/// The index of the first `byte` in `bytes[range]`, or nil.
internal func firstIndex(of byte: UInt8, in bytes: Span<UInt8>, _ range: Range<Int>) -> Int? {
    var index = range.lowerBound
    while index < range.upperBound {
        if bytes[index] == byte { return index }
        index += 1
    }
    return nil
}

/// Parses an unsigned decimal number of at most `maximum`: one or more ASCII
/// digits and nothing else.
///
/// - Throws: `EINVAL` for an empty or non-digit text, `ERANGE` above `maximum`.
internal func parseDecimal(
    _ bytes: Span<UInt8>, _ range: Range<Int>, maximum: UInt64
) throws(SockError) -> UInt64 {
    guard !range.isEmpty else { throw .badAddress() }
    var value: UInt64 = 0
    var overflowed = false
    for index in range {
        let byte = bytes[index]
        guard AddressByte.isDigit(byte) else { throw .badAddress() }
        if !overflowed {
            value = value * 10 + UInt64(byte - AddressByte.zero)
            if value > maximum { overflowed = true }
        }
    }
    if overflowed { throw .badAddress(Glibc.ERANGE) }
    return value
}

/// Parses a port number, 0...65535.
internal func parsePort(_ bytes: Span<UInt8>, _ range: Range<Int>) throws(SockError) -> UInt16 {
    UInt16(try parseDecimal(bytes, range, maximum: UInt64(UInt16.max)))
}

/// Splits `host:port` at the last colon and parses the port.
///
/// - Returns: The range of the host part and the port.
internal func splitHostPort(
    _ bytes: Span<UInt8>, _ range: Range<Int>
) throws(SockError) -> (host: Range<Int>, port: UInt16) {
    guard let colon = lastIndex(of: AddressByte.colon, in: bytes, range) else {
        throw .badAddress()  // no port
    }
    let port = try parsePort(bytes, colon + 1 ..< range.upperBound)
    return (range.lowerBound ..< colon, port)
}

/// Splits `[host%zone]:port` into the range inside the brackets and the port.
///
/// - Throws: `EINVAL` when the brackets or the colon are missing.
internal func splitBracketedHostPort(
    _ bytes: Span<UInt8>, _ range: Range<Int>
) throws(SockError) -> (host: Range<Int>, port: UInt16) {
    guard !range.isEmpty, bytes[range.lowerBound] == AddressByte.openBracket,
          let close = firstIndex(of: AddressByte.closeBracket, in: bytes, range),
          close + 1 < range.upperBound, bytes[close + 1] == AddressByte.colon
    else {
        throw .badAddress()
    }
    let port = try parsePort(bytes, close + 2 ..< range.upperBound)
    return (range.lowerBound + 1 ..< close, port)
}

/// Copies `bytes[range]` into a NUL-terminated stack buffer and runs `body`
/// with it. `range` must be shorter than the buffer (63 bytes).
internal func withNulTerminated<Result>(
    _ bytes: Span<UInt8>, _ range: Range<Int>,
    _ body: (UnsafePointer<CChar>) -> Result
) throws(SockError) -> Result {
    var buffer = InlineArray<64, CChar>(repeating: 0)
    guard range.count < buffer.count else { throw .badAddress() }
    var out = 0
    for index in range {
        let byte = bytes[index]
        guard byte != 0 else { throw .badAddress() }  // embedded NUL
        buffer[out] = CChar(bitPattern: byte)
        out += 1
    }
    return withUnsafeBytes(of: &buffer) { raw in
        body(raw.baseAddress!.assumingMemoryBound(to: CChar.self))
    }
}

// MARK: - IPv4 and IPv6 text

/// Parses a dotted-quad IPv4 address: exactly four decimal octets, each
/// 0...255, without leading zeros (so `010` is rejected rather than guessed
/// to be octal), nothing else.
internal func parseIPv4(_ bytes: Span<UInt8>, _ range: Range<Int>) throws(SockError) -> IPv4Address {
    var octets: UInt32 = 0
    var part = 0
    var start = range.lowerBound
    var index = range.lowerBound
    while true {
        if index == range.upperBound || bytes[index] == AddressByte.dot {
            let digits = index - start
            guard digits >= 1, digits <= 3, part < 4 else { throw .badAddress() }
            if digits > 1 && bytes[start] == AddressByte.zero { throw .badAddress() }
            let value = try parseDecimal(bytes, start ..< index, maximum: 255)
            octets = octets << 8 | UInt32(value)
            part += 1
            if index == range.upperBound { break }
            start = index + 1
        }
        index += 1
    }
    guard part == 4 else { throw .badAddress() }
    return IPv4Address(hostOrder: octets)
}

/// Parses an IPv6 address without zone (any RFC 4291 text form, including
/// `::ffff:1.2.3.4`), with `inet_pton`.
internal func parseIPv6(_ bytes: Span<UInt8>, _ range: Range<Int>) throws(SockError) -> IPv6Address {
    // The longest valid text is 45 bytes (INET6_ADDRSTRLEN - 1).
    guard !range.isEmpty, range.count < Int(INET6_ADDRSTRLEN) else { throw .badAddress() }
    var address = In6Addr()
    let status = try withNulTerminated(bytes, range) { text in
        withUnsafeMutableBytes(of: &address) { raw in
            inet_pton(SockBindings.AF_INET6, text, raw.baseAddress)
        }
    }
    guard status == 1 else { throw .badAddress() }
    return IPv6Address(address)
}

/// Parses `address` or `address%zone` into an IPv6 address and a scope id.
///
/// A zone is looked up as an interface name first (`if_nametoindex`); if no
/// interface has that name and the zone is all digits, it is the numeric
/// scope id.
internal func parseIPv6WithZone(
    _ bytes: Span<UInt8>, _ range: Range<Int>
) throws(SockError) -> (IPv6Address, UInt32) {
    guard let percent = firstIndex(of: AddressByte.percent, in: bytes, range) else {
        return (try parseIPv6(bytes, range), 0)
    }
    let address = try parseIPv6(bytes, range.lowerBound ..< percent)
    let scope = try parseZone(bytes, percent + 1 ..< range.upperBound)
    return (address, scope)
}

/// Turns an IPv6 zone (interface name or number) into a scope id.
internal func parseZone(_ bytes: Span<UInt8>, _ range: Range<Int>) throws(SockError) -> UInt32 {
    guard !range.isEmpty else { throw .badAddress() }
    if range.count < Int(SockBindings.IF_NAMESIZE) {
        let index = try withNulTerminated(bytes, range) { name in if_nametoindex(name) }
        if index != 0 { return index }
    }
    var allDigits = true
    for index in range where !AddressByte.isDigit(bytes[index]) { allDigits = false }
    guard allDigits else { throw .badAddress(Glibc.ENODEV) }  // no such interface
    return UInt32(try parseDecimal(bytes, range, maximum: UInt64(UInt32.max)))
}

// MARK: - Printing

/// A fixed stack buffer that address descriptions are written into before the
/// one `String` is made.
internal struct AddressText {
    /// Longest text: `[` + 45 + `%` + 15 (SockBindings.IF_NAMESIZE - 1) or 10 digits + `]:`
    /// + 5 = 69 bytes; Unix paths are not written here.
    private var bytes = InlineArray<80, UInt8>(repeating: 0)
    private var count = 0

    init() {}

    mutating func append(_ byte: UInt8) {
        bytes[count] = byte
        count += 1
    }

    mutating func append(ascii: Unicode.Scalar) {
        append(UInt8(ascii: ascii))
    }

    /// Appends a decimal number.
    mutating func appendDecimal(_ value: UInt32) {
        var digits = InlineArray<10, UInt8>(repeating: 0)
        var used = 0
        var rest = value
        repeat {
            digits[used] = AddressByte.zero + UInt8(rest % 10)
            rest /= 10
            used += 1
        } while rest != 0
        while used > 0 {
            used -= 1
            append(digits[used])
        }
    }

    /// Appends lower-case hexadecimal without leading zeros (RFC 5952 §4.1,
    /// §4.3).
    mutating func appendHex(_ value: UInt16) {
        var shift = 12
        while shift > 0 && (value >> UInt16(shift)) == 0 { shift -= 4 }
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt16(shift)) & 0xF
            append(nibble < 10 ? AddressByte.zero + nibble : UInt8(ascii: "a") + nibble - 10)
            shift -= 4
        }
    }

    /// Appends `a.b.c.d`.
    mutating func append(_ address: IPv4Address) {
        let value = address.hostOrder
        appendDecimal(value >> 24)
        append(AddressByte.dot)
        appendDecimal(value >> 16 & 0xFF)
        append(AddressByte.dot)
        appendDecimal(value >> 8 & 0xFF)
        append(AddressByte.dot)
        appendDecimal(value & 0xFF)
    }

    /// Appends the RFC 5952 canonical text: lower case, no leading zeros, the
    /// longest run of two or more zero groups (the first on a tie) as `::`,
    /// a single zero group never compressed, and IPv4-mapped addresses as
    /// `::ffff:a.b.c.d`.
    mutating func append(_ address: IPv6Address) {
        if let mapped = address.ipv4Mapped {
            for scalar in "::ffff:".unicodeScalars { append(ascii: scalar) }
            append(mapped)
            return
        }
        let segments = address.segments
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for index in 0 ..< 8 {
            if segments[index] == 0 {
                if runStart < 0 { runStart = index }
                let length = index - runStart + 1
                if length > bestLength {
                    bestStart = runStart
                    bestLength = length
                }
            } else {
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var index = 0
        while index < 8 {
            if index == bestStart {
                append(AddressByte.colon)
                append(AddressByte.colon)
                index += bestLength
                continue
            }
            if index > 0 && index != bestStart + bestLength { append(AddressByte.colon) }
            appendHex(segments[index])
            index += 1
        }
    }

    /// Appends the interface name of `scopeID` if the system knows one,
    /// otherwise the number.
    mutating func appendZone(_ scopeID: UInt32) {
        var name = InlineArray<32, CChar>(repeating: 0)  // SockBindings.IF_NAMESIZE is 16
        let known = withUnsafeMutableBytes(of: &name) { raw in
            if_indextoname(scopeID, raw.baseAddress!.assumingMemoryBound(to: CChar.self)) != nil
        }
        guard known else {
            appendDecimal(scopeID)
            return
        }
        var index = 0
        while index < Int(SockBindings.IF_NAMESIZE) && name[index] != 0 {
            append(UInt8(bitPattern: name[index]))
            index += 1
        }
    }

    /// The text as a `String` (no allocation up to 15 bytes).
    func makeString() -> String {
        withUnsafeBytes(of: bytes) { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[0 ..< count]).assumingMemoryBound(to: UInt8.self),
                   as: UTF8.self)
        }
    }
}
