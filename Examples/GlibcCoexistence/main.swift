// One file importing Foundation, Glibc and Sock: Glibc's C names
// (FD_CLOEXEC, F_GETFD, SO_REUSEADDR, AF_INET, SOCK_STREAM) are used
// unqualified next to Sock's API. If `import Sock` made any of them
// ambiguous (as re-exporting SockBindings' C-named constants did), this file
// would not compile. Built with -c release and run by `make test-examples`.
import Foundation
import Glibc
import Sock

// Glibc's names, unqualified.
let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
precondition(fd >= 0, "socket: errno \(errno)")
var one: Int32 = 1
precondition(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0)
precondition(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0)
precondition(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
close(fd)

// Sock's API in the same file.
let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
try listener.setOption(.reuseAddress, to: true)
let reuse = try listener.option(.reuseAddress)
precondition(reuse)
let client = try TCPDialer(timeout: .seconds(1)).dial(to: listener.address)
try client.setOption(.noDelay, to: true)
let size = try client.option(.receiveBufferSize)
precondition(size > 0)
precondition(AddressFamily.inet6.rawValue == AF_INET6)
precondition(AddressFamily.inet.rawValue == AF_INET)
precondition(SocketType.stream.rawValue == Int32(SOCK_STREAM.rawValue))
precondition(IPProtocol.tcp.rawValue == Int32(IPPROTO_TCP))
precondition(MessageFlags([.peek, .dontWait]).rawValue == Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
try client.close()
try listener.close()
print("GlibcCoexistence: Glibc's names and Sock's API coexist (\(Date() > .distantPast))")
