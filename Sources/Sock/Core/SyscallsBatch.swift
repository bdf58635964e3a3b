// The batch message calls, sendmmsg(2) and recvmmsg(2), in the shape of
// Syscalls.swift: value-or-errno through `valueOrErrno` (EINTR retried there),
// MSG_NOSIGNAL on every send, MSG_CMSG_CLOEXEC on every receive.
//
// Both are GNU extensions the Swift Glibc module does not import, so they are
// looked up once in the C library, as Syscalls.swift does for accept4 and
// ppoll. Without them (no C library Sock supports lacks them: glibc has had
// them since 2.10/2.14, musl since 1.1) a single sendmsg/recvmsg of the first
// message stands in, which the calls' contract allows (they may transfer
// fewer messages than asked).
//
// They are not part of the replaceable `SyscallTable` (which Syscalls.swift
// keeps private); the stand-in path goes through `Syscall.sendmsg` /
// `Syscall.recvmsg` and so through the table.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

private typealias SendmmsgFunction = @convention(c) (
    CInt, UnsafeMutableRawPointer?, CUnsignedInt, CInt
) -> CInt

private typealias RecvmmsgFunction = @convention(c) (
    CInt, UnsafeMutableRawPointer?, CUnsignedInt, CInt, UnsafeMutablePointer<timespec>?
) -> CInt

private let sendmmsgFunction = libcFunction("sendmmsg", as: SendmmsgFunction.self)

private let recvmmsgFunction = libcFunction("recvmmsg", as: RecvmmsgFunction.self)

extension Syscall {
    /// Sends up to `count` messages described by the `Mmsghdr` array at
    /// `messages`, always with `MSG_NOSIGNAL`. Returns how many were sent;
    /// the kernel stores each one's byte count in its `msg_len`. The
    /// corresponding C function is `sendmmsg`.
    static func sendmmsg(
        _ fd: CInt, _ messages: UnsafeMutablePointer<Mmsghdr>, _ count: CUnsignedInt, _ flags: CInt
    ) -> Result<CInt, SockErrno> {
        let flags = flags | SockBindings.MSG_NOSIGNAL
        guard let sendmmsg = sendmmsgFunction else {
            // One sendmsg of the first message (MSG_NOSIGNAL added there).
            guard count > 0 else { return .success(0) }
            let header = messages.pointer(to: \.msg_hdr)!
            switch Syscall.sendmsg(fd, UnsafeRawPointer(header), flags) {
            case .success(let sent):
                messages.pointee.msg_len = UInt32(truncatingIfNeeded: sent)
                return .success(1)
            case .failure(let error):
                return .failure(error)
            }
        }
        return valueOrErrno { sendmmsg(fd, UnsafeMutableRawPointer(messages), count, flags) }
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
        guard let recvmmsg = recvmmsgFunction else {
            // One recvmsg into the first message (MSG_CMSG_CLOEXEC added there).
            guard count > 0 else { return .success(0) }
            let header = messages.pointer(to: \.msg_hdr)!
            switch Syscall.recvmsg(fd, UnsafeMutableRawPointer(header), flags) {
            case .success(let received):
                messages.pointee.msg_len = UInt32(truncatingIfNeeded: received)
                return .success(1)
            case .failure(let error):
                return .failure(error)
            }
        }
        return valueOrErrno { recvmmsg(fd, UnsafeMutableRawPointer(messages), count, flags, nil) }
    }
}
