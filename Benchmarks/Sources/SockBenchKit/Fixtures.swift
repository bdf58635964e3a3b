// Fixtures of the micro-benchmarks: sockets and values prepared once, outside
// the measured region. The measured operations themselves are written out in
// Benchmarks/SockBenchmarks so that what is timed is visible in one place.
#if canImport(Glibc)
import Glibc
#endif
import CSockRef
import Sock
import SockBindings

/// A connected TCP pair (Sock connections) with nothing queued, and scratch
/// buffers: would-block read, option get/set, TCP info.
public final class TCPPairFixture: @unchecked Sendable {
    public let client: TCPConn
    public let server: TCPConn
    public let buffer: UnsafeMutableRawBufferPointer
    public var info = TCPInfo()
    public var snapshot = TCPInfoSnapshot()
    public var rawInfo: UnsafeMutableRawBufferPointer
    public var clientFD: CInt { client.descriptor.rawValue }

    public init() throws {
        (client, server) = try tcpPair()
        buffer = .allocate(byteCount: 64, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        rawInfo = .allocate(byteCount: MemoryLayout<TCPInfo>.size, alignment: 8)
        rawInfo.initializeMemory(as: UInt8.self, repeating: 0)
    }

    public func close() {
        try? client.close()
        try? server.close()
        buffer.deallocate()
        rawInfo.deallocate()
    }
}

/// Datagram senders to a loopback receiver that never reads (once its queue is
/// full the kernel drops, the same for every variant): a connected UDPConn
/// (write; writeSegmented, GSO per call by a `UDP_SEGMENT` control message;
/// sendMessages, sendmmsg, with a prepared batch of 32), one with
/// setGSOSegmentSize (GSO for every send, the `UDP_SEGMENT` option), and an
/// unconnected one (writeTo/sendto).
public final class UDPSendFixture: @unchecked Sendable {
    /// Bytes per datagram (a typical QUIC/MTU-sized datagram).
    public static let datagramSize = 1_200
    /// Datagrams per batch (sendmmsg) and per GSO super-datagram.
    public static let batch = 25
    /// Batch calls per benchmark iteration: 40 × 25 = 1000 datagrams, so
    /// that every UDP benchmark reports per datagram.
    public static let callsPerIteration = 40

    public let receiver: UDPConn<SockaddrInet4>
    public let sender: UDPConn<SockaddrInet4>
    public let gsoSender: UDPConn<SockaddrInet4>
    public let unconnected: UDPConn<SockaddrInet4>
    public let destination: SockaddrInet4
    public var rawDestination = sockaddr_in()
    public let payload: UnsafeMutableRawBufferPointer
    /// `batch` copies of the first datagram, for sendMessages (sendmmsg).
    public var batch: UDPMessageBatch<SockaddrInet4>

    public init() throws {
        receiver = try UDPConn<SockaddrInet4>.listen(on: loopback4())
        destination = receiver.localAddress
        sender = try UDPConn<SockaddrInet4>.dial(to: destination)
        gsoSender = try UDPConn<SockaddrInet4>.dial(to: destination)
        unconnected = try UDPConn<SockaddrInet4>.listen(on: loopback4())
        try gsoSender.setOption(.segmentSize, to: UDPSendFixture.datagramSize)
        payload = .allocate(byteCount: Self.datagramSize * Self.batch, alignment: 16)
        payload.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: "d"))
        batch = try UDPMessageBatch<SockaddrInet4>(capacity: Self.batch)
        let first = UnsafeRawBufferPointer(rebasing: payload[0..<Self.datagramSize])
        for index in 0..<Self.batch {
            try batch.setMessage(first, to: nil, at: index)
        }
        let destination = self.destination
        withUnsafeMutableBytes(of: &rawDestination) { raw in
            destination.withSockaddrPointer { pointer, length in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(length)))
            }
        }
    }

    public var single: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: payload[0..<Self.datagramSize]) }
    public var whole: UnsafeRawBufferPointer { UnsafeRawBufferPointer(payload) }

    public func close() {
        for conn in [receiver, sender, gsoSender, unconnected] { try? conn.close() }
        payload.deallocate()
    }
}

