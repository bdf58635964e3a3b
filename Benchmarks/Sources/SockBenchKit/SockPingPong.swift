// The ping-pong with Sock's connection types: an echo thread and rounds driven
// from the caller.
//
// - TCP: TCPConn (dialed) ↔ TCPConn (accepted); Unix: UnixConn.pair();
//   read(into:) → StreamRead, write(_:) → IOResult.
// - UDP: UDPConn.dial (client: write/read, i.e. send/recv) ↔ UDPConn.listen
//   (server: readFrom/writeTo, i.e. recvfrom with MSG_TRUNC and sendto), the
//   usual shape of a UDP server.
// - spin: no deadline (the default): would-block is returned and retried.
//   deadline: setDeadline(.after(5 s)) once per round trip on each side, then
//   the calls wait through the adaptive I/O.
#if canImport(Glibc)
import Glibc
#endif
import CSockRef
import Sock
import SockBindings

/// The two stream connection types, seen the same way.
protocol StreamEnd: AnyObject, Sendable {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> StreamRead
    func write(_ buffer: UnsafeRawBufferPointer) throws(SockError) -> IOResult<Int>
    func setDeadline(_ deadline: Deadline)
}
extension TCPConn: StreamEnd {}
extension UnixConn: StreamEnd {}

/// Reads exactly `buffer.count` bytes; false at end of stream. Spins on
/// would-block (no deadline).
@inline(__always)
func readFull<End: StreamEnd>(_ end: End, _ buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> Bool {
    var got = 0
    while got < buffer.count {
        switch try end.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[got...])) {
        case .bytes(let count): got += count
        case .endOfStream: return false
        case .wouldBlock: continue  // spin
        }
    }
    return true
}

/// Writes all of `buffer`; spins on would-block (no deadline).
@inline(__always)
func writeFull<End: StreamEnd>(_ end: End, _ buffer: UnsafeRawBufferPointer) throws(SockError) {
    var sent = 0
    while sent < buffer.count {
        switch try end.write(UnsafeRawBufferPointer(rebasing: buffer[sent...])) {
        case .completed(let count): sent += count
        case .wouldBlock: continue  // spin
        }
    }
}

/// The deadline of one round trip (deadline mode): 5 s from now.
@inline(__always)
func roundDeadline() -> Deadline { .after(nanoseconds: 5_000_000_000) }

/// The echo loop of a stream connection, until end of stream.
func streamEcho<End: StreamEnd>(_ end: End, size: Int, mode: Mode) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    defer { buffer.deallocate() }
    do {
        while true {
            if mode == .deadline { end.setDeadline(roundDeadline()) }
            guard try readFull(end, buffer) else { break }
            try writeFull(end, UnsafeRawBufferPointer(buffer))
        }
    } catch {
        fail("sock echo: \(error)")
    }
}

/// The round trips of a stream connection.
func streamRounds<End: StreamEnd>(_ end: End, _ buffer: UnsafeMutableRawBufferPointer, mode: Mode, rounds: Int) throws(SockError) {
    for _ in 0..<rounds {
        if mode == .deadline { end.setDeadline(roundDeadline()) }
        try writeFull(end, UnsafeRawBufferPointer(buffer))
        guard try readFull(end, buffer) else { throw .closed }
    }
}

/// The echo loop of the UDP server (readFrom, writeTo), until an empty datagram.
func datagramEcho(_ server: UDPConn<SockaddrInet4>, size: Int, mode: Mode) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    defer { buffer.deallocate() }
    do {
        while true {
            if mode == .deadline { server.setDeadline(roundDeadline()) }
            var received: (count: Int, from: SockaddrInet4)
            while true {
                if case .completed(let datagram) = try server.readFrom(into: buffer) { received = datagram; break }
            }
            if received.count == 0 { break }
            let reply = UnsafeRawBufferPointer(rebasing: buffer[..<received.count])
            while try server.writeTo(reply, address: received.from).isWouldBlock {}
        }
    } catch {
        fail("sock udp echo: \(error)")
    }
}

