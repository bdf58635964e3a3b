// TCP over loopback IPv4 and IPv6: TCPSocket, TCPConn, TCPListener,
// TCPDialer. Every error case is produced for real by the kernel.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

@Suite("TCP: connections, listeners and dialers over loopback")
struct TCPTests {
    // MARK: Round trips

    @Test("echo round trip over loopback", arguments: [false, true])
    func echo(ipv6: Bool) throws {
        let listener = ipv6 ? try listener6() : try listener4()
        defer { try? listener.close() }
        #expect(listener.address.port != 0, "port 0 resolves to the real port")
        #expect(listener.networkType == (ipv6 ? .ipv6 : .ipv4))
        #expect(listener.underlyingProtocol == .stream)

        let client = try TCPDialer(timeout: .seconds(5)).dial(to: listener.address)
        listener.setDeadline(soon())
        guard case .completed(let server) = try listener.accept() else {
            Issue.record("accept would block with a deadline")
            return
        }
        defer {
            try? client.close()
            try? server.close()
        }
        client.setDeadline(soon())
        server.setDeadline(soon())

        let message = TestBytes("hello over tcp")
        try writeAll(message.bytes) { bytes throws(SockError) in try client.write(bytes) }
        let received = TestBytes(count: 64)
        let count = try readExactly(message.count, into: received) { buffer throws(SockError) in try server.read(into: buffer) }
        #expect(count == message.count)
        #expect(received.string(count) == "hello over tcp")

        try writeAll(UnsafeRawBufferPointer(received.prefix(count))) { bytes throws(SockError) in try server.write(bytes) }
        let echoed = TestBytes(count: 64)
        let echoedCount = try readExactly(count, into: echoed) { buffer throws(SockError) in try client.read(into: buffer) }
        #expect(echoed.string(echoedCount) == "hello over tcp")

        #expect(try client.localAddress == server.remoteAddress)
        #expect(client.remoteAddress == listener.address)
        #expect(try server.localAddress == listener.address)
        #expect(client.networkType == (ipv6 ? .ipv6 : .ipv4))
        #expect(server.networkType == client.networkType)
    }

    @Test("dial [::1] without a timeout and complete it with finishConnect")
    func dialIPv6NonBlocking() throws {
        let listener = try listener6()
        defer { try? listener.close() }
        let remote = try SockaddrInet6("[::1]:\(listener.address.port!)")
        let client = try TCPConn.dial(to: remote)
        defer { try? client.close() }
        let deadline = soon()
        var finished = try client.finishConnect()
        while finished.isWouldBlock && !deadline.hasPassed {
            sleep(nanoseconds: 100_000)
            finished = try client.finishConnect()
        }
        #expect(!finished.isWouldBlock)
        guard case .inet6(let local) = try client.localAddress else {
            Issue.record("not an IPv6 local address")
            return
        }
        #expect(local.address == .loopback)
        listener.setDeadline(soon())
        let accepted = try listener.accept()
        #expect(!accepted.isWouldBlock)
        try accepted.value?.close()
    }

    @Test("a non-blocking dial's conn waits for the handshake through its write deadline")
    func writeDuringHandshake() throws {
        let listener = try listener4()
        defer { try? listener.close() }
        guard case .inet4(let remote) = listener.address else { return }
        let client = try TCPConn.dial(to: remote, from: SockaddrInet4(address: .loopback, port: 0))
        defer { try? client.close() }
        client.setDeadline(soon())
        let message = TestBytes("early")
        try writeAll(message.bytes) { bytes throws(SockError) in try client.write(bytes) }
        listener.setDeadline(soon())
        guard case .completed(let server) = try listener.accept() else { return }
        defer { try? server.close() }
        server.setDeadline(soon())
        let received = TestBytes(count: 16)
        #expect(try readExactly(message.count, into: received) { buffer throws(SockError) in try server.read(into: buffer) } == 5)
        #expect(received.string(5) == "early")
    }

