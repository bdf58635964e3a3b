// The batch message calls, sendmmsg(2) and recvmmsg(2), in the shape of
// Syscalls.swift: value-or-errno through `valueOrErrno` (EINTR retried there),
// MSG_NOSIGNAL on every send, MSG_CMSG_CLOEXEC on every receive.
//
// Both are GNU extensions the Swift Glibc module does not import; the C
// target CSockSystem declares and defines them, and like every other call
// they go through the replaceable `SyscallTable`, so tests can inject errors.
#if canImport(Glibc)
import Glibc
#endif
import CSockSystem
import SockBindings

extension Syscall {
    /// Sends up to `count` messages described by the `Mmsghdr` array at
    /// `messages`, always with `MSG_NOSIGNAL`. Returns how many were sent;
    /// the kernel stores each one's byte count in its `msg_len`. The
    /// corresponding C function is `sendmmsg`.
    static func sendmmsg(
        _ fd: CInt, _ messages: UnsafeMutablePointer<Mmsghdr>, _ count: CUnsignedInt, _ flags: CInt
    ) -> Result<CInt, SockErrno> {
        let flags = flags | SockBindings.MSG_NOSIGNAL
        let raw = UnsafeMutableRawPointer(messages)
        return valueOrErrno {
            dispatch({ $0.sendmmsg(fd, raw, count, flags) }, { csock_sendmmsg(fd, raw, count, flags) })
        }
    }

    /// Receives up to `count` messages into the `Mmsghdr` array at
    /// `messages`, always with `MSG_CMSG_CLOEXEC` and without a timeout.
    /// Returns how many arrived; the kernel stores each one's byte count in
    /// its `msg_len` and updates its `msg_namelen`, `msg_controllen` and
    /// `msg_flags`. The corresponding C function is `recvmmsg`.
    static func recvmmsg(
        _ fd: CInt, _ messages: UnsafeMutablePointer<Mmsghdr>, _ count: CUnsignedInt, _ flags: CInt
    ) -> Result<CInt, SockErrno> {
        let flags = flags | SockBindings.MSG_CMSG_CLOEXEC
        let raw = UnsafeMutableRawPointer(messages)
        return valueOrErrno {
            dispatch({ $0.recvmmsg(fd, raw, count, flags) }, { csock_recvmmsg(fd, raw, count, flags) })
        }
    }
}
