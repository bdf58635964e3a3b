import Sock

// A listener on a free loopback port, and a client that waits up to 1 s for the handshake.
let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
let client = try TCPDialer(timeout: .seconds(1)).dial(to: listener.address)
listener.setDeadline(.after(.seconds(1)))
guard case .completed(let server) = try listener.accept() else { fatalError("no connection") }

try client.setOption(.noDelay, to: true)  // a typed option key: TCP_NODELAY

// write(all:) sends every byte, waiting for room if it must; read(exactly:)
// waits for exactly that many bytes, until the read deadline.
try client.write(all: "ping".utf8)
server.setReadDeadline(.after(.seconds(1)))
let request = try server.read(exactly: 4)
try server.write(all: request)
client.setReadDeadline(.after(.seconds(1)))
print(String(decoding: try client.read(exactly: 4), as: UTF8.self))  // ping

// One typed error, SockError; a deadline that passes is .timedOut.
server.setReadDeadline(.after(.milliseconds(20)))
do throws(SockError) {
    _ = try server.read(exactly: 1)
} catch .timedOut {
    print("nothing more within 20 ms")
}

// Without a deadline a read is one non-blocking attempt: would-block is a
// result (0 bytes), never an error.
func readWhatIsReady(from conn: TCPConn) throws(SockError) {
    var storage = [UInt8](repeating: 0, count: 64)
    var span = storage.mutableSpan
    var bytes = span.mutableBytes
    switch try conn.read(into: &bytes) {
    case .bytes(let count): print("read \(count) bytes")
    case .endOfStream: print("peer closed")
    case .wouldBlock: print("nothing ready")
    }
}
server.setReadDeadline(.none)
try readWhatIsReady(from: server)
