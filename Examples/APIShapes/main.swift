// Every I/O shape a caller naturally writes, called from plain untyped-throwing
// functions and built with `-c release` by `make test`: Swift 6.3.1's
// optimizer crashed on one such shape (a typed-throws closure given to
// `Array.withUnsafeBytes` inside an untyped-throwing function), so the shapes
// the library asks its users to write are compiled the way users compile
// them. Run, it exits 0 only if every call did what it should.
#if canImport(Glibc)
import Glibc
#endif
import Sock

struct Failure: Error, CustomStringConvertible {
    let description: String
}

func check(_ condition: Bool, _ what: String) throws {
    if !condition { throw Failure(description: what) }
}

func streamShapes() throws {
    let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
    defer { try? listener.close() }
    let client = try TCPDialer(timeout: .seconds(5)).dial(to: listener.address)
    defer { try? client.close() }
    listener.setDeadline(.after(.seconds(5)))
    guard case .completed(let server) = try listener.accept() else { throw Failure(description: "no connection") }
    defer { try? server.close() }
    server.setDeadline(.after(.seconds(5)))
    client.setDeadline(.after(.seconds(5)))

    // Collections: [UInt8], a String's UTF-8, ArraySlice.
    let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
    try client.write(all: bytes)
    try client.write(all: "text".utf8)
    try client.write(all: bytes[2...])
    try check(try server.read(exactly: 8) == bytes, "[UInt8] round trip")
    try check(try server.read(exactly: 4) == Array("text".utf8), "utf8 round trip")
    try check(try server.read(exactly: 6) == Array(bytes[2...]), "slice round trip")

    // Spans: RawSpan out, OutputRawSpan and MutableRawSpan in.
    _ = try client.write(bytes.span.bytes)
    var storage = [UInt8](repeating: 0, count: 16)
    let filled = try storage.withUnsafeMutableBytes { raw in
        var output = OutputRawSpan(buffer: raw, initializedCount: 0)
        try server.read(exactly: 8, into: &output)
        return output.finalize(for: raw)
    }
    try check(filled == 8 && Array(storage.prefix(8)) == bytes, "OutputRawSpan read")
    _ = try client.write(bytes)
    var span = storage.mutableSpan
    var mutableBytes = span.mutableBytes
    var got = 0
    while got < 8 { got += try server.read(into: &mutableBytes).count }
    try check(got == 8, "MutableRawSpan read")

    // Unsafe buffers, for callers that already hold pointers. (Not
    // `array.withUnsafeBytes { try conn.write($0) }` from untyped code: that
    // closure shape crashes Swift 6.3.1's optimizer in -c release; write
    // the array itself, or its span, as above.)
    let held = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
    defer { held.deallocate() }
    held.copyBytes(from: bytes)
    let sent = try client.write(UnsafeRawBufferPointer(rebasing: held[0..<8]))
    try check(sent == .completed(8), "buffer write")
    let received = try server.read(into: held)
    try check(received.count > 0, "buffer read")

    // Errors are typed; a passed deadline is .timedOut, matched as a pattern.
    server.setReadDeadline(.after(.milliseconds(10)))
    var timedOut = false
    // (`catch let error as SockError where …` plus a captured flag in an
    // untyped-throwing function crashes Swift 6.3.1's optimizer; a typed
    // `do` with one catch-all does not.)
    do throws(SockError) {
        _ = try server.read(exactly: 64)
    } catch {
        guard error.code == .timedOut else { throw error }
        timedOut = true
    }
    try check(timedOut, "timed out")
}

func datagramShapes() throws {
    let receiver = try UDPConn<SockaddrInet4>.listen(on: SockaddrInet4(address: .loopback, port: 0))
    defer { try? receiver.close() }
    let sender = try UDPConn<SockaddrInet4>.dial(to: receiver.localAddress)
    defer { try? sender.close() }
    receiver.setReadDeadline(.after(.seconds(5)))
    let datagram: [UInt8] = Array("datagram".utf8)
    _ = try sender.write(datagram)
    _ = try sender.writeTo(datagram.span.bytes, address: receiver.localAddress)
    var storage = [UInt8](repeating: 0, count: 64)
    let first = try storage.withUnsafeMutableBytes { raw in
        var output = OutputRawSpan(buffer: raw, initializedCount: 0)
        let result = try receiver.readFrom(into: &output)
        _ = output.finalize(for: raw)
        return result
    }
    try check(first.value?.count == datagram.count, "readFrom into OutputRawSpan")
}

do {
    try streamShapes()
    try datagramShapes()
    print("api-shapes: ok")
} catch {
    print("api-shapes: FAILED: \(error)")
    exit(1)
}
