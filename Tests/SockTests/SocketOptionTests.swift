// The generated option keys against the running kernel: every value shape
// (Bool, Int, UInt32, Duration in seconds / milliseconds / timeval, String,
// structures), the units and rounding, bad input refused before any system
// call, errors injected through the syscall table, and no allocation.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Synchronization
import Testing

@Suite("Socket options: typed keys")
struct SocketOptionTests {
    @Test("Bool keys round-trip on TCP, socket level")
    func boolKeys() throws {
        let socket = try TCPSocket.ipv4()
        defer { try? socket.close() }
        #expect(try !socket.option(.noDelay))
        try socket.setOption(.noDelay, to: true)
        #expect(try socket.option(.noDelay))
        #expect(try socket.option(.reuseAddress), "TCP sockets Sock creates have SO_REUSEADDR")
        try socket.setOption(.keepAlive, to: true)
        #expect(try socket.option(.keepAlive))
        #expect(try !socket.option(.acceptsConnections))
    }

    @Test("Int keys: sizes, counts and read-only integers")
    func intKeys() throws {
        let socket = try TCPSocket.ipv4()
        defer { try? socket.close() }
        try socket.setOption(.receiveBufferSize, to: 4096)
        #expect(try socket.option(.receiveBufferSize) == 8192, "the kernel doubles SO_RCVBUF")
        try socket.setOption(.keepAliveCount, to: 5)
        #expect(try socket.option(.keepAliveCount) == 5)
        #expect(try socket.option(.socketType) == Int(SockBindings.SOCK_STREAM))
        #expect(try socket.option(.addressFamily) == Int(SockBindings.AF_INET))
        #expect(try socket.option(.socketProtocol) == Int(SockBindings.IPPROTO_TCP))
        #expect(try socket.option(.pendingError) == 0)
        try socket.setOption(.timeToLive, to: 33)
        #expect(try socket.option(.timeToLive) == 33)
    }

    @Test("UInt32 keys")
    func unsignedKeys() throws {
        let socket = try TCPSocket.ipv4()
        defer { try? socket.close() }
        try socket.setOption(.maximumPacingRate, to: 1_000_000)
        #expect(try socket.option(.maximumPacingRate) == 1_000_000)
    }

    @Test("Duration keys in seconds, milliseconds and struct timeval; set rounds up")
    func durationKeys() throws {
        let socket = try TCPSocket.ipv4()
        defer { try? socket.close() }
        try socket.setOption(.keepAliveIdle, to: .seconds(42))
        #expect(try socket.option(.keepAliveIdle) == .seconds(42))
        try socket.setOption(.keepAliveInterval, to: .milliseconds(1_500))
        #expect(try socket.option(.keepAliveInterval) == .seconds(2), "rounded up to whole seconds")
        try socket.setOption(.userTimeout, to: .seconds(5))
        #expect(try socket.option(.userTimeout) == .milliseconds(5_000))
        try socket.setOption(.userTimeout, to: .microseconds(1))
        #expect(try socket.option(.userTimeout) == .milliseconds(1), "a positive duration never becomes 0")
        try socket.setOption(.receiveTimeout, to: .milliseconds(1_500))
        #expect(try socket.option(.receiveTimeout) == .milliseconds(1_500))
        try socket.setOption(.sendTimeout, to: .nanoseconds(1))
        #expect(try socket.option(.sendTimeout) > .zero, "the kernel keeps jiffies; 1 ns must not become \"no timeout\"")
        try socket.setOption(.receiveTimeout, to: .zero)
        #expect(try socket.option(.receiveTimeout) == .zero)
    }

    @Test("bad values are refused before the system call; nothing is written")
    func badValues() throws {
        let socket = try TCPSocket.ipv4()
        defer { try? socket.close() }
        let calls = Counter()
        let target = socket.descriptor.rawValue
        try withSyscalls({ table in
            table.setsockopt = { fd, level, name, value, length in
                if fd == target { calls.increment() }
                return SyscallTable.system.setsockopt(fd, level, name, value, length)
            }
        }) { () throws in
            #expect(throws: SockError.invalidParameter) { try socket.setOption(.receiveBufferSize, to: -1) }
            #expect(throws: SockError.invalidParameter) { try socket.setOption(.keepAliveCount, to: -1) }
            #expect(throws: SockError.invalidParameter) { try socket.setOption(.timeToLive, to: Int(CInt.max) + 1) }
            #expect(throws: SockError.invalidParameter) { try socket.setOption(.keepAliveIdle, to: .seconds(-1)) }
            #expect(throws: SockError.invalidParameter) { try socket.setOption(.userTimeout, to: .seconds(Int64(CInt.max))) }
            #expect(throws: SockError.invalidParameter) { try socket.setOption(.receiveTimeout, to: .milliseconds(-1)) }
            #expect(throws: SockError.invalidParameter) { try socket.setOption(.congestion, to: "re\u{0}no") }
        }
        #expect(calls.value == 0)
    }

