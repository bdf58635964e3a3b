// A Unix-domain socket address: the kernel's `sockaddr_un` plus its exact
// length, as a Swift value.
//
// Linux facts this follows (unix(7), and measured on Linux 6.x):
// - `sun_path` is 108 bytes at offset 2; `sockaddr_un` is 110 bytes.
// - A filesystem path of up to 108 bytes binds; 109 fails (ENAMETOOLONG). A
//   path shorter than 108 bytes is passed with its NUL terminator (length
//   2 + n + 1); a 108-byte path fills the array and has no NUL (length 110).
// - The kernel's reported length for a 108-byte path is 111, one more than
//   `sockaddr_un`: decoding clamps to the storage.
// - An abstract name is a leading NUL then the name's bytes, with length
//   exactly 2 + 1 + n: trailing NULs are part of an abstract name, so padding
//   to `sizeof(sockaddr_un)` would name a different socket.
// - Length 2 (the family alone) means unnamed: binding it autobinds to a
//   kernel-chosen abstract name.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// A Unix-domain socket address: a filesystem path, an abstract name or
/// unnamed. The kernel's `sockaddr_un` plus its exact length, held by value.
///
/// The text form used by ``init(path:)`` and ``path``:
///
/// | Text       | Address                      | ``length``       |
/// |------------|------------------------------|------------------|
/// | `/tmp/s`   | filesystem path, NUL-terminated if it fits | 2 + n + 1 (n < 108), 110 (n = 108) |
/// | `@name`    | abstract name: a leading NUL, then `name`, no trailing NUL | 2 + 1 + n |
/// | `""`       | unnamed (binding it autobinds) | 2            |
///
/// A path longer than 108 bytes, or an abstract name longer than 107, throws:
/// nothing is ever truncated.
///
/// No class, no heap: creating one from a string, handing it to the kernel and
/// decoding it never allocate (reading ``path`` makes a `String`).
///
/// ```swift
/// let file = try SockaddrUnix(path: "/run/app.sock")   // length 2 + 13 + 1
/// let abstract = try SockaddrUnix(path: "@app")        // length 2 + 1 + 3
/// let unnamed = SockaddrUnix()                         // length 2: autobind
/// ```
///
/// This is the Go reference's `SockaddrUnix`; `NewSockaddrUnix(path)` is
/// ``init(path:)``, `Path`/`SetPath` is ``path``/``setPath(_:)``, `Family`
/// is ``family-property`` and `Raw` is ``withSockaddrPointer(_:)``. Unlike the
/// reference, abstract names get no stray trailing NUL and over-long paths are
/// an error instead of being truncated.
public struct SockaddrUnix: SocketAddress, BitwiseCopyable {
    /// The kernel structure. Bytes past the name are always zero.
    @usableFromInline
    internal var _raw: RawSockaddrUnix

    /// The exact length, 2...110.
    @usableFromInline
    internal var _length: UInt8

    /// `AF_UNIX`.
    @inlinable
    public static var family: CInt { SockBindings.AF_UNIX }

    /// The offset of `sun_path` in `sockaddr_un`: 2.
    @inlinable
    internal static var pathOffset: Int { MemoryLayout<RawSockaddrUnix>.offset(of: \.sun_path)! }

    /// The longest filesystem path, in bytes: the size of `sun_path`, 108 on
    /// Linux. A path of exactly this length is stored without a NUL
    /// terminator.
    @inlinable
    public static var maxPathLength: Int { MemoryLayout<RawSockaddrUnix>.size - pathOffset }

    /// The longest abstract name, in bytes, not counting the leading NUL: 107.
    @inlinable
    public static var maxAbstractNameLength: Int { maxPathLength - 1 }

    /// Creates an unnamed address (length 2, the family alone). Binding it
    /// autobinds the socket to a kernel-chosen abstract name; it is also what
    /// the kernel reports for an unbound peer.
    @inlinable
    public init() {
        _raw = RawSockaddrUnix()
        _raw.sun_family = UInt16(truncatingIfNeeded: SockBindings.AF_UNIX)
        _length = UInt8(truncatingIfNeeded: Self.pathOffset)
    }

