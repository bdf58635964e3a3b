// What the running kernel's io_uring can do, and the reactor's backend
// choice with its fallback to epoll.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// The io_uring operations the running kernel supports, read once with
/// `IORING_REGISTER_PROBE`, and the features it reported at setup.
public struct IOUringSupport: Hashable, Sendable {
    /// The highest operation code the kernel knows.
    public let lastOperation: UInt8
    /// `IORING_FEAT_*` bits reported by `io_uring_setup`.
    public let features: UInt32
    /// One bit per operation code 0...255, 64 per word.
    private let bits0, bits1, bits2, bits3: UInt64

    /// Creates a support set from supported operation codes (tests).
    internal init(lastOperation: UInt8, features: UInt32, supported: some Sequence<UInt8>) {
        var bits = InlineArray<4, UInt64>(repeating: 0)
        for opcode in supported { bits[Int(opcode >> 6)] |= 1 << UInt64(opcode & 63) }
        self.lastOperation = lastOperation
        self.features = features
        (bits0, bits1, bits2, bits3) = (bits[0], bits[1], bits[2], bits[3])
    }

    /// Whether the kernel supports operation `opcode` (`IORING_OP_*`).
    public func supports(_ opcode: CInt) -> Bool {
        guard opcode >= 0 && opcode < 256 else { return false }
        let word = switch opcode >> 6 { case 0: bits0 case 1: bits1 case 2: bits2 default: bits3 }
        return word & (1 << UInt64(opcode & 63)) != 0
    }

    /// Whether the kernel reported feature `feature` (`IORING_FEAT_*`).
    public func has(feature: UInt32) -> Bool { features & feature != 0 }

    /// The operations a completion reactor needs: accept, receive, send,
    /// connect, close, timeouts, cancellation and poll (with multishot accept and
    /// receive and provided buffer rings, which the probe cannot show: they
    /// are flags of accept and receive, present since Linux 5.19/6.0).
    public static let reactorOperations: [CInt] = [
        SockBindings.IORING_OP_NOP, SockBindings.IORING_OP_ACCEPT, SockBindings.IORING_OP_RECV,
        SockBindings.IORING_OP_SEND, SockBindings.IORING_OP_CONNECT, SockBindings.IORING_OP_CLOSE,
        SockBindings.IORING_OP_TIMEOUT, SockBindings.IORING_OP_LINK_TIMEOUT, SockBindings.IORING_OP_ASYNC_CANCEL,
        SockBindings.IORING_OP_POLL_ADD,
    ]

    /// Probes `ring`: the kernel fills one `io_uring_probe_op` per operation.
    internal static func probe(_ ring: IOUring) throws(SockErrno) -> IOUringSupport {
        let capacity = 256
        let size = MemoryLayout<IOUringProbe>.size + capacity * MemoryLayout<IOUringProbeOp>.size
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        try ring.register(SockBindings.IORING_REGISTER_PROBE, buffer, count: UInt32(capacity))
        let header = buffer.load(as: IOUringProbe.self)
        let ops = buffer + MemoryLayout<IOUringProbe>.size
        var supported: [UInt8] = []
        for index in 0..<min(Int(header.ops_len), capacity) {
            let op = ops.load(fromByteOffset: index * MemoryLayout<IOUringProbeOp>.size, as: IOUringProbeOp.self)
            if UInt32(op.flags) & SockBindings.IO_URING_OP_SUPPORTED != 0 { supported.append(op.op) }
        }
        return IOUringSupport(lastOperation: header.last_op, features: ring.params.features, supported: supported)
    }

    /// Sets up a small ring, probes it and closes it: what this process may
    /// use, or why it may not use io_uring at all.
    public static func current() -> Result<IOUringSupport, IOUringUnavailability> {
        usable(requiring: [])
    }

    /// Sets up a small ring, probes it for `required` and closes it.
    internal static func usable(requiring required: [CInt]) -> Result<IOUringSupport, IOUringUnavailability> {
        do throws(IOUringUnavailability) {
            let ring = try setUp(entries: 2)
            defer { ring.close() }
            return .success(try probe(ring, requiring: required))
        } catch {
            return .failure(error)
        }
    }

