// Zero allocation on the connection hot paths: TCPConn and UnixConn reads and
// writes in steady state, would-block, deadline reads with data ready, option
// get/set through the conn methods, and a listener's would-block accept.
// Counted with the malloc interposer of SockTestSupport (this thread only).
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

@Suite("Connections: no allocation on hot paths")
struct ConnAllocationTests {
    @Test("TCPConn: write + read, would-block, deadline read with data ready", .countingAllocations)
    func tcpIO() throws {
        let (client, server) = try tcpPair4()
        defer {
            try? client.close()
            try? server.close()
        }
        let buffer = TestBytes(count: 256, fill: 3)
        let message = UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<64])
        let input = TestBytes(count: 256)

        let roundTrip = try allocations {
            _ = try client.write(message)
            // Loopback delivers before send returns; read until all 64 arrive.
            var got = 0
            while got < 64 {
                got += try server.read(into: UnsafeMutableRawBufferPointer(rebasing: input.raw[got..<64])).count
            }
        }
        #expect(roundTrip == 0)

        let wouldBlock = try allocations {
            let result = try server.read(into: input.raw)
            precondition(result == .wouldBlock)
        }
        #expect(wouldBlock == 0)

        server.setReadDeadline(.after(.seconds(30)))
        client.setWriteDeadline(.after(.seconds(30)))
        let withDeadline = try allocations {
            _ = try client.write(message)
            var got = 0
            while got < 64 {
                got += try server.read(into: UnsafeMutableRawBufferPointer(rebasing: input.raw[got..<64])).count
            }
        }
        #expect(withDeadline == 0)

        let emptyBuffer = try allocations {
            let result = try server.read(into: input.prefix(0))
            precondition(result == .bytes(0))
        }
        #expect(emptyBuffer == 0)
    }

    @Test("TCPConn: option get/set through the conn's methods", .countingAllocations)
    func tcpOptions() throws {
        let (client, server) = try tcpPair4()
        defer {
            try? client.close()
            try? server.close()
        }
        var info = TCPInfo()
        let name = TestBytes(count: 16)
        var sink = 0
        let count = try allocations {
            try client.setOption(.noDelay, to: true)
            sink &+= try client.option(.noDelay) ? 1 : 0
            try client.setOption(.cork, to: false)
            sink &+= try client.option(.cork) ? 1 : 0
            try client.setOption(.quickAck, to: true)
            try client.setOption(.keepAlive, to: true)
            try client.setKeepAlivePeriod(.seconds(10))
            sink &+= Int(try client.option(.keepAliveIdle).components.seconds)
            try client.setOption(.keepAliveCount, to: 5)
            sink &+= try client.option(.keepAliveCount)
            try client.setOption(.userTimeout, to: .milliseconds(500))
            sink &+= Int(try client.option(.userTimeout).components.seconds)
            try client.setOption(.notSentLowWatermark, to: 4096)
            sink &+= try client.option(.notSentLowWatermark)
            sink &+= try client.option(.maximumSegmentSize)
            try client.setLinger(.seconds(1))
            sink &+= try client.lingerTimeout == nil ? 0 : 1
            try client.setOption(.receiveBufferSize, to: 65536)
            sink &+= try client.option(.receiveBufferSize)
            sink &+= try client.option(.sendBufferSize)
            sink &+= try client.option(.zeroCopy) ? 1 : 0
            sink &+= try client.option(.reuseAddress) ? 1 : 0
            sink &+= try client.option(.info, into: &info)
            sink &+= try client.takeError() == nil ? 1 : 0
            sink &+= try client.localAddress.port.map(Int.init) ?? 0
        }
        #expect(count == 0)
        #expect(sink != 0)

        let congestion = try allocations {
            sink &+= try client.option(.congestion, into: name.raw)
        }
        #expect(congestion == 0)
    }

    @Test("UnixConn: stream, datagram and seqpacket write + read, would-block, options", .countingAllocations)
    func unixIO() throws {
        let buffer = TestBytes(count: 256, fill: 5)
        let message = UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<64])
        let input = TestBytes(count: 256)
        for network in UnixNetwork.allCases {
            let (a, b) = try UnixConn.pair(network)
            defer {
                try? a.close()
                try? b.close()
            }
            let roundTrip = try allocations {
                _ = try a.write(message)
                _ = try b.read(into: input.raw)
            }
            #expect(roundTrip == 0, "\(network)")

            let wouldBlock = try allocations {
                let result = try b.read(into: input.raw)
                precondition(result == .wouldBlock)
            }
            #expect(wouldBlock == 0, "\(network)")

            b.setReadDeadline(.after(.seconds(30)))
            let withDeadline = try allocations {
                _ = try a.write(message)
                _ = try b.read(into: input.raw)
            }
            #expect(withDeadline == 0, "\(network)")
            b.setReadDeadline(.none)

            var sink = 0
            let options = try allocations {
                try a.setOption(.sendBufferSize, to: 32768)
                sink &+= try a.option(.sendBufferSize)
                sink &+= try a.option(.receiveBufferSize)
            }
            #expect(options == 0, "\(network)")
            #expect(sink != 0)
        }
    }

    @Test("UnixConn: datagram readFrom and writeTo with an address", .countingAllocations)
    func unixDatagramAddresses() throws {
        let server = try UnixConn.listenDatagram(on: SockaddrUnix())
        let client = try UnixConn.listenDatagram(on: SockaddrUnix())
        defer {
            try? server.close()
            try? client.close()
        }
        let serverName = try server.localAddress
        let buffer = TestBytes(count: 64, fill: 1)
        let input = TestBytes(count: 64)
        var sink = 0
        let count = try allocations {
            _ = try client.writeTo(buffer.bytes, address: serverName)
            if case .completed(let (received, sender)) = try server.readFrom(into: input.raw) {
                sink &+= received + Int(sender.length)
            }
        }
        #expect(count == 0)
        #expect(sink != 0)
    }

    @Test("listener accept would-block and NetSocket reads allocate nothing", .countingAllocations)
    func listenerAndNetSocket() throws {
        let tcp = try listener4()
        let unix = try UnixListener.listen(on: SockaddrUnix())
        defer {
            try? tcp.close()
            try? unix.close()
        }
        let accepts = try allocations {
            let first = try tcp.accept().isWouldBlock
            let second = try tcp.acceptSocket().isWouldBlock
            let third = try unix.accept().isWouldBlock
            precondition(first && second && third)
        }
        #expect(accepts == 0)

        let (a, b) = try NetSocket.pair()
        defer {
            try? a.close()
            try? b.close()
        }
        let buffer = TestBytes(count: 32, fill: 9)
        let io = try allocations {
            _ = try a.write(buffer.bytes)
            _ = try b.read(into: buffer.raw)
            let result = try b.read(into: buffer.raw)
            precondition(result == .wouldBlock)
        }
        #expect(io == 0)
    }

    @Test("timed-out reads and accepts throw without allocating", .countingAllocations)
    func timeouts() throws {
        let (a, b) = try UnixConn.pair()
        let listener = try listener4()
        defer {
            try? a.close()
            try? b.close()
            try? listener.close()
        }
        let input = TestBytes(count: 8)
        b.setReadDeadline(.after(.zero))
        listener.setDeadline(.after(.zero))
        let count = allocations(throwsPerCall: 2) {
            do throws(SockError) {
                _ = try b.read(into: input.raw)
            } catch {
                precondition(error == .timedOut)
            }
            do throws(SockError) {
                _ = try listener.accept()
            } catch {
                precondition(error == .timedOut)
            }
        }
        #expect(count == 0)
    }
}