    /// Creates an address from its text form: a filesystem path, `@name` for
    /// an abstract name (a leading NUL byte instead of `@` works too), or the
    /// empty string for unnamed (autobind). See the table in the type's
    /// documentation for the exact lengths.
    ///
    /// A filesystem path whose name really starts with `@` needs
    /// ``init(filesystemPath:)``.
    ///
    /// - Throws: ``SockError/invalidParameter`` with `errnoCode`
    ///   `ENAMETOOLONG` when a path is longer than ``maxPathLength`` or an
    ///   abstract name longer than ``maxAbstractNameLength`` bytes, and
    ///   `EINVAL` when a filesystem path contains a NUL byte.
    public init(path: String) throws(SockError) {
        self.init()
        try setPath(path)
    }

    /// Creates an address for a filesystem path, taken literally (a leading
    /// `@` is part of the file name).
    ///
    /// - Throws: ``SockError/invalidParameter`` with `errnoCode`
    ///   `ENAMETOOLONG` for a path longer than ``maxPathLength`` bytes, and
    ///   `EINVAL` for an empty path or one containing a NUL byte.
    public init(filesystemPath: String) throws(SockError) {
        let bytes = filesystemPath.utf8.span
        guard bytes.count > 0 else { throw .badAddress() }
        self.init()
        try encodeFilesystemPath(bytes, 0 ..< bytes.count)
    }

    /// Creates an address for an abstract name given without its `@` (any
    /// bytes, NULs included, up to ``maxAbstractNameLength``).
    ///
    /// - Throws: ``SockError/invalidParameter`` with `errnoCode`
    ///   `ENAMETOOLONG` for a name longer than ``maxAbstractNameLength`` bytes.
    public init(abstractName: String) throws(SockError) {
        let bytes = abstractName.utf8.span
        self.init()
        try encodeAbstractName(bytes, 0 ..< bytes.count)
    }

    /// Wraps a kernel `sockaddr_un` of `length` bytes, with the same rules as
    /// decoding (the length is clamped to the structure).
    ///
    /// - Throws: as ``init(decoding:length:)``.
    @inlinable
    public init(_ raw: RawSockaddrUnix, length: socklen_t) throws(SockError) {
        self = try withUnsafeBytes(of: raw) { (buffer) throws(SockError) -> SockaddrUnix in
            try SockaddrUnix(decoding: buffer, length: length)
        }
    }

    /// Decodes a kernel-filled address, clamping `length` to `buffer.count`
    /// and to `sockaddr_un` (the kernel reports 111 for a 108-byte path).
    ///
    /// A filesystem path ends at its first NUL or at the end of the valid
    /// bytes, and gets the canonical length (2 + n + 1, or 110 for 108 bytes),
    /// so a decoded address equals the one that was bound. An abstract name
    /// keeps every valid byte. Length 2 is unnamed.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` when the family is
    ///   not `AF_UNIX`; ``SockError/invalidParameter`` when fewer than 2 bytes
    ///   are valid.
    public init(decoding buffer: UnsafeRawBufferPointer, length: socklen_t) throws(SockError) {
        let valid = Swift.min(clampedLength(length, buffer), MemoryLayout<RawSockaddrUnix>.size)
        guard try decodedFamily(buffer, valid: valid) == SockBindings.AF_UNIX else {
            throw .addressFamilyNotSupported
        }
        self.init()
        let offset = Self.pathOffset
        let pathBytes = valid - offset
        guard pathBytes > 0 else { return }  // unnamed
        if buffer[offset] == 0 {
            // Abstract: every byte is part of the name.
            copyPrefix(buffer, count: valid, into: &_raw)
            _length = UInt8(truncatingIfNeeded: valid)
        } else {
            var count = 0
            while count < pathBytes && buffer[offset + count] != 0 { count += 1 }
            copyPrefix(buffer, count: offset + count, into: &_raw)
            _length = UInt8(truncatingIfNeeded: Self.filesystemLength(count))
        }
        _raw.sun_family = UInt16(truncatingIfNeeded: SockBindings.AF_UNIX)
    }

    /// The canonical length of a filesystem path of `count` bytes.
    internal static func filesystemLength(_ count: Int) -> Int {
        pathOffset + count + (count < maxPathLength ? 1 : 0)
    }

    /// Replaces the address with the one `path` denotes, in the text form of
    /// ``init(path:)``. On error the address is unchanged.
    ///
    /// - Throws: as ``init(path:)``.
    public mutating func setPath(_ path: String) throws(SockError) {
        let bytes = path.utf8.span
        var address = SockaddrUnix()
        if bytes.count > 0 {
            if bytes[0] == AddressByte.at || bytes[0] == 0 {
                try address.encodeAbstractName(bytes, 1 ..< bytes.count)
            } else {
                try address.encodeFilesystemPath(bytes, 0 ..< bytes.count)
            }
        }
        self = address
    }

