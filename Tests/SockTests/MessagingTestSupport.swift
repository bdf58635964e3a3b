// Shared helpers for the message, control-message, descriptor-passing,
// multicast and raw-socket tests. Everything lives in `enum Messaging` so
// nothing collides with other suites' helpers.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import Sock
import SockBindings
import Testing

enum Messaging {
    // MARK: Sockets

    /// A UDP socket bound to the loopback address of the family, and its
    /// address.
    static func udp(ipv6: Bool = false) throws -> (Descriptor, AnySocketAddress) {
        if ipv6 {
            let socket = try Descriptor.socket(family: SockBindings.AF_INET6, type: SockBindings.SOCK_DGRAM)
            try socket.bindSocket(to: SockaddrInet6(address: .loopback, port: 0))
            return (socket, try socket.socketName(as: AnySocketAddress.self))
        }
        let socket = try Descriptor.socket(family: SockBindings.AF_INET, type: SockBindings.SOCK_DGRAM)
        try socket.bindSocket(to: SockaddrInet4(address: .loopback, port: 0))
        return (socket, try socket.socketName(as: AnySocketAddress.self))
    }

    /// A connected AF_UNIX pair of `type`.
    static func unixPair(_ type: CInt = SockBindings.SOCK_STREAM) throws -> (Descriptor, Descriptor) {
        try Descriptor.socketPair(family: SockBindings.AF_UNIX, type: type)
    }

    /// A non-blocking, close-on-exec pipe: (read end, write end).
    static func pipe() -> (CInt, CInt) {
        var fds: [CInt] = [-1, -1]
        let result = Glibc.pipe(&fds)
        precondition(result == 0, "pipe failed")
        for fd in fds {
            _ = fcntl(fd, SockBindings.F_SETFD, SockBindings.FD_CLOEXEC)
            _ = fcntl(fd, SockBindings.F_SETFL, fcntl(fd, SockBindings.F_GETFL) | SockBindings.O_NONBLOCK)
        }
        return (fds[0], fds[1])
    }

    /// Whether `fd` has FD_CLOEXEC.
    static func isCloseOnExec(_ fd: CInt) -> Bool {
        fcntl(fd, SockBindings.F_GETFD) & SockBindings.FD_CLOEXEC != 0
    }

