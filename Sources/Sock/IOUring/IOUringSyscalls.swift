// The three io_uring system calls. The C library has no wrappers for them
// (liburing does, and Sock does not depend on it), so they go through
// `syscall(2)` with their numbers, which are the same on every architecture
// (425, 426, 427: they were added after the syscall tables were unified).
//
// `syscall` is variadic and Swift cannot import it; like `accept4` and
// `ppoll` in Core/Syscalls.swift it is looked up once in the C library and
// called with a fixed signature (glibc's `syscall` is an assembly stub that
// moves its integer arguments into the kernel's registers, so calling it
// with six `long` arguments is what a C caller passing six integers does).
#if canImport(Glibc)
import Glibc
#endif

/// io_uring system call numbers (`__NR_io_uring_*`), identical on x86-64,
/// arm64, riscv64 and loongarch64.
internal enum IOUringSyscallNumber {
    /// `__NR_io_uring_setup`.
    static let setup: CLong = 425
    /// `__NR_io_uring_enter`.
    static let enter: CLong = 426
    /// `__NR_io_uring_register`.
    static let register: CLong = 427
}

private typealias SyscallFunction = @convention(c) (CLong, CLong, CLong, CLong, CLong, CLong, CLong) -> CLong

private let syscallFunction = libcFunction("syscall", as: SyscallFunction.self)

/// Makes system call `number` with up to six integer arguments; −1 with
/// `errno` ENOSYS when the C library has no `syscall` (it always has).
private func rawSyscall(
    _ number: CLong, _ a: CLong = 0, _ b: CLong = 0, _ c: CLong = 0, _ d: CLong = 0, _ e: CLong = 0, _ f: CLong = 0
) -> CLong {
    guard let syscallFunction else {
        errno = ENOSYS
        return -1
    }
    return syscallFunction(number, a, b, c, d, e, f)
}

/// `io_uring_setup(entries, params)`: the ring's descriptor, or −1 and errno.
internal func systemIOUringSetup(_ entries: UInt32, _ params: UnsafeMutableRawPointer) -> CInt {
    CInt(truncatingIfNeeded: rawSyscall(IOUringSyscallNumber.setup, CLong(entries), CLong(Int(bitPattern: params))))
}

/// `io_uring_enter(fd, toSubmit, minComplete, flags, arg, argSize)`: the
/// number of entries submitted, or −1 and errno.
internal func systemIOUringEnter(
    _ fd: CInt, _ toSubmit: UInt32, _ minComplete: UInt32, _ flags: UInt32, _ arg: UnsafeRawPointer?, _ argSize: Int
) -> CInt {
    CInt(truncatingIfNeeded: rawSyscall(
        IOUringSyscallNumber.enter, CLong(fd), CLong(toSubmit), CLong(minComplete), CLong(flags),
        CLong(Int(bitPattern: arg)), CLong(argSize)))
}

/// `io_uring_register(fd, opcode, arg, count)`: an opcode-specific result,
/// or −1 and errno.
internal func systemIOUringRegister(
    _ fd: CInt, _ opcode: UInt32, _ arg: UnsafeMutableRawPointer?, _ count: UInt32
) -> CInt {
    CInt(truncatingIfNeeded: rawSyscall(
        IOUringSyscallNumber.register, CLong(fd), CLong(opcode), CLong(Int(bitPattern: arg)), CLong(count)))
}