    /// Stores a filesystem path into an unnamed address.
    private mutating func encodeFilesystemPath(_ bytes: Span<UInt8>, _ range: Range<Int>) throws(SockError) {
        guard range.count <= Self.maxPathLength else { throw .badAddress(Glibc.ENAMETOOLONG) }
        var out = 0
        for index in range {
            let byte = bytes[index]
            guard byte != 0 else { throw .badAddress() }
            _raw.sun_path[out] = CChar(bitPattern: byte)
            out += 1
        }
        _length = UInt8(truncatingIfNeeded: Self.filesystemLength(out))
    }

    /// Stores an abstract name (without its leading NUL) into an unnamed
    /// address.
    private mutating func encodeAbstractName(_ bytes: Span<UInt8>, _ range: Range<Int>) throws(SockError) {
        guard range.count <= Self.maxAbstractNameLength else { throw .badAddress(Glibc.ENAMETOOLONG) }
        var out = 1  // sun_path[0] stays NUL
        for index in range {
            _raw.sun_path[out] = CChar(bitPattern: bytes[index])
            out += 1
        }
        _length = UInt8(truncatingIfNeeded: Self.pathOffset + out)
    }

    /// The kernel structure (`sockaddr_un`). Only the first ``length`` bytes
    /// are meaningful; the rest are zero.
    @inlinable
    public var raw: RawSockaddrUnix { _raw }

    /// `AF_UNIX`.
    @inlinable
    public var family: CInt { SockBindings.AF_UNIX }

    /// The exact length to hand to the kernel: 2 for unnamed, 2 + n + 1 for a
    /// filesystem path of n < 108 bytes, 110 for a 108-byte path, and
    /// 2 + 1 + n for an abstract name of n bytes.
    @inlinable
    public var length: socklen_t { socklen_t(_length) }

    /// Whether the address is unnamed (length 2).
    @inlinable
    public var isUnnamed: Bool { Int(_length) == Self.pathOffset }

    /// Whether the address is an abstract name (`@name`).
    @inlinable
    public var isAbstract: Bool { !isUnnamed && _raw.sun_path[0] == 0 }

    /// Calls `body` with the name's bytes: the path without its NUL
    /// terminator, or the abstract name without its leading NUL (empty when
    /// unnamed). Unlike ``path`` this is exact for names that are not UTF-8.
    @inlinable
    public func withNameBytes<Result: ~Copyable, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let offset = Self.pathOffset
        var start = offset
        var end = Int(_length)
        if isUnnamed {
            end = offset
        } else if _raw.sun_path[0] == 0 {
            start += 1
        } else if end - offset < Self.maxPathLength || _raw.sun_path[Self.maxPathLength - 1] == 0 {
            end -= 1  // the NUL terminator
        }
        return try withUnsafeBytes(of: _raw) { (raw) throws(Failure) -> Result in
            try body(UnsafeRawBufferPointer(rebasing: raw[start ..< end]))
        }
    }

    /// The text form: the filesystem path, `"@"` and the abstract name, or
    /// `""` when unnamed; ``init(path:)`` parses it back. Bytes that are not
    /// UTF-8 become U+FFFD; use ``withNameBytes(_:)`` for exact bytes.
    /// Allocates the string.
    public var path: String {
        let name = withNameBytes { String(decoding: $0, as: UTF8.self) }
        return isAbstract ? "@" + name : name
    }

    /// Calls `body` with a pointer to the `sockaddr_un` and its exact
    /// ``length``.
    @inlinable
    public func withSockaddrPointer<Result: ~Copyable, Failure: Error>(
        _ body: (UnsafePointer<RawSockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try withRawSockaddr(_raw, length: length, body)
    }

    /// The same text as ``path``.
    public var description: String { path }

    /// Equal when the lengths and the name bytes are equal.
    @inlinable
    public static func == (lhs: SockaddrUnix, rhs: SockaddrUnix) -> Bool {
        guard lhs._length == rhs._length else { return false }
        return withUnsafeBytes(of: lhs._raw) { l in
            withUnsafeBytes(of: rhs._raw) { r in
                memcmp(l.baseAddress!, r.baseAddress!, Int(lhs._length)) == 0
            }
        }
    }

    /// Hashes the length and the name bytes.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(_length)
        withUnsafeBytes(of: _raw) { raw in
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw[0 ..< Int(_length)]))
        }
    }
}