/// Address values and their C counterparts.
public final class AddressFixture: @unchecked Sendable {
    public let ipv4Text = "192.168.100.200"
    public let ipv6Text = "2001:db8:85a3::8a2e:370:7334"
    public let cIPv4Text: UnsafeMutablePointer<CChar>
    public let cIPv6Text: UnsafeMutablePointer<CChar>
    public let ipv4: IPv4Address
    public let ipv6: IPv6Address
    public var inAddr = in_addr()
    public var in6Addr = in6_addr()
    public var storage = sockaddr_storage()
    public let storageLength: socklen_t
    public var textBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 64)
    public var rawInet4 = sockaddr_in()
    public var rawInet6 = sockaddr_in6()

    public init() throws {
        cIPv4Text = strdup(ipv4Text)
        cIPv6Text = strdup(ipv6Text)
        ipv4 = try IPv4Address(ipv4Text)
        ipv6 = try IPv6Address(ipv6Text)
        _ = csr_parse_ipv4(cIPv4Text, &inAddr)
        _ = csr_parse_ipv6(cIPv6Text, &in6Addr)
        let address = SockaddrInet6(address: ipv6, port: 8443, scopeID: 0)
        var length: socklen_t = 0
        withUnsafeMutableBytes(of: &storage) { raw in
            address.withSockaddrPointer { pointer, size in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(size)))
                length = size
            }
        }
        storageLength = length
    }
}

/// A listener for the accept-and-close rate (Sock's TCPListener and a C one),
/// and client sockets made by C for both (SO_LINGER 0: no TIME_WAIT).
public final class AcceptFixture: @unchecked Sendable {
    public let sockListener: TCPListener
    public let sockPort: UInt16
    public let cListener: CInt
    public let cPort: UInt16
    public let clients: UnsafeMutablePointer<CInt>
    public let count: Int

    public init(count: Int) throws {
        self.count = count
        var limit = rlimit()
        getrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit)
        }
        sockListener = try TCPListener.listen(on: loopback4(), backlog: 4096)
        sockPort = try inet4(sockListener.address).port
        var port: UInt16 = 0
        cListener = csr_listener(&port)
        if cListener < 0 { throw BenchError("csr_listener: \(-cListener)") }
        cPort = port
        clients = .allocate(capacity: count)
    }

    /// Queues `count` connections on the Sock listener or the C one (not measured).
    public func connectClients(toSock: Bool) throws {
        let result = csr_connect_clients(toSock ? sockPort : cPort, CInt(count), clients)
        if result != 0 { throw BenchError("csr_connect_clients: \(-result)") }
    }

    /// Closes the client sockets (not measured).
    public func closeClients() { csr_close_all(clients, CInt(count)) }

    public func close() {
        try? sockListener.close()
        Glibc.close(cListener)
        clients.deallocate()
    }
}

/// Bulk TCP with Sock: a writer (TCPConn) on the calling thread and a sink
/// thread that reads 64 KiB at a time and discards; both with a 5 s deadline
/// set before each call, as the C reference computes one per call.
public final class SockBulk: @unchecked Sendable {
    public let client: TCPConn
    private let server: TCPConn
    private let chunk: UnsafeMutableRawBufferPointer
    private var sink: BenchThread?

    public init(chunkSize: Int = 64 * 1024, serverCPU: Int? = nil) throws {
        (client, server) = try tcpPair()
        chunk = .allocate(byteCount: chunkSize, alignment: 16)
        chunk.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: "b"))
        let server = self.server
        sink = BenchThread(cpu: serverCPU) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            do {
                while true {
                    server.setReadDeadline(roundDeadline())
                    guard case .bytes = try server.read(into: buffer) else { break }
                }
            } catch {
                fail("sock sink: \(error)")
            }
        }
    }

    /// Writes `count` chunks, each fully.
    public func run(count: Int) throws(SockError) {
        let chunk = UnsafeRawBufferPointer(self.chunk), client = self.client
        for _ in 0..<count {
            client.setWriteDeadline(roundDeadline())
            try writeFull(client, chunk)
        }
    }

    public func stop() {
        try? client.shutdown(.write)
        sink?.join()
        sink = nil
        try? client.close()
        try? server.close()
        chunk.deallocate()
    }
}

/// Bulk TCP in C (CSockRef).
public final class CBulk: @unchecked Sendable {
    private let handle: OpaquePointer

    public init(serverCPU: Int? = nil) throws {
        guard let handle = csr_bulk_start(CInt(serverCPU ?? -1)) else { throw BenchError("csr_bulk_start: \(errno)") }
        self.handle = handle
    }

    public func run(count: Int, chunkSize: Int = 64 * 1024) throws {
        if csr_bulk_run(handle, Int64(count), chunkSize) < 0 { throw BenchError("csr_bulk_run: \(errno)") }
    }

    public func stop() { csr_bulk_stop(handle) }
}