    /// Sets up a ring, with the cause when io_uring is not usable.
    internal static func setUp(entries: UInt32) throws(IOUringUnavailability) -> IOUring {
        do throws(SockErrno) {
            return try IOUring(entries: entries)
        } catch {
            throw IOUringUnavailability(setupError: error)
        }
    }

    /// Probes `ring` and checks that it offers every operation in
    /// `required`: the support, or why the ring cannot serve.
    internal static func probe(_ ring: IOUring, requiring required: [CInt]) throws(IOUringUnavailability) -> IOUringSupport {
        let support: IOUringSupport
        do throws(SockErrno) {
            support = try probe(ring)
        } catch {
            throw .probeFailed(error)
        }
        if let missing = required.first(where: { !support.supports($0) }) {
            throw .missingOperation(opcode: missing)
        }
        return support
    }
}

/// Why io_uring cannot be used; its ``description`` names the cause.
public enum IOUringUnavailability: Error, Hashable, Sendable, CustomStringConvertible {
    /// `io_uring_setup` returned ENOSYS: the kernel was built without
    /// io_uring (or is older than 5.1).
    case notImplemented
    /// `io_uring_setup` returned EPERM: forbidden by a seccomp filter (as in
    /// many containers) or by `/proc/sys/kernel/io_uring_disabled` (its
    /// value, when it could be read, in `sysctl`).
    case notPermitted(sysctl: Int?)
    /// `io_uring_setup` failed with another error (ENOMEM: locked memory
    /// limit; EMFILE ...).
    case setupFailed(SockErrno)
    /// `IORING_REGISTER_PROBE` failed (kernels before 5.6 have no probe).
    case probeFailed(SockErrno)
    /// The kernel lacks an operation the reactor needs.
    case missingOperation(opcode: CInt)

    internal init(setupError error: SockErrno) {
        switch error.rawValue {
        case SockBindings.ENOSYS: self = .notImplemented
        case SockBindings.EPERM: self = .notPermitted(sysctl: Self.disabledSysctl())
        default: self = .setupFailed(error)
        }
    }

