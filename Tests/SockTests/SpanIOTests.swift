// Span and collection I/O against real sockets: RawSpan / OutputRawSpan /
// MutableRawSpan reads and writes, write(all:) over partial writes (a small
// SO_SNDBUF), write(all:) whose deadline passes, read(exactly:) across
// several arrivals and with an early end of stream, bad counts, and zero
// allocation on the span paths. Also SockError's equality and matching.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

@Suite("Span I/O: spans, collections, write(all:), read(exactly:)")
struct SpanIOTests {
    @Test("RawSpan write, OutputRawSpan and MutableRawSpan reads")
    func spans() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        let message: [UInt8] = Array("hello, span".utf8)
        #expect(try client.write(message.span.bytes) == .completed(message.count))

        server.setReadDeadline(soon())
        var storage = [UInt8](repeating: 0, count: 64)
        let received = try storage.withUnsafeMutableBytes { raw throws(SockError) -> Int in
            var output = OutputRawSpan(buffer: raw, initializedCount: 0)
            let result = try server.read(into: &output)
            #expect(result == .bytes(output.byteCount))
            return output.finalize(for: raw)
        }
        #expect(Array(storage.prefix(received)) == message)

        #expect(try client.write(message) == .completed(message.count))
        var span = storage.mutableSpan
        var bytes = span.mutableBytes
        let again = try server.read(into: &bytes)
        #expect(again == .bytes(message.count))
        #expect(Array(storage.prefix(message.count)) == message)
    }

    @Test("a byte collection without contiguous storage is copied and sent")
    func nonContiguousCollection() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        let pattern = (0..<1_000).lazy.map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try client.write(all: pattern)
        server.setReadDeadline(soon())
        #expect(try server.read(exactly: 1_000) == Array(pattern))
    }

    @Test("write(all:) completes over partial writes into a small send buffer")
    func writeAllPartial() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        try client.descriptor.withFileDescriptor { fd throws(SockError) in
            var size: CInt = 4_096
            _ = Glibc.setsockopt(fd, SockBindings.SOL_SOCKET, SockBindings.SO_SNDBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        let total = 4 << 20
        let payload = (0..<total).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        // A single non-blocking write is short: the kernel cannot take 4 MiB.
        let first = try client.write(payload.span.bytes)
        #expect(first.count < total, "a small SO_SNDBUF makes a single write partial")

        // Read on another thread while write(all:) loops over partial writes.
        let received = Slot<[UInt8]>()
        let reader = TestThread {
            server.setReadDeadline(.after(.seconds(30)))
            if let bytes = try? server.read(exactly: total) { received.set(bytes) }
        }
        client.setWriteDeadline(.after(.seconds(30)))
        try client.write(all: payload[first.count...])
        reader.join()
        #expect(received.value == payload)
    }

    @Test("write(all:) whose deadline passes throws timedOut, not earlier than the deadline")
    func writeAllDeadline() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        let payload = [UInt8](repeating: 1, count: 64 << 20)  // far more than the socket buffers hold
        let start = Deadline.monotonicNow()
        client.setWriteDeadline(.after(.milliseconds(50)))
        #expect(sockError { try client.write(all: payload) } == .timedOut)
        let elapsed = Deadline.monotonicNow() - start
        #expect(elapsed >= 50_000_000, "not before the deadline")
        #expect(elapsed < 5_000_000_000, "not absurdly late")
    }

    @Test("read(exactly:) gathers several arrivals; an early end of stream keeps what arrived")
    func readExactly() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        try client.write(all: Array("abc".utf8))
        try client.write(all: Array("def".utf8))
        server.setReadDeadline(soon())
        #expect(try server.read(exactly: 6) == Array("abcdef".utf8))

        try client.write(all: Array("xy".utf8))
        try client.shutdown(.write)
        var storage = [UInt8](repeating: 0, count: 8)
        let kept = storage.withUnsafeMutableBytes { raw -> (SockError?, Int) in
            var output = OutputRawSpan(buffer: raw, initializedCount: 0)
            let error = sockError { try server.read(exactly: 5, into: &output) }
            return (error, output.finalize(for: raw))
        }
        #expect(kept.0 == .endOfStream)
        #expect(kept.1 == 2 && Array(storage.prefix(2)) == Array("xy".utf8), "the bytes before end of stream are kept")
    }

    @Test("bad counts are invalidParameter and read nothing; a closed connection is closed")
    func badInput() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        try client.write(all: [1, 2, 3])
        #expect(sockError { try server.read(exactly: -1) } == .invalidParameter)
        var storage = [UInt8](repeating: 0, count: 2)
        storage.withUnsafeMutableBytes { raw in
            var output = OutputRawSpan(buffer: raw, initializedCount: 0)
            #expect(sockError { try server.read(exactly: 3, into: &output) } == .invalidParameter, "more than the capacity")
            #expect(output.byteCount == 0)
            _ = output.finalize(for: raw)
        }
        server.setReadDeadline(soon())
        #expect(try server.read(exactly: 3) == [1, 2, 3], "nothing was consumed by the refused calls")
        try client.close()
        #expect(sockError { try client.write(all: [UInt8]()) } == .closed)
        #expect(sockError { try client.write(all: [1]) } == .closed)
    }

    @Test("span reads and writes allocate nothing")
    func noAllocation() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        let message = TestBytes(count: 64, fill: 9)
        let input = TestBytes(count: 256)
        let count = try allocations {
            try client.write(all: message.bytes.bytes)
            var output = OutputRawSpan(buffer: input.raw, initializedCount: 0)
            try server.read(exactly: 64, into: &output)
            _ = output.finalize(for: input.raw)
            _ = try client.write(message.bytes.bytes)
            var bytes = input.raw.mutableBytes
            var got = 0
            while got < 64 { got += try server.read(into: &bytes).count }
        }
        #expect(count == 0)
    }

    @Test("SockError: == compares the errno too; patterns match by meaning")
    func errorEquality() {
        let pipe = SockError(errno: SockBindings.EPIPE)
        #expect(pipe.code == .connectionReset)
        #expect(pipe != .connectionReset, "EPIPE is not ECONNRESET")
        #expect(pipe == SockError(errno: SockBindings.EPIPE))
        #expect(Set([pipe, .connectionReset]).count == 2)
        var matched = false
        do throws(SockError) { throw pipe } catch .connectionReset { matched = true } catch {}
        #expect(matched, "catch .connectionReset catches a reset reported as EPIPE")
        switch pipe {
        case .timedOut: Issue.record("matched the wrong code")
        case .connectionReset: break
        default: Issue.record("did not match its code")
        }
    }
}
