// The README's example, compiled and run, so it stays true.
import Sock
import Testing

@Suite struct ReadmeExampleTests {
    @Test func readmeExampleRuns() throws {
        let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
        let client = try TCPDialer(timeout: .seconds(1)).dial(to: listener.address)
        listener.setDeadline(.after(.seconds(1)))
        guard case .completed(let server) = try listener.accept() else {
            Issue.record("no connection")
            return
        }
        try client.setOption(.noDelay, to: true)
        let message: [UInt8] = Array("ping".utf8)
        _ = try message.withUnsafeBytes { try client.write($0) }
        server.setReadDeadline(.after(.milliseconds(100)))
        var buffer = [UInt8](repeating: 0, count: 64)
        let result = try buffer.withUnsafeMutableBytes { try server.read(into: $0) }
        #expect(result == .bytes(4))
        #expect(Array(buffer.prefix(4)) == message)
    }
}