/// The round trips of the UDP client (write, read).
func datagramRounds(_ client: UDPConn<SockaddrInet4>, _ buffer: UnsafeMutableRawBufferPointer, mode: Mode, rounds: Int) throws(SockError) {
    let message = UnsafeRawBufferPointer(buffer)
    for _ in 0..<rounds {
        if mode == .deadline { client.setDeadline(roundDeadline()) }
        while try client.write(message).isWouldBlock {}
        while true {
            if case .completed(let count) = try client.read(into: buffer) {
                guard count == buffer.count else { throw .closed }
                break
            }
        }
    }
}

/// A Sock ping-pong: a connected pair, an echo thread on the server side, and
/// rounds run from the calling thread on the client side.
public final class SockPingPong: @unchecked Sendable {
    private enum Pair {
        case tcp(TCPConn, TCPConn)
        case unix(UnixConn, UnixConn)
        case udp(UDPConn<SockaddrInet4>, UDPConn<SockaddrInet4>)
    }

    public let proto: Proto
    public let size: Int
    public let mode: Mode
    private let pair: Pair
    private let buffer: UnsafeMutableRawBufferPointer
    private var echo: BenchThread?

    public init(proto: Proto, size: Int, mode: Mode, serverCPU: Int?) throws {
        self.proto = proto
        self.size = size
        self.mode = mode
        buffer = .allocate(byteCount: size, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: "p"))
        switch proto {
        case .tcp:
            let (client, server) = try tcpPair()
            pair = .tcp(client, server)
            echo = BenchThread(cpu: serverCPU) { streamEcho(server, size: size, mode: mode) }
        case .unix:
            let (client, server) = try UnixConn.pair()
            pair = .unix(client, server)
            echo = BenchThread(cpu: serverCPU) { streamEcho(server, size: size, mode: mode) }
        case .udp:
            let (client, server) = try udpPair()
            pair = .udp(client, server)
            echo = BenchThread(cpu: serverCPU) { datagramEcho(server, size: size, mode: mode) }
        }
    }

    /// Runs `rounds` round trips; returns the elapsed nanoseconds.
    public func run(rounds: Int) throws(SockError) -> Int64 {
        let start = nowNanoseconds()
        switch pair {
        case .tcp(let client, _): try streamRounds(client, buffer, mode: mode, rounds: rounds)
        case .unix(let client, _): try streamRounds(client, buffer, mode: mode, rounds: rounds)
        case .udp(let client, _): try datagramRounds(client, buffer, mode: mode, rounds: rounds)
        }
        return nowNanoseconds() - start
    }

    /// Stops the echo thread and closes both ends.
    public func stop() {
        switch pair {
        case .tcp(let client, _): try? client.shutdown(.write)
        case .unix(let client, _): try? client.shutdown(.write)
        case .udp(let client, _):
            client.setDeadline(.after(.seconds(5)))
            _ = try? client.write(UnsafeRawBufferPointer(rebasing: buffer[0..<0]))
        }
        echo?.join()
        echo = nil
        switch pair {
        case .tcp(let a, let b): try? a.close(); try? b.close()
        case .unix(let a, let b): try? a.close(); try? b.close()
        case .udp(let a, let b): try? a.close(); try? b.close()
        }
        buffer.deallocate()
    }
}

/// The C ping-pong (CSockRef): both loops in C.
public final class CPingPong: @unchecked Sendable {
    private let handle: OpaquePointer

    public init(proto: Proto, size: Int, mode: CInt, serverCPU: Int?) throws {
        guard let handle = csr_pp_start(proto.cValue, CInt(size), mode, CInt(serverCPU ?? -1)) else {
            throw BenchError("csr_pp_start: errno \(errno)")
        }
        self.handle = handle
    }

    public convenience init(proto: Proto, size: Int, mode: Mode, blocking: Bool = false, serverCPU: Int?) throws {
        let cMode = blocking ? CInt(CSR_BLOCKING) : mode == .spin ? CInt(CSR_SPIN) : CInt(CSR_DEADLINE)
        try self.init(proto: proto, size: size, mode: cMode, serverCPU: serverCPU)
    }

    public func run(rounds: Int) throws -> Int64 {
        let elapsed = csr_pp_run(handle, Int64(rounds))
        if elapsed < 0 { throw BenchError("csr_pp_run: errno \(errno)") }
        return elapsed
    }

    public func stop() { csr_pp_stop(handle) }
}
