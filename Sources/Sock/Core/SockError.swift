// The one error type of Sock, and the one errno mapping every call uses.
//
// Constants come from the generated bindings and are written `SockBindings.X`:
// Glibc declares the same names, so an unqualified use would be ambiguous.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// An error from a Sock operation: a semantic ``Code`` plus the `errno` it came
/// from.
///
/// Every Sock call that can fail throws `SockError` with typed throws
/// (`throws(SockError)`), so throwing never allocates: the value is 8 bytes and
/// travels in registers.
///
/// Would-block is *not* an error on the hot path: non-blocking reads, writes,
/// accepts and connects return ``IOResult/wouldBlock`` instead of throwing. The
/// ``Code/wouldBlock`` case exists only so that the errno mapping is total; it
/// is thrown only by APIs that document it.
///
/// Two errors are equal when both their codes and their errno values are
/// equal: a reset that came from `EPIPE` is not `==` to ``connectionReset``
/// (which carries `ECONNRESET`). Matching is by meaning: as a pattern (in
/// `catch`, `switch`, `if case`) a named error matches every error of its
/// code, whatever the errno — ``~=(_:_:)`` compares codes only — so
/// `catch .connectionReset` catches `ECONNRESET`, `ECONNABORTED`, `EPIPE` and
/// `ESHUTDOWN` alike. Compare ``code`` to test the meaning outside a pattern.
///
/// The named errors (``timedOut``, ``closed``, …) work as patterns:
///
/// ```swift
/// do throws(SockError) {
///     let result = try descriptor.read(into: buffer, deadline: .after(.seconds(1)))
/// } catch .timedOut {
///     // the deadline passed
/// } catch {
///     print(error.code, error.errnoCode)
/// }
/// ```
public struct SockError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The semantic kind of a ``SockError``, following the errno table of the Go
    /// reference (`errFromErrno`).
    public enum Code: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// The peer refused the connection: nothing listens at the address
        /// (`ECONNREFUSED`).
        case connectionRefused
        /// The connection was reset or is gone (`ECONNRESET`, `ECONNABORTED`,
        /// `EPIPE`, `ESHUTDOWN`).
        case connectionReset
        /// The socket is not connected, or needs a destination address
        /// (`ENOTCONN`, `EDESTADDRREQ`).
        case notConnected
        /// The operation's deadline passed, or the kernel timed out
        /// (`ETIMEDOUT`).
        case timedOut
        /// A connection attempt is still in progress (`EINPROGRESS`,
        /// `EALREADY`).
        case inProgress
        /// The address is already in use (`EADDRINUSE`).
        case addressInUse
        /// The address is not available on this host (`EADDRNOTAVAIL`).
        case addressNotAvailable
        /// The network is down or unreachable (`ENETDOWN`, `ENETUNREACH`).
        case networkUnreachable
        /// The host is unreachable (`EHOSTUNREACH`).
        case hostUnreachable
        /// The message is too large for the transport (`EMSGSIZE`).
        case messageTooLarge
        /// The protocol is not supported (`EPROTONOSUPPORT`), or not for this
        /// socket type (`ESOCKTNOSUPPORT`, as SCTP one-to-many sockets report on
        /// kernels without SCTP).
        case protocolNotSupported
        /// The address family is not supported (`EAFNOSUPPORT`).
        case addressFamilyNotSupported
        /// The caller lacks the permission (`EACCES`, `EPERM`).
        case permissionDenied
        /// An argument is invalid (`EINVAL`), or Sock rejected bad input.
        case invalidParameter
        /// A signal interrupted the call (`EINTR`). Sock retries interrupted
        /// calls itself, so this is rare.
        case interrupted
        /// The kernel is out of memory or buffer space (`ENOMEM`, `ENOBUFS`).
        case noMemory
        /// The descriptor is closed: Sock's own closed state, or `EBADF`.
        case closed
        /// The network name (such as `"tcp5"`) is not one Sock knows. No errno.
        case unknownNetwork
        /// The operation is not supported by this socket (`EOPNOTSUPP`).
        case notSupported
        /// The operation would block (`EAGAIN`, `EWOULDBLOCK`). Non-blocking
        /// operations report this as ``IOResult/wouldBlock`` and never throw it.
        case wouldBlock
        /// The peer ended the stream before an operation that needs a given
        /// number of bytes got them (``Descriptor/read(exactly:into:deadline:)``).
        /// No errno: the kernel reported a plain end of stream.
        case endOfStream
        /// The task waiting for the operation was cancelled (`ECANCELED`);
        /// the socket stays usable.
        case cancelled
        /// Any other errno; see ``SockError/errnoCode``.
        case other

        /// A short lower-case description, such as "connection refused".
        public var description: String {
            switch self {
            case .connectionRefused: "connection refused"
            case .connectionReset: "connection reset"
            case .notConnected: "not connected"
            case .timedOut: "timed out"
            case .inProgress: "operation in progress"
            case .addressInUse: "address in use"
            case .addressNotAvailable: "address not available"
            case .networkUnreachable: "network unreachable"
            case .hostUnreachable: "host unreachable"
            case .messageTooLarge: "message too large"
            case .protocolNotSupported: "protocol not supported"
            case .addressFamilyNotSupported: "address family not supported"
            case .permissionDenied: "permission denied"
            case .invalidParameter: "invalid parameter"
            case .interrupted: "interrupted"
            case .noMemory: "no memory"
            case .closed: "closed"
            case .unknownNetwork: "unknown network"
            case .notSupported: "not supported"
            case .wouldBlock: "would block"
            case .endOfStream: "end of stream before the requested bytes"
            case .cancelled: "cancelled"
            case .other: "system error"
            }
        }
    }

    /// The semantic kind of the error.
    public let code: Code

    /// The `errno` the error came from, or for errors Sock detects itself, the
    /// errno a kernel would have used (`EBADF` for ``closed``, `ETIMEDOUT` for
    /// ``timedOut``, `EINVAL` for ``invalidParameter``). It is 0 only for
    /// ``Code/unknownNetwork``, which has no kernel counterpart.
    public let errnoCode: CInt

    /// Creates an error from its parts, without any mapping.
    ///
    /// Prefer ``init(errno:)`` for values reported by the kernel, so that every
    /// errno maps the same way everywhere.
    @inlinable
    public init(code: Code, errnoCode: CInt) {
        self.code = code
        self.errnoCode = errnoCode
    }

    /// Maps an `errno` value to its semantic error. This is the only mapping
    /// in Sock; every call uses it.
    ///
    /// `EAGAIN`/`EWOULDBLOCK` map to ``Code/wouldBlock`` (which hot paths
    /// report as ``IOResult/wouldBlock`` instead of throwing). `EISCONN` maps to
    /// ``Code/other`` here; `connect` alone treats it as success. Unlisted
    /// values, including 0, map to ``Code/other``.
    public init(errno: CInt) {
        self.init(code: Self.code(forErrno: errno), errnoCode: errno)
    }

    /// Maps an errno value thrown by the generated bindings (`SockErrno`).
    @inlinable
    public init(_ errno: SockErrno) {
        self.init(errno: errno.rawValue)
    }

    /// The `SockErrno` this error came from, or `nil` when ``errnoCode`` is 0.
    @inlinable
    public var sockErrno: SockErrno? {
        errnoCode == 0 ? nil : SockErrno(rawValue: errnoCode)
    }

    /// The semantic code for an errno value (the reference's `errFromErrno`
    /// table).
    @usableFromInline
    internal static func code(forErrno errno: CInt) -> Code {
        switch errno {
        case SockBindings.EAGAIN, SockBindings.EWOULDBLOCK: .wouldBlock
        case SockBindings.EBADF: .closed
        case SockBindings.EINVAL: .invalidParameter
        case SockBindings.EINTR: .interrupted
        case SockBindings.ENOMEM, SockBindings.ENOBUFS: .noMemory
        case SockBindings.EACCES, SockBindings.EPERM: .permissionDenied
        case SockBindings.ECONNREFUSED: .connectionRefused
        case SockBindings.ECONNRESET, SockBindings.ECONNABORTED, SockBindings.EPIPE, SockBindings.ESHUTDOWN: .connectionReset
        case SockBindings.ENOTCONN, SockBindings.EDESTADDRREQ: .notConnected
        case SockBindings.EINPROGRESS, SockBindings.EALREADY: .inProgress
        case SockBindings.EADDRINUSE: .addressInUse
        case SockBindings.EADDRNOTAVAIL: .addressNotAvailable
        case SockBindings.ETIMEDOUT: .timedOut
        case SockBindings.ENETDOWN, SockBindings.ENETUNREACH: .networkUnreachable
        case SockBindings.EHOSTUNREACH: .hostUnreachable
        case SockBindings.EMSGSIZE: .messageTooLarge
        case SockBindings.EAFNOSUPPORT: .addressFamilyNotSupported
        case SockBindings.EPROTONOSUPPORT, SockBindings.ESOCKTNOSUPPORT: .protocolNotSupported
        case SockBindings.EOPNOTSUPP: .notSupported
        case SockBindings.ECANCELED: .cancelled
        default: .other
        }
    }

    /// The C name of an errno value (generated from the kernel headers), for messages.
    internal static func errnoName(_ errno: CInt) -> String? {
        SockBindings.errnoName(errno).map { "\($0)" }
    }

    /// A clear message naming the semantic error and its errno, for example
    /// "sock: connection refused (ECONNREFUSED, errno 111)". Allocates; not for
    /// hot paths.
    public var description: String {
        if errnoCode == 0 {
            return "sock: \(code)"
        }
        if code == .other {
            // No semantic case: the C library's text says what happened.
            let name = Self.errnoName(errnoCode).map { "\($0), " } ?? ""
            let text = strerror(errnoCode).map { String(cString: $0) } ?? "unknown error"
            return "sock: \(text) (\(name)errno \(errnoCode))"
        }
        let name = Self.errnoName(errnoCode).map { "\($0), " } ?? ""
        return "sock: \(code) (\(name)errno \(errnoCode))"
    }

    /// Equal when both the codes and the errno values are equal.
    @inlinable
    public static func == (lhs: SockError, rhs: SockError) -> Bool {
        lhs.code == rhs.code && lhs.errnoCode == rhs.errnoCode
    }

    /// Hashes the code and the errno, consistently with `==`.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(errnoCode)
    }

    /// Pattern matching by meaning: `pattern` matches every error of its
    /// ``code``, whatever the errno, so `catch .connectionReset` also
    /// catches a reset reported as `EPIPE`.
    @inlinable
    public static func ~= (pattern: SockError, value: SockError) -> Bool {
        pattern.code == value.code
    }
}