    @Test("a TCPSocket can be configured and bound before it connects or listens")
    func socketBuilder() throws {
        let socket = try TCPSocket.ipv4()
        #expect(socket.underlyingProtocol == .stream)
        #expect(socket.networkType == .ipv4)
        try socket.setOption(.noDelay, to: true)
        try socket.bind(to: SockaddrInet4(address: .loopback, port: 0))
        let listener = try socket.listen(backlog: 8)
        defer { try? listener.close() }
        #expect(listener.descriptor === socket.descriptor)
        #expect(try listener.option(.noDelay))

        let client = try TCPSocket.ipv6()
        #expect(client.networkType == .ipv6)
        #expect(sockError { try client.connect(to: listener.address, timeout: .seconds(1)) } != nil,
                "an IPv6 socket cannot connect to an IPv4 address")
        #expect(client.isClosed, "a failed connect closes the socket")

        let second = try TCPSocket.ipv4()
        let conn = try second.connect(to: listener.address, timeout: .seconds(5))
        defer { try? conn.close() }
        #expect(conn.descriptor === second.descriptor)
        #expect(conn.remoteAddress == listener.address)
    }

    // MARK: End of stream, would-block, empty buffers

    @Test("end of stream after the peer closes, distinct from would-block and from an empty buffer")
    func endOfStream() throws {
        let (client, server) = try tcpPair4()
        defer { try? server.close() }
        let buffer = TestBytes(count: 16)
        let empty = UnsafeMutableRawBufferPointer(rebasing: buffer.raw[0..<0])

        #expect(try server.read(into: buffer.raw) == .wouldBlock)
        #expect(try server.read(into: buffer.raw).count == 0)
        #expect(try server.read(into: empty) == .bytes(0), "an empty buffer is never end of stream")

        try client.close()
        server.setReadDeadline(soon())
        #expect(try server.read(into: buffer.raw) == .endOfStream)
        #expect(try server.read(into: buffer.raw) == .endOfStream, "end of stream is sticky")
        #expect(try server.read(into: empty) == .bytes(0))
    }

    @Test("shutdown(.write) gives the peer end of stream; the other direction still works")
    func halfClose() throws {
        let (client, server) = try tcpPair4()
        defer {
            try? client.close()
            try? server.close()
        }
        client.setDeadline(soon())
        server.setDeadline(soon())
        try client.shutdown(.write)
        let buffer = TestBytes(count: 16)
        #expect(try server.read(into: buffer.raw) == .endOfStream)
        let reply = TestBytes("still open")
        try writeAll(reply.bytes) { bytes throws(SockError) in try server.write(bytes) }
        #expect(try readExactly(reply.count, into: buffer) { b throws(SockError) in try client.read(into: b) } == reply.count)
        #expect(sockError { try client.write(reply.bytes) } == SockError(code: .connectionReset, errnoCode: SockBindings.EPIPE), "EPIPE after shutting down writes")
    }

    // MARK: Errors, for real

    @Test("connection refused: with a dial timeout, and surfacing from a non-blocking dial's read")
    func refused() throws {
        let (holder, address) = try refusingPort4()
        defer { try? holder.close() }

        #expect(sockError { try TCPDialer(timeout: .seconds(5)).dial(to: address) } == .connectionRefused)

        let conn = try TCPConn.dial(to: address)  // returns while in progress
        defer { try? conn.close() }
        conn.setReadDeadline(soon())
        let buffer = TestBytes(count: 8)
        let error = sockError { try conn.read(into: buffer.raw) }
        #expect(error == .connectionRefused)
        #expect(error?.errnoCode == SockBindings.ECONNREFUSED)

        let other = try TCPConn.dial(to: address)
        defer { try? other.close() }
        var outcome: SockError?
        let deadline = soon()
        while outcome == nil && !deadline.hasPassed {
            do throws(SockError) {
                if case .completed = try other.finishConnect() { break }
            } catch {
                outcome = error
            }
            sleep(nanoseconds: 100_000)
        }
        #expect(outcome == .connectionRefused, "finishConnect reports the refusal")
    }

    @Test("connection reset: a peer closing with SO_LINGER 0 resets; writing to it throws and raises no SIGPIPE")
    func reset() throws {
        #expect(sigpipeIsDefault(), "SIGPIPE would kill this process if Sock did not pass MSG_NOSIGNAL")
        let (client, server) = try tcpPair4()
        defer { try? client.close() }
        try server.setLinger(.zero)
        #expect(try server.lingerTimeout == .zero)
        try server.close()

        client.setDeadline(soon())
        let buffer = TestBytes(count: 8)
        let readError = sockError { try client.read(into: buffer.raw) }
        #expect(readError == .connectionReset)
        #expect(readError?.errnoCode == SockBindings.ECONNRESET)
        let message = TestBytes("anyone there?")
        let writeError = sockError { try client.write(message.bytes) }
        #expect(writeError?.code == .connectionReset, "EPIPE after a reset; the process is still alive")
    }

    @Test("writing to a peer that closed normally ends in connectionReset, without SIGPIPE")
    func writeToClosedPeer() throws {
        #expect(sigpipeIsDefault())
        let (client, server) = try tcpPair4()
        defer { try? client.close() }
        try server.close()
        let message = TestBytes(count: 1024, fill: 1)
        var failure: SockError?
        let deadline = soon()
        while failure == nil && !deadline.hasPassed {
            do throws(SockError) {
                _ = try client.write(message.bytes)
            } catch {
                failure = error
            }
            sleep(nanoseconds: 1_000_000)
        }
        #expect(failure?.code == .connectionReset)
    }

    @Test("not connected: reading from or shutting down an unconnected TCP socket")
    func notConnected() throws {
        let socket = try TCPSocket.ipv4()
        defer { try? socket.close() }
        #expect(sockError { try socket.shutdown() } == .notConnected)
        let raw = try NetSocket.tcp(ipv6: false)
        defer { try? raw.close() }
        let buffer = TestBytes(count: 8)
        #expect(sockError { try raw.read(into: buffer.raw) } == .notConnected)
        // Linux answers a send on an unconnected TCP socket with EPIPE, which
        // the reference's table maps to "reset" (not ENOTCONN).
        #expect(sockError { try raw.write(buffer.bytes) }?.code == .connectionReset)
    }

    @Test("address in use: a port held without SO_REUSEPORT, and two listeners without reuse")
    func addressInUse() throws {
        let holder = try NetSocket.tcp(ipv6: false)  // no SO_REUSEPORT
        defer { try? holder.close() }
        try holder.bind(to: SockaddrInet4(address: .loopback, port: 0))
        try holder.listen()
        let held = try holder.localAddress
        let error = sockError { try TCPListener.listen(on: held) }
        #expect(error == .addressInUse)
        #expect(error?.errnoCode == SockBindings.EADDRINUSE)

        let first = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0), reusePort: false)
        defer { try? first.close() }
        #expect(sockError { try TCPListener.listen(on: first.address, reusePort: false) } == .addressInUse)

        // With SO_REUSEPORT on both (the reference's default) the second one
        // shares the port.
        let shared = try listener4()
        defer { try? shared.close() }
        let sharing = try TCPListener.listen(on: shared.address)
        #expect(sharing.address == shared.address)
        try sharing.close()
    }

    @Test("timed out: a read with a 20 ms deadline, then a write into a full buffer")
    func timedOut() throws {
        let (client, server) = try tcpPair4()
        defer {
            try? client.close()
            try? server.close()
        }
        let buffer = TestBytes(count: 64 * 1024, fill: 7)
        let start = now()  // before the deadline is set: elapsed >= 20 ms is then exact
        server.setReadDeadline(.after(.milliseconds(20)))
        let error = sockError { try server.read(into: buffer.raw) }
        let elapsed = now() - start
        #expect(error == .timedOut)
        #expect(error?.errnoCode == SockBindings.ETIMEDOUT)
        #expect(elapsed >= 20_000_000)
        #expect(elapsed < 20_000_000 + lateBound)

        server.setReadDeadline(.none)
        #expect(try server.read(into: buffer.raw) == .wouldBlock, "clearing the deadline restores non-blocking reads")

        try client.setOption(.sendBufferSize, to: 4096)
        try server.setOption(.receiveBufferSize, to: 4096)
        // Fill until the buffers stay full: on loopback, segments still in
        // flight when write first reports would-block are then delivered and
        // acknowledged, freeing send space (on a slow CPU within the 20 ms
        // below). Full means a write still would block after a pause.
        var filled = false
        for _ in 0..<100 where !filled {
            var wrote = 0
            for _ in 0..<10_000 {
                guard case .completed(let count) = try client.write(buffer.bytes) else { break }
                wrote += count
            }
            sleep(nanoseconds: 50_000_000)
            if wrote == 0 { filled = try client.write(buffer.bytes).isWouldBlock }
        }
        #expect(filled)
        client.setWriteDeadline(.after(.milliseconds(20)))
        #expect(sockError { try client.write(buffer.bytes) } == .timedOut)
    }

    // MARK: Listener deadlines

    @Test("accept is non-blocking by default, times out after SetDeadline, and waits for a late client")
    func listenerDeadline() throws {
        let listener = try listener4()
        defer { try? listener.close() }
        #expect(try listener.accept().isWouldBlock)
        #expect(try listener.acceptSocket().isWouldBlock)

        let start = now()
        listener.setDeadline(.after(.milliseconds(20)))
        #expect(sockError { try listener.accept() } == .timedOut)
        #expect(now() - start >= 20_000_000)

        listener.setDeadline(.none)
        #expect(try listener.accept().isWouldBlock)

        let address = listener.address
        let late = TestThread {
            sleep(nanoseconds: 30_000_000)
            if let conn = try? TCPDialer(timeout: .seconds(5)).dial(to: address) {
                sleep(nanoseconds: 200_000_000)
                try? conn.close()
            }
        }
        defer { late.join() }
        listener.setDeadline(soon())
        let accepted = try listener.accept()
        #expect(!accepted.isWouldBlock)
        try accepted.value?.close()
    }

    @Test("acceptSocket returns a NetSocket of the listener's family")
    func acceptSocket() throws {
        let listener = try listener6()
        defer { try? listener.close() }
        let client = try TCPConn.dial(to: listener.address)
        defer { try? client.close() }
        listener.setDeadline(soon())
        guard case .completed(let socket) = try listener.acceptSocket() else {
            Issue.record("acceptSocket would block")
            return
        }
        defer { try? socket.close() }
        #expect(socket.networkType == .ipv6)
        #expect(socket.underlyingProtocol == .stream)
        try expectNonBlockingCloseOnExec(socket.descriptor, "acceptSocket")
    }

    // MARK: Dialer

    @Test("a dial timeout expires when the listener's queue is full (SYNs are dropped)")
    func dialTimeout() throws {
        let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0), backlog: 0)
        defer { try? listener.close() }
        // Backlog 0 queues one connection; later SYNs are dropped.
        let queued = try TCPDialer(timeout: .seconds(5)).dial(to: listener.address)
        defer { try? queued.close() }

        var dialer = TCPDialer()
        #expect(dialer.timeout == nil)
        dialer.setDialTimeout(.milliseconds(100))
        #expect(dialer.timeout == .milliseconds(100))
        let start = now()
        #expect(sockError { try dialer.dial(to: listener.address) } == .timedOut)
        let elapsed = now() - start
        #expect(elapsed >= 100_000_000)
        #expect(elapsed < 2_000_000_000)

        dialer.setDialTimeout(.zero)  // zero: non-blocking, as Go
        let pending = try dialer.dial(to: listener.address)
        #expect(try pending.finishConnect().isWouldBlock, "still in progress: its SYN was dropped")
        try pending.close()
    }

    @Test("dial rejects mismatched or non-IP addresses; listen rejects Unix addresses")
    func dialFamilies() throws {
        let unix = AnySocketAddress.unix(try SockaddrUnix(path: "@nowhere"))
        #expect(sockError { try TCPConn.dial(to: unix) } == .addressFamilyNotSupported)
        let v4 = AnySocketAddress.inet4(SockaddrInet4(address: .loopback, port: 9))
        let v6 = AnySocketAddress.inet6(SockaddrInet6(address: .loopback, port: 0))
        #expect(sockError { try TCPConn.dial(to: v4, from: v6) } == .addressFamilyNotSupported)
        #expect(sockError { try TCPListener.listen(on: unix) } == .addressFamilyNotSupported)
        #expect(sockError { try TCPListener.listen(on: v4, backlog: -1) } == .invalidParameter)
    }

    @Test("dialling from a chosen local address")
    func dialFromLocal() throws {
        let listener = try listener4()
        defer { try? listener.close() }
        guard case .inet4(let remote) = listener.address else { return }
        let conn = try TCPDialer(timeout: .seconds(5)).dial(to: remote, from: SockaddrInet4(address: .loopback, port: 0))
        defer { try? conn.close() }
        guard case .inet4(let local) = try conn.localAddress else {
            Issue.record("not IPv4")
            return
        }
        #expect(local.address == .loopback)
        #expect(local.port != 0)
    }

    // MARK: Options

    @Test("typed TCP and socket options round-trip through the conn's methods")
    func options() throws {
        let (client, server) = try tcpPair4()
        defer {
            try? client.close()
            try? server.close()
        }
        #expect(try client.option(.reuseAddress), "TCP default: SO_REUSEADDR")
        #expect(try client.option(.reusePort), "TCP default: SO_REUSEPORT")
        #expect(try client.option(.zeroCopy), "TCP default: SO_ZEROCOPY (best effort; this kernel allows it)")

        try client.setOption(.noDelay, to: true)
        #expect(try client.option(.noDelay))
        try client.setOption(.noDelay, to: false)
        #expect(try !client.option(.noDelay))
        try client.setOption(.cork, to: true)
        #expect(try client.option(.cork))
        try client.setOption(.cork, to: false)
        #expect(try !client.option(.cork))
        try client.setOption(.quickAck, to: true)
        _ = try client.option(.quickAck)

        try client.setOption(.keepAlive, to: true)
        #expect(try client.option(.keepAlive))
        try client.setKeepAlivePeriod(.seconds(7))
        #expect(try client.option(.keepAliveIdle) == .seconds(7))
        #expect(try client.option(.keepAliveInterval) == .seconds(7))
        try client.setKeepAlivePeriod(.milliseconds(300))
        #expect(try client.option(.keepAliveIdle) == .seconds(1), "at least one second, as the reference")
        try client.setOption(.keepAliveIdle, to: .seconds(30))
        try client.setOption(.keepAliveInterval, to: .seconds(5))
        #expect(try client.option(.keepAliveIdle) == .seconds(30))
        #expect(try client.option(.keepAliveInterval) == .seconds(5))
        try client.setOption(.keepAliveCount, to: 4)
        #expect(try client.option(.keepAliveCount) == 4)
        #expect(sockError { try client.setKeepAlivePeriod(.seconds(-1)) } == .invalidParameter)
        #expect(sockError { try client.setOption(.keepAliveCount, to: 0) } == .invalidParameter, "the kernel rejects 0")

        try client.setOption(.userTimeout, to: .milliseconds(1500))
        #expect(try client.option(.userTimeout) == .milliseconds(1500))
        try client.setOption(.notSentLowWatermark, to: 16384)
        #expect(try client.option(.notSentLowWatermark) == 16384)
        #expect(try client.option(.maximumSegmentSize) > 0)
        try client.setOption(.windowClamp, to: 65536)
        #expect(try client.option(.windowClamp) >= 65536 / 2)

        #expect(try !client.option(.congestion).isEmpty)
        try client.setOption(.congestion, to: "reno")
        #expect(try client.option(.congestion) == "reno")
        let unknown = sockError { try client.setOption(.congestion, to: "no-such-algorithm") }
        #expect(unknown?.errnoCode == SockBindings.ENOENT)

        try client.setLinger(.seconds(3))
        #expect(try client.lingerTimeout == .seconds(3))
        try client.setLinger(nil)
        #expect(try client.lingerTimeout == nil)

        try client.setOption(.receiveBufferSize, to: 65536)
        #expect(try client.option(.receiveBufferSize) == 131072, "the kernel doubles SO_RCVBUF")
        try client.setOption(.sendBufferSize, to: 65536)
        #expect(try client.option(.sendBufferSize) == 131072)
        #expect(sockError { try client.setOption(.receiveBufferSize, to: -1) } == .invalidParameter)

        var info = TCPInfo()
        let filled = try client.option(.info, into: &info)
        #expect(filled > 0)
        #expect(CInt(info.tcpi_state) == SockBindings.TCP_ESTABLISHED)
        #expect(try client.takeError() == nil)

        let listener = try listener4()
        defer { try? listener.close() }
        try listener.setOption(.deferAccept, to: .seconds(1))
        #expect(try listener.option(.deferAccept) >= .seconds(1))
        try listener.setOption(.fastOpen, to: 5)
        #expect(try listener.option(.fastOpen) == 5)
    }

    @Test("options on a closed conn throw closed")
    func optionsAfterClose() throws {
        let (client, server) = try tcpPair4()
        try server.close()
        try client.close()
        #expect(sockError { try client.setOption(.noDelay, to: true) } == .closed)
        #expect(sockError { try client.option(.noDelay) } == .closed)
        let buffer = TestBytes(count: 4)
        #expect(sockError { try client.read(into: buffer.raw) } == .closed)
        #expect(client.isClosed)
    }

    // MARK: Descriptors

    @Test("every descriptor created, dialled or accepted is non-blocking and close-on-exec")
    func descriptorFlags() throws {
        let v4 = try TCPSocket.ipv4()
        let v6 = try TCPSocket.ipv6()
        try expectNonBlockingCloseOnExec(v4.descriptor, "TCPSocket.ipv4")
        try expectNonBlockingCloseOnExec(v6.descriptor, "TCPSocket.ipv6")
        try v4.close()
        try v6.close()

        for listener in [try listener4(), try listener6()] {
            defer { try? listener.close() }
            try expectNonBlockingCloseOnExec(listener.descriptor, "listener")
            let client = try TCPConn.dial(to: listener.address)
            defer { try? client.close() }
            try expectNonBlockingCloseOnExec(client.descriptor, "dialled conn")
            listener.setDeadline(soon())
            guard case .completed(let server) = try listener.accept() else {
                Issue.record("accept would block")
                continue
            }
            try expectNonBlockingCloseOnExec(server.descriptor, "accepted conn")
            try server.close()
        }
    }

    @Test("no descriptor leak over 1,000 listen/dial/accept/close cycles")
    func noLeak() throws {
        let before = openDescriptorCount()
        for _ in 0..<1_000 {
            let listener = try listener4()
            let client = try TCPConn.dial(to: listener.address)
            listener.setDeadline(soon())
            let accepted = try listener.accept()
            try accepted.value?.close()
            try client.close()
            try listener.close()
        }
        // Other suites run in parallel and may hold a few descriptors.
        let after = settledDescriptorCount(atMost: before + 16)
        #expect(after <= before + 16, "before \(before), after \(after)")
    }
}
