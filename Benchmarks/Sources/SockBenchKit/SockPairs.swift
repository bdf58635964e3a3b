// Connected pairs made with Sock's connection types, as a user would:
// TCPListener/TCPConn (TCP_NODELAY on both ends), UDPConn (a listening server
// and a dialed client), UnixConn.pair (socketpair).
#if canImport(Glibc)
import Glibc
#endif
import Sock
import SockBindings

/// Sock's loopback address with a port.
public func loopback4(port: UInt16 = 0) -> SockaddrInet4 {
    SockaddrInet4(address: .loopback, port: port)
}

/// The IPv4 address of a listener.
func inet4(_ address: AnySocketAddress) throws -> SockaddrInet4 {
    guard case .inet4(let address) = address else { throw BenchError("not an IPv4 address: \(address)") }
    return address
}

/// A connected TCP pair: (dialed client, accepted server), TCP_NODELAY on both.
public func tcpPair() throws -> (TCPConn, TCPConn) {
    let listener = try TCPListener.listen(on: loopback4(), backlog: 1)
    defer { try? listener.close() }
    let client = try TCPConn.dial(to: try inet4(listener.address))
    listener.setDeadline(.after(.seconds(5)))
    guard case .completed(let server) = try listener.accept() else { throw BenchError("accept did not complete") }
    try client.setOption(.noDelay, to: true)
    try server.setOption(.noDelay, to: true)
    return (client, server)
}

/// A UDP pair: (client dialed to the server, unconnected server).
public func udpPair() throws -> (UDPConn<SockaddrInet4>, UDPConn<SockaddrInet4>) {
    let server = try UDPConn<SockaddrInet4>.listen(on: loopback4())
    let client = try UDPConn<SockaddrInet4>.dial(to: server.localAddress)
    return (client, server)
}