extension SockError {
    /// Connection refused (`ECONNREFUSED`).
    public static var connectionRefused: SockError { SockError(code: .connectionRefused, errnoCode: SockBindings.ECONNREFUSED) }
    /// Connection reset (`ECONNRESET`).
    public static var connectionReset: SockError { SockError(code: .connectionReset, errnoCode: SockBindings.ECONNRESET) }
    /// Not connected (`ENOTCONN`).
    public static var notConnected: SockError { SockError(code: .notConnected, errnoCode: SockBindings.ENOTCONN) }
    /// Timed out: a deadline passed (`ETIMEDOUT`).
    public static var timedOut: SockError { SockError(code: .timedOut, errnoCode: SockBindings.ETIMEDOUT) }
    /// Operation in progress (`EINPROGRESS`).
    public static var inProgress: SockError { SockError(code: .inProgress, errnoCode: SockBindings.EINPROGRESS) }
    /// Address in use (`EADDRINUSE`).
    public static var addressInUse: SockError { SockError(code: .addressInUse, errnoCode: SockBindings.EADDRINUSE) }
    /// Address not available (`EADDRNOTAVAIL`).
    public static var addressNotAvailable: SockError { SockError(code: .addressNotAvailable, errnoCode: SockBindings.EADDRNOTAVAIL) }
    /// Network unreachable (`ENETUNREACH`).
    public static var networkUnreachable: SockError { SockError(code: .networkUnreachable, errnoCode: SockBindings.ENETUNREACH) }
    /// Host unreachable (`EHOSTUNREACH`).
    public static var hostUnreachable: SockError { SockError(code: .hostUnreachable, errnoCode: SockBindings.EHOSTUNREACH) }
    /// Message too large (`EMSGSIZE`).
    public static var messageTooLarge: SockError { SockError(code: .messageTooLarge, errnoCode: SockBindings.EMSGSIZE) }
    /// Protocol not supported (`EPROTONOSUPPORT`).
    public static var protocolNotSupported: SockError { SockError(code: .protocolNotSupported, errnoCode: SockBindings.EPROTONOSUPPORT) }
    /// Address family not supported (`EAFNOSUPPORT`).
    public static var addressFamilyNotSupported: SockError { SockError(code: .addressFamilyNotSupported, errnoCode: SockBindings.EAFNOSUPPORT) }
    /// Permission denied (`EACCES`).
    public static var permissionDenied: SockError { SockError(code: .permissionDenied, errnoCode: SockBindings.EACCES) }
    /// Invalid parameter (`EINVAL`); also used when Sock rejects bad input.
    public static var invalidParameter: SockError { SockError(code: .invalidParameter, errnoCode: SockBindings.EINVAL) }
    /// Interrupted (`EINTR`).
    public static var interrupted: SockError { SockError(code: .interrupted, errnoCode: SockBindings.EINTR) }
    /// No memory (`ENOMEM`).
    public static var noMemory: SockError { SockError(code: .noMemory, errnoCode: SockBindings.ENOMEM) }
    /// Cancelled: the task waiting for an async operation was cancelled
    /// (`ECANCELED`); the socket stays usable.
    public static var cancelled: SockError { SockError(code: .cancelled, errnoCode: SockBindings.ECANCELED) }
    /// Closed: the descriptor was closed (reported with `EBADF`).
    public static var closed: SockError { SockError(code: .closed, errnoCode: SockBindings.EBADF) }
    /// Unknown network name (no errno).
    public static var unknownNetwork: SockError { SockError(code: .unknownNetwork, errnoCode: 0) }
    /// Not supported (`EOPNOTSUPP`).
    public static var notSupported: SockError { SockError(code: .notSupported, errnoCode: SockBindings.EOPNOTSUPP) }
    /// Would block (`EAGAIN`). Hot paths return ``IOResult/wouldBlock`` instead.
    public static var wouldBlock: SockError { SockError(code: .wouldBlock, errnoCode: SockBindings.EAGAIN) }
    /// The stream ended before the requested bytes arrived (no errno).
    public static var endOfStream: SockError { SockError(code: .endOfStream, errnoCode: 0) }

    /// An error with no semantic case, keeping `errno`.
    public static func other(_ errno: CInt) -> SockError { SockError(code: .other, errnoCode: errno) }
}

extension SockErrno {
    /// This errno mapped to its semantic ``SockError`` (see ``SockError/init(errno:)``).
    @inlinable
    public var sockError: SockError { SockError(self) }
}

/// Runs `body`, which throws ``SockErrno``, and maps its error to
/// ``SockError``.
@inline(__always)
internal func mappingErrno<Result: ~Copyable>(
    _ body: () throws(SockErrno) -> Result
) throws(SockError) -> Result {
    do {
        return try body()
    } catch {
        throw SockError(error)
    }
}
