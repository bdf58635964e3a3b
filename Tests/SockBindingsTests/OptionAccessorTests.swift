// Hand-written tests of the generated accessors and helpers against the
// running kernel (the layout tests next to this file are generated).
// Only the functions are imported from Glibc: its constants would be
// ambiguous with the generated ones (see README, "Constants and Glibc").
import func Glibc.accept
import func Glibc.bind
import func Glibc.close
import func Glibc.connect
import func Glibc.getsockname
import func Glibc.listen
import func Glibc.socket
import struct Glibc.sockaddr
import typealias Glibc.socklen_t
import var Glibc.errno
import Testing
import SockBindings

/// A socket that closes itself.
private final class TestSocket {
    let fd: CInt
    init(descriptor: CInt) { fd = descriptor }
    convenience init(_ family: CInt, _ type: CInt, _ proto: CInt = 0) throws {
        let fd = socket(family, type | SockBindings.SOCK_CLOEXEC, proto)
        try #require(fd >= 0, "socket() failed with errno \(errno)")
        self.init(descriptor: fd)
    }
    deinit { close(fd) }
}

/// A connected loopback TCP pair (client, accepted server side).
private func tcpPair() throws -> (client: TestSocket, server: TestSocket, listener: TestSocket) {
    let listener = try TestSocket(AF_INET, SockBindings.SOCK_STREAM)
    var address = RawSockaddrInet4()
    address.sin_family = UInt16(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var length = socklen_t(SizeofRawSockaddrInet4)
    let bound = withUnsafeMutableBytes(of: &address) { raw in
        let pointer = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
        return bind(listener.fd, pointer, length) == 0 && listen(listener.fd, 4) == 0
            && getsockname(listener.fd, pointer, &length) == 0
    }
    try #require(bound)
    let client = try TestSocket(AF_INET, SockBindings.SOCK_STREAM)
    let connected = withUnsafeBytes(of: &address) { raw in
        connect(client.fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
    }
    try #require(connected == 0)
    let accepted = accept(listener.fd, nil, nil)
    try #require(accepted >= 0)
    return (client, TestSocket(descriptor: accepted), listener)
}

@Suite struct OptionAccessorTests {
    @Test func boolOptionRoundTrips() throws {
        let socket = try TestSocket(AF_INET, SockBindings.SOCK_STREAM)
        #expect(try getTCPNoDelay(socket.fd) == false)
        try setTCPNoDelay(socket.fd, true)
        #expect(try getTCPNoDelay(socket.fd) == true)
        try setReuseAddr(socket.fd, true)
        #expect(try getReuseAddr(socket.fd) == true)
        try setKeepAlive(socket.fd, true)
        #expect(try getKeepAlive(socket.fd) == true)
    }

    @Test func intOptionsFollowTheKernelsRules() throws {
        let socket = try TestSocket(AF_INET, SockBindings.SOCK_STREAM)
        try setRecvBuffer(socket.fd, 4096)
        // The kernel doubles SO_RCVBUF to leave room for its bookkeeping.
        #expect(try getRecvBuffer(socket.fd) == 8192)
        try setTCPKeepIdle(socket.fd, 42)
        #expect(try getTCPKeepIdle(socket.fd) == 42)
        try setTCPUserTimeout(socket.fd, 5000)
        #expect(try getTCPUserTimeout(socket.fd) == 5000)
        #expect(try getSocketType(socket.fd) == SockBindings.SOCK_STREAM)
        #expect(try getSocketError(socket.fd) == 0)
    }

    @Test func errnoIsThrownTyped() throws {
        let socket = try TestSocket(AF_UNIX, SockBindings.SOCK_STREAM)
        // TCP_NODELAY on a Unix socket: the kernel says EOPNOTSUPP.
        #expect(throws: SockErrno(rawValue: EOPNOTSUPP)) { try setTCPNoDelay(socket.fd, true) }
        #expect(throws: SockErrno(rawValue: EBADF)) { try getReuseAddr(-1) }
    }

    @Test func structOptionsReportFilledBytes() throws {
        let socket = try TestSocket(AF_INET, SockBindings.SOCK_STREAM)
        var linger = Linger()
        linger.l_onoff = 1
        linger.l_linger = 7
        try setLinger(socket.fd, linger)
        var readBack = Linger()
        #expect(try getLinger(socket.fd, into: &readBack) == SizeofLinger)
        #expect(readBack.l_onoff == 1)
        #expect(readBack.l_linger == 7)
    }

    @Test func tcpInfoOfALiveConnection() throws {
        let pair = try tcpPair()   // keeps all three sockets open
        var info = TCPInfo()
        let filled = try getTCPInfo(pair.client.fd, into: &info)
        // The running kernel fills at most what it knows; never more than the struct.
        #expect(filled > 100 && filled <= SizeofTCPInfo)
        #expect(Int32(info.tcpi_state) == TCP_ESTABLISHED)
        #expect(info.tcpi_snd_mss > 0)
        withExtendedLifetime(pair) {}
    }

    @Test func stringOptionReadsAndWrites() throws {
        let socket = try TestSocket(AF_INET, SockBindings.SOCK_STREAM)
        var buffer = InlineArray<16, UInt8>(repeating: 0xff)
        let length = try withUnsafeMutableBytes(of: &buffer) { try getTCPCongestion(socket.fd, into: $0) }
        #expect(length > 0 && length < 16)
        try setTCPCongestion(socket.fd, "reno")
        let again = try withUnsafeMutableBytes(of: &buffer) { try getTCPCongestion(socket.fd, into: $0) }
        let name = withUnsafeBytes(of: buffer) { String(decoding: $0.prefix(again), as: UTF8.self) }
        #expect(name == "reno")
        #expect(throws: SockErrno(rawValue: ENOENT)) { try setTCPCongestion(socket.fd, "no-such-algorithm") }
    }

    @Test func controlMessageArithmeticMatchesGlibc() {
        // Values of glibc's CMSG_* macros on 64-bit Linux.
        #expect(cmsgAlign(1) == 8)
        #expect(cmsgAlign(8) == 8)
        #expect(cmsgLen(4) == 20)
        #expect(cmsgSpace(4) == 24)
        #expect(cmsgSpace(3 * 4) == 32)
        #expect(SizeofCmsghdr == 16)
    }

    @Test func controlMessageWalkStopsAtMalformedLengths() {
        var control = InlineArray<64, UInt64>(repeating: 0)
        withUnsafeMutableBytes(of: &control) { raw in
            let base = raw.baseAddress!
            var message = Msghdr()
            message.msg_control = base
            message.msg_controllen = CUnsignedLong(cmsgSpace(4) + cmsgSpace(8))
            let first = base.assumingMemoryBound(to: Cmsghdr.self)
            first.pointee.cmsg_len = CUnsignedLong(cmsgLen(4))
            first.pointee.cmsg_level = SOL_SOCKET
            first.pointee.cmsg_type = SCM_RIGHTS
            let second = (base + cmsgSpace(4)).assumingMemoryBound(to: Cmsghdr.self)
            second.pointee.cmsg_len = CUnsignedLong(cmsgLen(8))
            withUnsafePointer(to: &message) { message in
                #expect(cmsgFirstHeader(message) == first)
                #expect(cmsgData(first) == base + 16)
                #expect(cmsgNextHeader(message, after: first) == second)
                #expect(cmsgNextHeader(message, after: second) == nil)
                // A header claiming more bytes than the buffer holds ends the walk.
                first.pointee.cmsg_len = 1000
                #expect(cmsgNextHeader(message, after: first) == nil)
                first.pointee.cmsg_len = 3
                #expect(cmsgNextHeader(message, after: first) == nil)
            }
        }
    }

    @Test func bindingsRecordTheirInputs() {
        #expect(SockBindingsSource.kernelHeaders.hasPrefix("linux-libc-dev") || SockBindingsSource.kernelHeaders.hasPrefix("kernel headers in"))
        #expect(SockBindingsSource.architectures.contains("x86_64"))
    }
}

import SockTestSupport

@Suite struct AccessorAllocationTests {
    @Test(.countingAllocations) func counterSeesAllocations() {
        // The counter itself must work, or the zero results below mean nothing.
        #expect(allocations { _ = [Int](repeating: 1, count: Int.random(in: 100...200)) } >= 100)
    }

    @Test(.countingAllocations) func optionAccessorsDoNotAllocate() throws {
        let socket = try TestSocket(AF_INET, SockBindings.SOCK_STREAM)
        var info = TCPInfo()
        var linger = Linger()
        let count = try allocations(throwsPerCall: 1) {
            try setTCPNoDelay(socket.fd, true)
            _ = try getTCPNoDelay(socket.fd)
            _ = try getRecvBuffer(socket.fd)
            _ = try getTCPInfo(socket.fd, into: &info)
            _ = try getLinger(socket.fd, into: &linger)
            do throws(SockErrno) { _ = try getReuseAddr(-1) } catch { _ = error.rawValue }
        }
        #expect(count == 0)
    }
}

/// For tests that count allocations: skipped, with the reason, where the
/// counter cannot see the Swift runtime's allocations (under
/// ThreadSanitizer; see `AllocationCounting` in SockTestSupport).
extension Trait where Self == ConditionTrait {
    static var countingAllocations: Self {
        .enabled(if: AllocationCounting.isAvailable,
                 "allocation counting is unavailable here (ThreadSanitizer does not report the Swift runtime's allocations to the malloc hook)")
    }
}
