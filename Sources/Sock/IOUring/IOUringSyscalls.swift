// The three io_uring system calls. The C library has no wrappers for them
// (liburing does, and Sock does not depend on it), so the CSockSystem target
// makes them with `syscall(2)` and the numbers of <sys/syscall.h>; Swift
// cannot call the variadic `syscall` itself.
import CSockSystem

/// `io_uring_setup(entries, params)`: the ring's descriptor, or −1 and errno.
internal func systemIOUringSetup(_ entries: UInt32, _ params: UnsafeMutableRawPointer) -> CInt {
    csock_io_uring_setup(entries, params)
}

/// `io_uring_enter(fd, toSubmit, minComplete, flags, arg, argSize)`: the
/// number of entries submitted, or −1 and errno.
internal func systemIOUringEnter(
    _ fd: CInt, _ toSubmit: UInt32, _ minComplete: UInt32, _ flags: UInt32, _ arg: UnsafeRawPointer?, _ argSize: Int
) -> CInt {
    csock_io_uring_enter(fd, toSubmit, minComplete, flags, arg, CUnsignedLong(argSize))
}

/// `io_uring_register(fd, opcode, arg, count)`: an opcode-specific result,
/// or −1 and errno.
internal func systemIOUringRegister(
    _ fd: CInt, _ opcode: UInt32, _ arg: UnsafeMutableRawPointer?, _ count: UInt32
) -> CInt {
    csock_io_uring_register(fd, opcode, arg, count)
}
