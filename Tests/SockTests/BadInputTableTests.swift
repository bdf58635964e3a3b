// The bad-input table of the documentation (Sock.docc/BadInput.md), row by
// row: every public entry point given invalid input — empty, over-long,
// negative, out of range, wrong address family, closed socket, a descriptor
// of the wrong kind — and the exact error it returns (code and errno).
// Nothing traps, nothing is truncated; where a call is refused before any
// system call, the tests also check that nothing happened.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

@Suite("Bad input: the documented table, row by row")
struct BadInputTableTests {
    private static let invalid = SockError(code: .invalidParameter, errnoCode: SockBindings.EINVAL)

    @Test("1–5: addresses from text: empty, malformed, port out of range, unknown zone, over-long Unix path")
    func addressText() {
        #expect(sockError { try SockaddrInet4("") } == Self.invalid, "row 1: empty")
        #expect(sockError { try SockaddrInet4("1.2.3:80") } == Self.invalid, "row 2: malformed")
        #expect(sockError { try SockaddrInet4("127.0.0.1:65536") } == SockError(code: .invalidParameter, errnoCode: SockBindings.ERANGE), "row 3: port out of range")
        #expect(sockError { try SockaddrInet6("[fe80::1%nosuchif0]:80") } == SockError(code: .invalidParameter, errnoCode: SockBindings.ENODEV), "row 4: unknown zone")
        let path = "/tmp/" + String(repeating: "p", count: 104)  // 109 bytes
        #expect(sockError { try SockaddrUnix(path: path) } == SockError(code: .invalidParameter, errnoCode: SockBindings.ENAMETOOLONG), "row 5: 109-byte path")
    }

    @Test("6: an unknown network name")
    func networkName() {
        #expect(sockError { try TCPNetwork("tcp5") } == .unknownNetwork)
    }

    @Test("7: a sockaddr of the wrong family, or shorter than its family needs")
    func decoding() {
        var raw = RawSockaddrInet6()
        raw.sin6_family = sa_family_t(SockBindings.AF_INET6)
        withUnsafeBytes(of: raw) { bytes in
            #expect(sockError { try SockaddrInet4(decoding: bytes, length: socklen_t(bytes.count)) } == .addressFamilyNotSupported)
            #expect(sockError { try SockaddrInet6(decoding: bytes, length: 8) } == Self.invalid)
        }
    }

    @Test("8: dialling a Unix address with a TCP dialer")
    func wrongFamily() throws {
        let unix = AnySocketAddress.unix(try SockaddrUnix(path: "/tmp/sock-bad-input"))
        #expect(sockError { try TCPDialer().dial(to: unix) } == .addressFamilyNotSupported)
    }

    @Test("9–10: read(exactly:) with a negative count, or more than the output can hold; nothing is read")
    func counts() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        try client.write(all: [1, 2])
        #expect(sockError { try server.read(exactly: -1) } == Self.invalid, "row 9")
        var storage = [UInt8](repeating: 0, count: 1)
        storage.withUnsafeMutableBytes { raw in
            var output = OutputRawSpan(buffer: raw, initializedCount: 0)
            #expect(sockError { try server.read(exactly: 2, into: &output) } == Self.invalid, "row 10")
            _ = output.finalize(for: raw)
        }
        server.setReadDeadline(soon())
        #expect(try server.read(exactly: 2) == [1, 2], "the refused calls consumed nothing")
    }

    @Test("11–14: option values the unit cannot express; nothing is written")
    func optionValues() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        let size = try client.option(.receiveBufferSize)
        #expect(sockError { try client.setOption(.receiveBufferSize, to: -1) } == Self.invalid, "row 11: negative size")
        #expect(sockError { try client.setOption(.receiveBufferSize, to: Int(Int32.max) + 1) } == Self.invalid, "row 12: too large")
        #expect(try client.option(.receiveBufferSize) == size)
        #expect(sockError { try client.setOption(.keepAliveIdle, to: .seconds(-1)) } == Self.invalid, "row 13: negative duration")
        #expect(sockError { try client.setOption(.congestion, to: "cu\0bic") } == Self.invalid, "row 14: NUL in a string")
    }

    @Test("15: a TCP option on a Unix socket (refused at compile time through UnixConn; through a raw Descriptor the kernel's EOPNOTSUPP)")
    func tcpOptionOnUnix() throws {
        let (a, b) = try streamPair()
        defer { try? a.close(); try? b.close() }
        #expect(sockError { try a.setOption(SocketOption<OptionScope.TCP, _, _>.noDelay, to: true) } == SockError(errno: SockBindings.EOPNOTSUPP))
    }

    @Test("16–17: a UDP batch count outside the batch; more than 253 descriptors in one message")
    func batchesAndRights() throws {
        let conn = try UDPConn<SockaddrInet4>.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? conn.close() }
        var batch = try UDPMessageBatch<SockaddrInet4>(capacity: 2)
        #expect(sockError { try conn.sendMessages(&batch, count: 3) } == Self.invalid, "row 16")
        #expect(sockError { try conn.sendMessages(&batch, count: -1) } == Self.invalid, "row 16")
        let (a, b) = try streamPair()
        defer { try? a.close(); try? b.close() }
        let fds = [CInt](repeating: a.rawValue, count: 254)
        let data: [UInt8] = [1]
        #expect(sockError { try data.withUnsafeBytes { raw throws(SockError) in try a.sendDescriptors(fds, data: raw) } } == Self.invalid, "row 17")
    }

    @Test("18: a control-message buffer too small for what is appended")
    func controlBuffer() {
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { raw.deallocate() }
        var builder = ControlMessageBuilder(buffer: raw)
        #expect(sockError { try builder.append(tos: 4) } == SockError(code: .messageTooLarge, errnoCode: SockBindings.EMSGSIZE))
    }

    @Test("19: every operation on a closed socket")
    func closed() throws {
        let (client, server) = try tcpPair4()
        try client.close()
        defer { try? server.close() }
        #expect(sockError { try client.write([1]) } == .closed)
        #expect(sockError { try client.read(exactly: 1) } == .closed)
        #expect(sockError { try client.option(.noDelay) } == .closed)
        #expect(sockError { try client.shutdown() } == .closed)
        #expect(sockError { try client.close() } == nil, "closing again is not an error")
    }

    @Test("20: a descriptor that is not a socket")
    func notASocket() throws {
        var fds: [CInt] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let descriptor = Descriptor(adopting: fds[0])
        defer { try? descriptor.close(); _ = Glibc.close(fds[1]) }
        #expect(sockError { try descriptor.option(SocketOption<OptionScope.Socket, _, _>.receiveBufferSize) } == SockError(errno: SockBindings.ENOTSOCK))
        let one: [UInt8] = [1]
        #expect(sockError { try descriptor.write(all: one.span.bytes) } == SockError(errno: SockBindings.ENOTSOCK))
    }

    @Test("21: a deadline that has already passed: one attempt, then timedOut")
    func passedDeadline() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        server.setReadDeadline(.after(.zero))
        #expect(sockError { try server.read(exactly: 1) } == .timedOut)
    }
}
