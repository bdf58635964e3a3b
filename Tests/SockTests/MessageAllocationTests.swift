// Zero allocation, proven by a malloc count: sendmsg/recvmsg with control
// data (single and vectored), the control-message builder and parser,
// descriptor passing of 2 descriptors, and multicast options.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

@Suite("Messages: no allocation in steady state")
struct MessageAllocationTests {
    @Test("sendmsg with a built TOS and recvmsg with IP_PKTINFO and IP_TOS, parsed, allocate nothing", .countingAllocations)
    func messagesWithControl() throws {
        let (receiver, receiverAny) = try Messaging.udp()
        guard case .inet4(let receiverAddress) = receiverAny else { throw SockError.invalidParameter }
        try receiver.setOption(.receivePacketInfo, to: true)
        try receiver.setOption(.receiveTypeOfService, to: true)
        let (sender, _) = try Messaging.udp()

        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 8)
        let data = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        let build = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        let control = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 8)
        defer { for buffer in [payload, data, build, control] { buffer.deallocate() } }
        payload.initializeMemory(as: UInt8.self, repeating: 0x5A)

        var tosSeen = 0
        var infoSeen = 0
        let count = try allocations {
            var builder = ControlMessageBuilder(buffer: build)
            try builder.append(tos: 0x28)
            _ = try sender.sendMessage(UnsafeRawBufferPointer(payload), control: builder.bytes, to: receiverAddress)
            let received = try receiver.receiveMessage(into: data, control: control, deadline: .after(.seconds(1)))
            guard case .completed(let message) = received else { return }
            for controlMessage in ControlMessages(buffer: control, length: message.controlLength) {
                switch controlMessage {
                case .tos(let tos): tosSeen += tos == 0x28 ? 1 : 0
                case .packetInfo4(let info): infoSeen += info.ipi_ifindex > 0 ? 1 : 0
                default: break
                }
            }
        }
        #expect(count == 0)
        #expect(tosSeen == 101 && infoSeen == 101)
    }

    @Test("vectored sendmsg/recvmsg allocate nothing", .countingAllocations)
    func vectored() throws {
        let (a, b) = try Messaging.unixPair(SockBindings.SOCK_SEQPACKET)
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { storage.deallocate() }
        storage.initializeMemory(as: UInt8.self, repeating: 1)
        let sendParts = UnsafeMutableBufferPointer<UnsafeRawBufferPointer>.allocate(capacity: 3)
        let receiveParts = UnsafeMutableBufferPointer<UnsafeMutableRawBufferPointer>.allocate(capacity: 2)
        defer {
            sendParts.deallocate()
            receiveParts.deallocate()
        }
        for index in 0 ..< 3 {
            sendParts[index] = UnsafeRawBufferPointer(rebasing: storage[index * 4 ..< index * 4 + 4])
        }
        receiveParts[0] = UnsafeMutableRawBufferPointer(rebasing: storage[16 ..< 24])
        receiveParts[1] = UnsafeMutableRawBufferPointer(rebasing: storage[24 ..< 64])

        var total = 0
        let count = try allocations {
            _ = try a.sendMessage(UnsafeBufferPointer(sendParts))
            total += try b.receiveMessage(into: receiveParts, deadline: .after(.seconds(1))).value?.count ?? 0
        }
        #expect(count == 0)
        #expect(total == 101 * 12)

        // Arrays made once and reused are read as contiguous storage.
        let sendArray = Array(sendParts)
        let receiveArray = Array(receiveParts)
        let arrays = try allocations {
            _ = try a.sendMessage(sendArray)
            _ = try b.receiveMessage(into: receiveArray, deadline: .after(.seconds(1)))
        }
        #expect(arrays == 0)
    }

    @Test("building and parsing rights, credentials, packet info and integers allocate nothing", .countingAllocations)
    func builderAndParser() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
        let fds = UnsafeMutableBufferPointer<CInt>.allocate(capacity: 4)
        let copied = UnsafeMutableBufferPointer<CInt>.allocate(capacity: 4)
        defer {
            buffer.deallocate()
            fds.deallocate()
            copied.deallocate()
        }
        for index in 0 ..< 4 { fds[index] = CInt(index + 10) }
        var credentials = Ucred()
        credentials.pid = 7
        var checksum = 0
        let count = try allocations {
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(rights: UnsafeBufferPointer(fds))
            try builder.append(credentials: credentials)
            try builder.append(packetInfo: InPktinfo())
            try builder.append(packetInfo: In6Pktinfo())
            try builder.append(tos: 1)
            try builder.append(ttl: 2)
            try builder.append(hopLimit: 3)
            try builder.append(trafficClass: 4)
            try builder.append(segmentSize: 5)
            let messages = ControlMessages(builder.bytes)
            for message in messages {
                switch message {
                case .rights(let rights): for fd in rights { checksum += Int(fd) }
                case .credentials(let value): checksum += Int(value.pid)
                case .tos(let value): checksum += Int(value)
                case .ttl(let value), .hopLimit(let value), .trafficClass(let value): checksum += Int(value)
                case .segmentSize(let value): checksum += Int(value)
                default: break
                }
            }
            checksum += messages.copyRights(into: copied).copied
            checksum += messages.credentials == nil ? 0 : 1
        }
        #expect(count == 0)
        #expect(checksum == 101 * (46 + 7 + 15 + 4 + 1))
    }

    @Test("passing 2 descriptors (as numbers and as Descriptors) allocates nothing", .countingAllocations)
    func descriptorPassing() throws {
        let (a, b) = try Messaging.unixPair()
        let pipes = [Messaging.pipe(), Messaging.pipe()]
        defer { for (r, w) in pipes { Glibc.close(r); Glibc.close(w) } }
        let outgoing = UnsafeMutableBufferPointer<CInt>.allocate(capacity: 2)
        let incoming = UnsafeMutableBufferPointer<CInt>.allocate(capacity: 2)
        let data = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer {
            outgoing.deallocate()
            incoming.deallocate()
            data.deallocate()
        }
        outgoing[0] = pipes[0].1
        outgoing[1] = pipes[1].1
        data.initializeMemory(as: UInt8.self, repeating: 0x44)
        let one = UnsafeRawBufferPointer(rebasing: data[0 ..< 1])

        var received = 0
        let numbers = try allocations {
            _ = try a.sendDescriptors(UnsafeBufferPointer(outgoing), data: one)
            if case .completed(let result) = try b.receiveDescriptors(into: incoming, data: data, deadline: .after(.seconds(1))) {
                received += result.descriptorCount
                for index in 0 ..< result.descriptorCount { _ = Glibc.close(incoming[index]) }
            }
        }
        #expect(numbers == 0)
        #expect(received == 202)

        let (x, y) = try Messaging.unixPair()
        let owned = [x, y]
        let descriptors = try allocations {
            _ = try a.sendDescriptors(owned, data: one)
            if case .completed(let result) = try b.receiveDescriptors(into: incoming, data: data, deadline: .after(.seconds(1))) {
                for index in 0 ..< result.descriptorCount { _ = Glibc.close(incoming[index]) }
            }
        }
        #expect(descriptors == 0)
    }

    @Test("multicast options allocate nothing", .countingAllocations)
    func multicastOptions() throws {
        let socket = try Descriptor.socket(family: SockBindings.AF_INET, type: SockBindings.SOCK_DGRAM)
        let socket6 = try Descriptor.socket(family: SockBindings.AF_INET6, type: SockBindings.SOCK_DGRAM)
        let index = Messaging.loopbackIndex
        let count = try allocations {
            try socket.setOption(.multicastTimeToLive, to: 2)
            _ = try socket.option(.multicastTimeToLive)
            try socket.setOption(.multicastLoop, to: true)
            try socket.setOption(.multicastInterfaceByIndex, to: multicastInterfaceRequest(index: index))
            _ = try socket.option(.multicastInterface)
            try socket6.setOption(.multicastHopLimit, to: 2)
            try socket6.setOption(.multicastInterfaceIndex, to: Int(index))
            _ = try socket6.option(.ipv6MulticastLoop)
        }
        #expect(count == 0)
    }
}
