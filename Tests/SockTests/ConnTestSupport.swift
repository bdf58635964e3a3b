// Shared helpers for the TCP, Unix and NetSocket tests (and their allocation
// tests). Constants are written `SockBindings.X`: Glibc declares the same
// names.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

/// A heap buffer for tests. It is never freed (tests make a few hundred
/// small ones), so a pointer taken from it stays valid however early the
/// optimizer ends the lifetime of the value it came from.
struct TestBytes {
    let raw: UnsafeMutableRawBufferPointer

    init(count: Int, fill: UInt8 = 0) {
        raw = .allocate(byteCount: count, alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: fill)
    }

    /// A buffer holding `text`'s UTF-8 bytes.
    init(_ text: String) {
        let bytes = Array(text.utf8)
        self.init(count: bytes.count)
        raw.copyBytes(from: bytes)
    }

    var count: Int { raw.count }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(raw) }

    /// The first `count` bytes.
    func prefix(_ count: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])
    }

    /// The first `count` bytes as a string.
    func string(_ count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<count]), as: UTF8.self)
    }
}

/// A deadline `milliseconds` from now (generous values for tests that must not
/// flake on a loaded machine).
func soon(_ milliseconds: Int64 = 5_000) -> Deadline {
    .after(.milliseconds(milliseconds))
}

/// Asserts that `descriptor` is non-blocking and close-on-exec.
func expectNonBlockingCloseOnExec(
    _ descriptor: Descriptor, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let flags = Glibc.fcntl(descriptor.rawValue, SockBindings.F_GETFL)
    let fdFlags = Glibc.fcntl(descriptor.rawValue, SockBindings.F_GETFD)
    #expect(flags != -1 && flags & SockBindings.O_NONBLOCK != 0, "\(what): O_NONBLOCK", sourceLocation: sourceLocation)
    #expect(fdFlags != -1 && fdFlags & SockBindings.FD_CLOEXEC != 0, "\(what): FD_CLOEXEC", sourceLocation: sourceLocation)
}

/// Runs `body` and returns the `SockError` it throws, or nil when it throws
/// nothing. (Untyped closure: Swift infers `any Error` for one-line closures.)
func sockError<T>(_ body: () throws -> T) -> SockError? {
    do {
        _ = try body()
        return nil
    } catch let error as SockError {
        return error
    } catch {
        Issue.record("not a SockError: \(error)")
        return nil
    }
}

/// A TCP port on 127.0.0.1 that refuses connections: a socket is bound there
/// (so nobody else can listen) but does not listen. Keep the socket alive.
func refusingPort4() throws -> (NetSocket, SockaddrInet4) {
    let holder = try NetSocket.tcp(ipv6: false)
    try holder.bind(to: SockaddrInet4(address: .loopback, port: 0))
    guard case .inet4(let address) = try holder.localAddress else { throw SockError.invalidParameter }
    return (holder, address)
}

/// A loopback IPv4 listener on a free port.
func listener4() throws -> TCPListener {
    try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
}

/// A loopback IPv6 listener on a free port.
func listener6() throws -> TCPListener {
    try TCPListener.listen(on: SockaddrInet6(address: .loopback, port: 0))
}

/// A connected TCP pair over loopback IPv4 (client, server), via a listener
/// that is closed afterwards.
func tcpPair4() throws -> (TCPConn, TCPConn) {
    let listener = try listener4()
    defer { try? listener.close() }
    let client = try TCPDialer(timeout: .seconds(5)).dial(to: listener.address)
    listener.setDeadline(soon())
    guard case .completed(let server) = try listener.accept() else { throw SockError.wouldBlock }
    return (client, server)
}

/// Writes all of `bytes`, waiting up to a few seconds for room.
func writeAll(_ bytes: UnsafeRawBufferPointer, _ write: (UnsafeRawBufferPointer) throws(SockError) -> IOResult<Int>) throws {
    var offset = 0
    let deadline = soon()
    while offset < bytes.count {
        let count = try write(UnsafeRawBufferPointer(rebasing: bytes[offset...])).count
        offset += count
        if count == 0 {
            #expect(!deadline.hasPassed, "write made no progress")
            if deadline.hasPassed { return }
            sleep(nanoseconds: 100_000)
        }
    }
}

/// Reads exactly `count` bytes into `buffer` through `read`, with the
/// connection's deadline set by the caller; returns what was read.
func readExactly(
    _ count: Int, into buffer: TestBytes, _ read: (UnsafeMutableRawBufferPointer) throws(SockError) -> StreamRead
) throws -> Int {
    var offset = 0
    let deadline = soon()
    while offset < count {
        switch try read(UnsafeMutableRawBufferPointer(rebasing: buffer.raw[offset..<count])) {
        case .bytes(let n): offset += n
        case .endOfStream: return offset
        case .wouldBlock:
            if deadline.hasPassed { return offset }
            sleep(nanoseconds: 100_000)
        }
    }
    return offset
}

/// A unique abstract Unix name for a test.
func uniqueAbstractName(_ tag: String) -> String {
    "@sock-test-\(tag)-\(getpid())-\(nextUniqueNumber())"
}

private let uniqueCounter = Counter()

func nextUniqueNumber() -> Int { uniqueCounter.increment() }

/// Waits until the open-descriptor count drops to at most `limit`, for up to
/// a second (other tests run in parallel and may hold descriptors briefly);
/// returns the last count.
func settledDescriptorCount(atMost limit: Int) -> Int {
    var count = openDescriptorCount()
    var tries = 0
    while count > limit && tries < 100 {
        sleep(nanoseconds: 10_000_000)
        count = openDescriptorCount()
        tries += 1
    }
    return count
}

/// Whether SIGPIPE has its default disposition (which kills the process) in
/// this test process — the premise of the no-SIGPIPE tests.
func sigpipeIsDefault() -> Bool {
    var action = sigaction()
    guard sigaction(SIGPIPE, nil, &action) == 0 else { return false }
    return action.__sigaction_handler.sa_handler == nil  // SIG_DFL is 0
}