    @Test("structure keys: linger, TCP_INFO with the filled length, the linger helper")
    func structureKeys() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        var linger = Linger()
        linger.l_onoff = 1
        linger.l_linger = 7
        try client.setOption(.linger, to: linger)
        var readBack = Linger()
        #expect(try client.option(.linger, into: &readBack) == MemoryLayout<Linger>.size)
        #expect(readBack.l_onoff == 1 && readBack.l_linger == 7)
        #expect(try client.lingerTimeout == .seconds(7))
        try client.setLinger(nil)
        #expect(try client.lingerTimeout == nil)
        #expect(throws: SockError.invalidParameter) { try client.setLinger(.seconds(-1)) }

        var info = TCPInfo()
        let filled = try client.option(.info, into: &info)
        #expect(filled > 100 && filled <= MemoryLayout<TCPInfo>.size)
        #expect(CInt(info.tcpi_state) == SockBindings.TCP_ESTABLISHED)
        #expect(try client.option(.info).tcpi_snd_mss > 0)
    }

    @Test("string keys: into a buffer without allocating, or as a String")
    func stringKeys() throws {
        let socket = try TCPSocket.ipv4()
        defer { try? socket.close() }
        var buffer = InlineArray<16, UInt8>(repeating: 0xff)
        let length = try withUnsafeMutableBytes(of: &buffer) { bytes throws(SockError) in
            try socket.option(.congestion, into: bytes)
        }
        #expect(length > 0 && length < 16)
        try socket.setOption(.congestion, to: "reno")
        #expect(try socket.option(.congestion) == "reno")
        #expect(throws: SockError(errno: SockBindings.ENOENT)) { try socket.setOption(.congestion, to: "no-such-algorithm") }
    }

    @Test("keys of every scope a kind accepts: UDP, SCTP-less IPv6, raw descriptors, NetSocket")
    func scopes() throws {
        let udp = try UDPSocket<SockaddrInet6>()
        defer { try? udp.close() }
        try udp.setOption(.ipv6Only, to: true)
        #expect(try udp.option(.ipv6Only))
        try udp.setOption(.segmentSize, to: 1_200)
        #expect(try udp.option(.segmentSize) == 1_200)
        try udp.setOption(.broadcast, to: true)
        #expect(try udp.option(.broadcast))

        // A Unix socket accepts socket-level keys; TCP keys only through a raw descriptor.
        let (a, b) = try streamPair()
        defer { try? a.close(); try? b.close() }
        try a.setOption(SocketOption<OptionScope.Socket, _, _>.sendBufferSize, to: 8192)
        #expect(throws: SockError.notSupported) {
            try a.setOption(SocketOption<OptionScope.TCP, _, _>.noDelay, to: true)
        }

        let net = try NetSocket.tcp(ipv6: false)
        defer { try? net.close() }
        try net.setOption(SocketOption<OptionScope.TCP, _, _>.noDelay, to: true)
        #expect(try net.option(SocketOption<OptionScope.TCP, _, _>.noDelay))
        #expect(try net.option(.receiveBufferSize) > 0)
    }

    @Test("the keep-alive period sets idle time and interval together, at least 1 s")
    func keepAlivePeriod() throws {
        let socket = try TCPSocket.ipv4()
        defer { try? socket.close() }
        try socket.setKeepAlivePeriod(.seconds(15))
        #expect(try socket.option(.keepAliveIdle) == .seconds(15))
        #expect(try socket.option(.keepAliveInterval) == .seconds(15))
        try socket.setKeepAlivePeriod(.milliseconds(10))
        #expect(try socket.option(.keepAliveIdle) == .seconds(1))
        #expect(throws: SockError.invalidParameter) { try socket.setKeepAlivePeriod(.seconds(-1)) }
    }

    @Test("closed sockets throw .closed")
    func closed() throws {
        let socket = try TCPSocket.ipv4()
        try socket.close()
        #expect(throws: SockError.closed) { try socket.setOption(.noDelay, to: true) }
        #expect(throws: SockError.closed) { try socket.option(.receiveBufferSize) }
    }
}

// MARK: - Errors injected through the syscall table