    /// What a non-blocking read of the read end of a pipe sees: "eof" when
    /// every write end is closed (nothing leaked), "open" when a write end
    /// is still open somewhere in the process, or the bytes read.
    static func pipeState(_ readEnd: CInt) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = Glibc.read(readEnd, &buffer, buffer.count)
        if count == 0 { return "eof" }
        if count < 0 { return errno == SockBindings.EAGAIN ? "open" : "errno \(errno)" }
        return String(decoding: buffer[0 ..< count], as: UTF8.self)
    }

    /// The descriptors listed in /proc/self/fd that refer to the same file
    /// as `fd` (same device and inode), `fd` itself included. Unlike a plain
    /// count of /proc/self/fd, this is not disturbed by tests running in
    /// parallel.
    static func descriptorsReferring(toFileOf fd: CInt) -> [CInt] {
        var target = stat()
        guard fstat(fd, &target) == 0 else { return [] }
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        var matches: [CInt] = []
        while let entry = readdir(directory) {
            let name = direntName(entry)
            guard let number = CInt(name) else { continue }
            var info = stat()
            if fstat(number, &info) == 0 && info.st_ino == target.st_ino && info.st_dev == target.st_dev {
                matches.append(number)
            }
        }
        return matches.sorted()
    }

    /// The number of entries in /proc/self/fd (noisy when other tests run
    /// in parallel; used only as a coarse bound).
    static func openDescriptorCount() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        return count - 2  // "." and ".."
    }

    /// Runs a generated option accessor on `descriptor`.
    static func option<Value>(_ descriptor: Descriptor, _ body: (CInt) throws(SockErrno) -> Value) throws -> Value {
        try descriptor.withFileDescriptor { fd throws(SockError) -> Value in
            try mappingErrno { () throws(SockErrno) -> Value in try body(fd) }
        }
    }

    /// The index of the loopback interface.
    static var loopbackIndex: UInt32 { if_nametoindex("lo") }

    // MARK: Buffers

    /// Calls `body` with a zeroed, 8-byte aligned buffer of `count` bytes.
    @discardableResult
    static func withBuffer<Result>(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Result) rethrows -> Result {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        defer { buffer.deallocate() }
        return try body(buffer)
    }

    /// The bytes of `text`.
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The first `count` bytes of `buffer` as text.
    static func text(_ buffer: UnsafeMutableRawBufferPointer, _ count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]), as: UTF8.self)
    }

    /// The completed value, or a recorded issue and a thrown error.
    static func completed<Value>(_ result: IOResult<Value>, sourceLocation: SourceLocation = #_sourceLocation) throws -> Value {
        guard case .completed(let value) = result else {
            Issue.record("expected a completed operation, got would-block", sourceLocation: sourceLocation)
            throw SockError.wouldBlock
        }
        return value
    }

    /// A deadline one second ahead.
    static var soon: Deadline { .after(.seconds(1)) }

    // MARK: Network namespaces (root only)

    /// Runs a command, returning its exit status (or -1 if it cannot run).
    @discardableResult
    static func run(_ arguments: [String]) -> Int32 {
        guard let process = try? SpawnedProcess("/usr/bin/env", arguments, output: nil, error: nil) else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    private typealias SetnsFunction = @convention(c) (CInt, CInt) -> CInt

    /// `setns(2)`, which the Glibc module does not import.
    private static let setnsFunction: SetnsFunction? = {
        guard let program = dlopen(nil, Glibc.RTLD_NOW), let symbol = dlsym(program, "setns") else { return nil }
        return unsafeBitCast(symbol, to: SetnsFunction.self)
    }()

    /// `CLONE_NEWNET` from <sched.h> (not imported either).
    private static let cloneNewNet: CInt = 0x4000_0000

    /// Runs `body` on the current thread inside the named network namespace
    /// (`ip netns add NAME`), then switches the thread back. Sockets created
    /// in `body` stay in that namespace. `body` must not suspend.
    static func inNetworkNamespace<Result>(_ name: String, _ body: () throws -> Result) throws -> Result {
        guard let setns = setnsFunction else { throw SockError.notSupported }
        let original = open("/proc/thread-self/ns/net", SockBindings.O_RDONLY | SockBindings.O_CLOEXEC)
        let target = open("/var/run/netns/\(name)", SockBindings.O_RDONLY | SockBindings.O_CLOEXEC)
        defer {
            if original >= 0 { Glibc.close(original) }
            if target >= 0 { Glibc.close(target) }
        }
        guard original >= 0, target >= 0, setns(target, cloneNewNet) == 0 else { throw SockError(errno: errno) }
        defer { precondition(setns(original, cloneNewNet) == 0, "could not return to the original network namespace") }
        return try body()
    }
}

// MARK: - ICMP

extension Messaging {
    /// The Internet checksum (RFC 1071) of `bytes`.
    static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// An ICMP (type 8) or ICMPv6 (type 128) echo request with `identifier`,
    /// `sequence` and `payload`; the ICMPv4 checksum is filled in (the kernel
    /// fills the ICMPv6 one).
    static func echoRequest(ipv6: Bool, identifier: UInt16, sequence: UInt16, payload: [UInt8]) -> [UInt8] {
        var packet: [UInt8] = [ipv6 ? 128 : 8, 0, 0, 0,
                               UInt8(identifier >> 8), UInt8(identifier & 0xFF),
                               UInt8(sequence >> 8), UInt8(sequence & 0xFF)] + payload
        if !ipv6 {
            let checksum = internetChecksum(packet)
            packet[2] = UInt8(checksum >> 8)
            packet[3] = UInt8(checksum & 0xFF)
        }
        return packet
    }
}
