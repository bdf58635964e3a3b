// Control-message parsing from arbitrary bytes (what recvmsg's control
// buffer may hold): the first byte picks how many of the bytes count as
// valid (the controlLength a caller passes, sometimes larger than the
// buffer). Nothing may trap or read past the buffer (ASan).
#if canImport(Glibc)
import Glibc
#endif
import Sock

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlMessages(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 1, let data else { return 0 }
    let count = size - 1
    // Control buffers are cmsghdr-aligned in real use: an aligned exact copy.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
    defer { buffer.deallocate() }
    if count > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(start: data + 1, count: count)) }
    let bytes = UnsafeRawBufferPointer(buffer)
    let claimed = data[0] == 0xFF ? Int.max : (data[0] == 0xFE ? -1 : count - Int(data[0]))

    for messages in [ControlMessages(bytes), ControlMessages(buffer: bytes, length: claimed)] {
        var sink = 0
        for message in messages {
            switch message {
            case .rights(let fds):
                for fd in fds { sink &+= Int(fd) }
                sink &+= fds.count
                if !fds.isEmpty { sink &+= Int(fds[fds.count - 1]) }
            case .credentials(let credentials): sink &+= Int(credentials.pid)
            case .packetInfo4(let info): sink &+= Int(info.ipi_ifindex)
            case .packetInfo6(let info): sink &+= Int(info.ipi6_ifindex)
            case .tos(let value): sink &+= Int(value)
            case .trafficClass(let value), .ttl(let value), .hopLimit(let value), .groSegmentSize(let value):
                sink &+= Int(value)
            case .timestampNS(let time): sink &+= Int(time.tv_nsec)
            case .segmentSize(let value): sink &+= Int(value)
            case .other(_, _, let payload): sink &+= payload.reduce(0) { $0 &+ Int($1) }
            }
        }
        _ = messages.credentials
        let total = messages.rightsCount
        let fds = UnsafeMutableBufferPointer<CInt>.allocate(capacity: 3)
        defer { fds.deallocate() }
        let copied = messages.copyRights(into: fds)
        precondition(copied.copied <= 3 && copied.copied <= copied.total && copied.total == total,
                     "copyRights: \(copied) of \(total)")
        withExtendedLifetime(sink) {}
    }
    let array = Array(bytes)
    let rights = ControlMessages.parseUnixRights(array)
    precondition(rights.count == ControlMessages(bytes).rightsCount, "parseUnixRights disagrees with rightsCount")
    _ = ControlMessages.parseUnixCredentials(array)
    return 0
}