    /// The value of `kernel.io_uring_disabled` (0 allowed, 1 only for the
    /// `io_uring_group`, 2 disabled), or nil when the file is absent.
    internal static func disabledSysctl() -> Int? {
        let fd = Glibc.open("/proc/sys/kernel/io_uring_disabled", SockBindings.O_RDONLY | SockBindings.O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var byte: UInt8 = 0
        let count = withUnsafeMutableBytes(of: &byte) { Glibc.read(fd, $0.baseAddress, 1) }
        guard count == 1, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        return Int(byte - UInt8(ascii: "0"))
    }

    /// The ``SockError`` a reactor asked for `.ioUring` throws: ENOSYS
    /// (``SockError/Code/notSupported``), EPERM
    /// (``SockError/Code/permissionDenied``), the setup or probe errno, or
    /// EOPNOTSUPP for a missing operation.
    public var error: SockError {
        switch self {
        case .notImplemented: SockError(code: .notSupported, errnoCode: SockBindings.ENOSYS)
        case .notPermitted: SockError(code: .permissionDenied, errnoCode: SockBindings.EPERM)
        case .setupFailed(let errno), .probeFailed(let errno): SockError(errno)
        case .missingOperation: SockError(code: .notSupported, errnoCode: SockBindings.EOPNOTSUPP)
        }
    }

    /// The cause in words, for logs.
    public var description: String {
        switch self {
        case .notImplemented:
            "io_uring is not available: io_uring_setup returned ENOSYS (kernel without io_uring)"
        case .notPermitted(let sysctl):
            if let sysctl, sysctl != 0 {
                "io_uring is not permitted: io_uring_setup returned EPERM and kernel.io_uring_disabled is \(sysctl)"
            } else {
                "io_uring is not permitted: io_uring_setup returned EPERM (a seccomp filter, as in many containers)"
            }
        case .setupFailed(let errno):
            "io_uring_setup failed: \(errno)"
        case .probeFailed(let errno):
            "io_uring probe (IORING_REGISTER_PROBE) failed: \(errno)"
        case .missingOperation(let opcode):
            "the kernel's io_uring lacks operation \(IOUringOperationName.name(opcode)) (opcode \(opcode))"
        }
    }
}

/// Names of the operations the reactor needs, for messages.
internal enum IOUringOperationName {
    static func name(_ opcode: CInt) -> String {
        switch opcode {
        case SockBindings.IORING_OP_NOP: "IORING_OP_NOP"
        case SockBindings.IORING_OP_ACCEPT: "IORING_OP_ACCEPT"
        case SockBindings.IORING_OP_RECV: "IORING_OP_RECV"
        case SockBindings.IORING_OP_SEND: "IORING_OP_SEND"
        case SockBindings.IORING_OP_CONNECT: "IORING_OP_CONNECT"
        case SockBindings.IORING_OP_CLOSE: "IORING_OP_CLOSE"
        case SockBindings.IORING_OP_TIMEOUT: "IORING_OP_TIMEOUT"
        case SockBindings.IORING_OP_LINK_TIMEOUT: "IORING_OP_LINK_TIMEOUT"
        case SockBindings.IORING_OP_ASYNC_CANCEL: "IORING_OP_ASYNC_CANCEL"
        case SockBindings.IORING_OP_POLL_ADD: "IORING_OP_POLL_ADD"
        default: "IORING_OP_\(opcode)"
        }
    }
}

/// Which kernel interface a reactor waits with.
public enum ReactorBackend: Hashable, Sendable {
    /// Readiness with epoll (every Linux kernel).
    case epoll
    /// Completions with io_uring; fails with the cause when the kernel or
    /// the process's sandbox does not allow it.
    case ioUring
    /// io_uring when usable, otherwise epoll (the reason is kept in
    /// ``ReactorBackendSelection/fallbackReason``).
    case automatic

    /// Decides the backend for this process.
    ///
    /// - Parameter required: Operations the io_uring backend needs
    ///   (``IOUringSupport/reactorOperations`` by default).
    /// - Returns: The backend chosen and, for `.automatic` falling back to
    ///   epoll, why.
    /// - Throws: For `.ioUring` only, the ``IOUringUnavailability/error`` of
    ///   the cause (ENOSYS, EPERM, a setup/probe errno, or EOPNOTSUPP for a
    ///   missing operation); ``ReactorBackendSelection/check(required:)``
    ///   gives the cause itself.
    public func select(required: [CInt] = IOUringSupport.reactorOperations) throws(SockError) -> ReactorBackendSelection {
        switch self {
        case .epoll:
            return ReactorBackendSelection(backend: .epoll, support: nil, fallbackReason: nil)
        case .ioUring, .automatic:
            switch ReactorBackendSelection.check(required: required) {
            case .success(let support):
                return ReactorBackendSelection(backend: .ioUring, support: support, fallbackReason: nil)
            case .failure(let reason):
                if self == .ioUring { throw reason.error }
                return ReactorBackendSelection(backend: .epoll, support: nil, fallbackReason: reason)
            }
        }
    }
}

/// The outcome of ``ReactorBackend/select(required:)``.
public struct ReactorBackendSelection: Hashable, Sendable {
    /// The backend to use: `.epoll` or `.ioUring`, never `.automatic`.
    public let backend: ReactorBackend
    /// What io_uring supports, when it was chosen.
    public let support: IOUringSupport?
    /// Why `.automatic` fell back to epoll (nil otherwise).
    public let fallbackReason: IOUringUnavailability?

    /// Whether io_uring is usable with every operation in `required`, or the
    /// cause when it is not.
    public static func check(required: [CInt] = IOUringSupport.reactorOperations)
        -> Result<IOUringSupport, IOUringUnavailability> {
        IOUringSupport.usable(requiring: required)
    }
}
