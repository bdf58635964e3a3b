// Address text parsing: every parser gets the input as text. Nothing may
// trap; whatever parses must print to text that parses back to the same value.
#if canImport(Glibc)
import Glibc
#endif
import Sock

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddressText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)

    if let address = try? IPv4Address(text) {
        let again = try? IPv4Address(address.description)
        precondition(again == address, "IPv4Address round trip: \(text.debugDescription) -> \(address)")
    }
    if let address = try? IPv6Address(text) {
        let again = try? IPv6Address(address.description)
        precondition(again == address, "IPv6Address round trip: \(text.debugDescription) -> \(address)")
    }
    if let address = try? SockaddrInet4(text) {
        let again = try? SockaddrInet4(address.description)
        precondition(again == address, "SockaddrInet4 round trip: \(text.debugDescription) -> \(address)")
    }
    if let address = try? SockaddrInet6(text), address.scopeID == 0 {
        // (A zone prints as an interface name, which depends on the machine.)
        let again = try? SockaddrInet6(address.description)
        precondition(again == address, "SockaddrInet6 round trip: \(text.debugDescription) -> \(address)")
    }
    _ = try? AnySocketAddress(text)
    _ = try? SockaddrInet4(ip: text, port: 80)
    _ = try? SockaddrInet6(ip: text, port: 80)
    if let unix = try? SockaddrUnix(path: text) { _ = unix.description }
    if let unix = try? SockaddrUnix(abstractName: text) { _ = unix.description }
    return 0
}