extension RuntimeCoreTests {
    @Suite("Socket options: errors injected into getsockopt/setsockopt")
    struct OptionFaultTests {
        @Test("a failing setsockopt throws the mapped SockError for every value shape")
        func setFailures() throws {
            let socket = try TCPSocket.ipv4()
            defer { try? socket.close() }
            let target = socket.descriptor.rawValue
            let calls = Counter()
            try withSyscalls({ table in
                table.setsockopt = { fd, level, name, value, length in
                    guard fd == target else { return SyscallTable.system.setsockopt(fd, level, name, value, length) }
                    calls.increment()
                    errno = SockBindings.EACCES
                    return -1
                }
            }) { () throws in
                #expect(throws: SockError.permissionDenied) { try socket.setOption(.noDelay, to: true) }
                #expect(throws: SockError.permissionDenied) { try socket.setOption(.receiveBufferSize, to: 1) }
                #expect(throws: SockError.permissionDenied) { try socket.setOption(.keepAliveIdle, to: .seconds(1)) }
                #expect(throws: SockError.permissionDenied) { try socket.setOption(.receiveTimeout, to: .seconds(1)) }
                #expect(throws: SockError.permissionDenied) { try socket.setOption(.linger, to: Linger()) }
                #expect(throws: SockError.permissionDenied) { try socket.setOption(.congestion, to: "reno") }
            }
            #expect(calls.value == 6)
            try socket.setOption(.noDelay, to: true)   // the real call again
        }

        @Test("a failing getsockopt throws the mapped SockError; EINTR is retried")
        func getFailures() throws {
            let socket = try TCPSocket.ipv4()
            defer { try? socket.close() }
            let target = socket.descriptor.rawValue
            let interrupts = Counter()
            try withSyscalls({ table in
                table.getsockopt = { fd, level, name, value, length in
                    guard fd == target else { return SyscallTable.system.getsockopt(fd, level, name, value, length) }
                    if name == SockBindings.TCP_NODELAY && interrupts.increment() <= 2 {
                        errno = SockBindings.EINTR
                        return -1
                    }
                    if name == SockBindings.TCP_NODELAY {
                        return SyscallTable.system.getsockopt(fd, level, name, value, length)
                    }
                    errno = SockBindings.ENOPROTOOPT
                    return -1
                }
            }) { () throws in
                #expect(try !socket.option(.noDelay))
                #expect(interrupts.value == 3)
                let expected = SockError(errno: SockBindings.ENOPROTOOPT)
                #expect(throws: expected) { try socket.option(.receiveBufferSize) }
                #expect(throws: expected) { try socket.option(.keepAliveIdle) }
                #expect(throws: expected) { try socket.option(.congestion) }
                var info = TCPInfo()
                #expect(throws: expected) { try socket.option(.info, into: &info) }
                #expect(throws: expected) { try socket.takeError() }
            }
        }
    }
}

// MARK: - No allocation

@Suite("Socket options: no allocation")
struct OptionAllocationTests {
    @Test("get and set of Bool, Int, Duration, struct and string-into-buffer keys: 0 mallocs")
    func noAllocation() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        var info = TCPInfo()
        var linger = Linger()
        let name = TestBytes(count: 16)
        var sink = 0
        let count = try allocations {
            try client.setOption(.noDelay, to: true)
            sink &+= try client.option(.noDelay) ? 1 : 0
            try client.setOption(.receiveBufferSize, to: 65_536)
            sink &+= try client.option(.receiveBufferSize)
            try client.setOption(.keepAliveIdle, to: .seconds(30))
            sink &+= Int(try client.option(.keepAliveIdle).components.seconds)
            try client.setOption(.userTimeout, to: .milliseconds(2_500))
            try client.setOption(.receiveTimeout, to: .milliseconds(1_500))
            sink &+= Int(try client.option(.receiveTimeout).components.seconds)
            sink &+= try client.option(.info, into: &info)
            sink &+= Int(try client.option(.info).tcpi_state)
            try client.setOption(.linger, to: linger)
            sink &+= try client.option(.linger, into: &linger)
            sink &+= try client.option(.congestion, into: name.raw)
            sink &+= try client.descriptor.option(SocketOption<OptionScope.Socket, _, _>.sendBufferSize)
        }
        #expect(count == 0)
        #expect(sink != 0)

        let failing = allocations(throwsPerCall: 1) {
            do throws(SockError) {
                try client.setOption(.receiveBufferSize, to: -1)
            } catch {
                sink &+= Int(error.errnoCode)
            }
        }
        #expect(failing == 0)
    }
}
