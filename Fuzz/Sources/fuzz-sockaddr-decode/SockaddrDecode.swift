// Socket-address decoding from arbitrary bytes and lengths, as a kernel (or
// a caller) might hand them over: the first two bytes are the claimed length
// (0...65535, often larger than the buffer, as getsockname's can be), the
// rest is the buffer. Nothing may trap or read past the buffer (ASan);
// whatever decodes must encode to bytes that decode to the same value.
#if canImport(Glibc)
import Glibc
#endif
import Sock

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSockaddrDecode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 2, let data else { return 0 }
    let length = socklen_t(UInt16(data[0]) | UInt16(data[1]) << 8)
    // An exact-size, 8-byte-aligned copy: reads past its end are caught.
    let count = size - 2
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
    defer { buffer.deallocate() }
    if count > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(start: data + 2, count: count)) }
    let bytes = UnsafeRawBufferPointer(buffer)

    if let any = try? AnySocketAddress(decoding: bytes, length: length) {
        _ = any.description
        let again = any.withSockaddrPointer { pointer, encodedLength in
            try? AnySocketAddress(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(encodedLength)), length: encodedLength)
        }
        precondition(again == any, "decode/encode/decode round trip: \(any) became \(String(describing: again))")
    }
    _ = (try? SockaddrInet4(decoding: bytes, length: length))?.description
    _ = (try? SockaddrInet6(decoding: bytes, length: length))?.description
    _ = (try? SockaddrUnix(decoding: bytes, length: length))?.description
    return 0
}
