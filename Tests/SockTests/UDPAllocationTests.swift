// UDP hot paths allocate nothing in steady state: counted with the
// interposed malloc of SockTestSupport, not inferred from the code.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

@Suite("UDP: no allocation on hot paths")
struct UDPAllocationTests {
    /// A 2 KiB buffer holding a 32-byte message, deallocated by `body`'s end.
    private func withBuffers(
        _ body: (UnsafeMutableRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5A)
        try body(buffer, UnsafeRawBufferPointer(rebasing: buffer[0..<32]))
    }

    @Test("control: the counter sees allocations on this thread", .countingAllocations)
    func counterWorks() {
        #expect(allocations { _ = [UInt8](repeating: 0, count: Int.random(in: 64...128)) } >= 100)
    }

    @Test("writeTo + readFrom and readDatagram with an address allocate nothing", .countingAllocations, arguments: UDPTestFamily.allCases)
    func unconnected(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try unconnected(SockaddrInet4.self)
        case .ipv6: try unconnected(SockaddrInet6.self)
        }
    }

    private func unconnected<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        let client = try udpListen(A.self)
        defer { try? server.close(); try? client.close() }
        let target = server.localAddress
        let expected = client.localAddress
        try withBuffers { buffer, message in
            let readFrom = try allocations {
                _ = try client.writeTo(message, address: target)
                let result = try server.readFrom(into: buffer)
                precondition(result.value?.count == 32 && result.value?.from == expected)
            }
            #expect(readFrom == 0)

            let datagram = try allocations {
                _ = try client.writeTo(message, address: target)
                let result = try server.readDatagram(into: buffer)
                precondition(result.value?.length == 32 && result.value?.from == expected)
            }
            #expect(datagram == 0)

            // With deadlines set (data ready: the first strike completes).
            server.setReadDeadline(.after(.seconds(30)))
            client.setWriteDeadline(.after(.seconds(30)))
            let withDeadline = try allocations {
                _ = try client.writeTo(message, address: target)
                let result = try server.readFrom(into: buffer)
                precondition(result.value?.count == 32)
            }
            #expect(withDeadline == 0)
        }
    }

    @Test("connected write + read allocate nothing", .countingAllocations, arguments: UDPTestFamily.allCases)
    func connected(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try connected(SockaddrInet4.self)
        case .ipv6: try connected(SockaddrInet6.self)
        }
    }

    private func connected<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        let client = try UDPConn.dial(to: server.localAddress)
        // Two sockets connected to each other: `back` takes over the server's
        // address (SO_REUSEPORT is on) and, being connected, receives what
        // `client` sends there.
        let back = try UDPConn.dial(to: client.localAddress, from: server.localAddress)
        try server.close()
        defer { try? client.close(); try? back.close() }
        try withBuffers { buffer, message in
            let roundTrip = try allocations {
                _ = try client.write(message)
                let first = try back.read(into: buffer)
                _ = try back.write(message)
                let second = try client.read(into: buffer)
                precondition(first == .completed(32) && second == .completed(32))
            }
            #expect(roundTrip == 0)
        }
    }

    @Test("would-block reads allocate nothing", .countingAllocations, arguments: UDPTestFamily.allCases)
    func wouldBlock(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try wouldBlock(SockaddrInet4.self)
        case .ipv6: try wouldBlock(SockaddrInet6.self)
        }
    }

    private func wouldBlock<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        defer { try? server.close() }
        try withBuffers { buffer, _ in
            let count = try allocations {
                let read = try server.read(into: buffer)
                let readFrom = try server.readFrom(into: buffer)
                let datagram = try server.readDatagram(into: buffer)
                precondition(read.isWouldBlock && readFrom.isWouldBlock && datagram.isWouldBlock)
            }
            #expect(count == 0)
        }
    }

    @Test("option get/set allocate nothing", .countingAllocations)
    func options() throws {
        let v4 = try udpListen(SockaddrInet4.self)
        let v6 = try udpListen(SockaddrInet6.self)
        defer { try? v4.close(); try? v6.close() }
        let count = try allocations {
            try v4.setOption(.broadcast, to: true)
            let broadcast = try v4.option(.broadcast)
            precondition(broadcast)
            try v4.setOption(.receiveBufferSize, to: 65_536)
            _ = try v4.option(.receiveBufferSize)
            _ = try v4.option(.sendBufferSize)
            _ = try v4.option(.reuseAddress)
            _ = try v4.option(.reusePort)
            try v4.setOption(.typeOfService, to: 0x10)
            _ = try v4.option(.typeOfService)
            try v4.setOption(.timeToLive, to: 64)
            _ = try v4.option(.timeToLive)
            try v6.setOption(.trafficClass, to: 0x10)
            _ = try v6.option(.trafficClass)
            try v6.setOption(.unicastHopLimit, to: 64)
            _ = try v6.option(.unicastHopLimit)
            _ = try v6.option(.ipv6Only)
            _ = try v6.takeError()
            v4.setDeadline(.none)
            _ = v4.deadlines.readDeadline
        }
        #expect(count == 0)
    }

    @Test("errors thrown on UDP hot paths (closed, timed out, message too large) allocate nothing", .countingAllocations)
    func typedErrors() throws {
        let closed = try udpListen(SockaddrInet4.self)
        try closed.close()
        let server = try udpListen(SockaddrInet6.self)
        defer { try? server.close() }
        let huge = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
        defer { huge.deallocate() }
        huge.initializeMemory(as: UInt8.self, repeating: 0)
        let target = server.localAddress

        let afterClose = allocations(throwsPerCall: 1) {
            do throws(SockError) { _ = try closed.read(into: huge) } catch { precondition(error == .closed) }
        }
        #expect(afterClose == 0)

        let tooLarge = allocations(throwsPerCall: 1) {
            do throws(SockError) {
                _ = try server.writeTo(UnsafeRawBufferPointer(huge), address: target)
            } catch {
                precondition(error == .messageTooLarge)
            }
        }
        #expect(tooLarge == 0)

        server.setReadDeadline(.after(.zero))
        let timedOut = allocations(throwsPerCall: 1) {
            do throws(SockError) { _ = try server.readFrom(into: huge) } catch { precondition(error == .timedOut) }
        }
        #expect(timedOut == 0)
    }
}
