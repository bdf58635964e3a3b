// The only place Sock calls the kernel's socket functions.
//
// One thin wrapper per system call. Each returns value-or-errno
// (`Result<_, SockErrno>`); `EINTR` is retried in one helper
// (`valueOrErrno`), except by `close` (never retried: on Linux the descriptor
// is released even when close reports EINTR), `poll` (its caller recomputes
// the remaining time) and `connect` (a restarted connect reports EALREADY;
// the caller treats EINTR like EINPROGRESS). No call site handles errno
// itself.
//
// Policy that must hold for every call lives here, in one place:
// - sockets are born SOCK_NONBLOCK | SOCK_CLOEXEC (`socket`, `socketpair`,
//   `accept4`);
// - every send passes MSG_NOSIGNAL (never SIGPIPE);
// - every recvmsg passes MSG_CMSG_CLOEXEC (received descriptors are
//   close-on-exec).
//
// Tests replace the system calls with a `SyscallTable` (see
// `SyscallTable.withInstalled`), as swift-system's Mocking does, to inject
// EINTR, EAGAIN or any errno deterministically. The hook costs one acquiring
// atomic load and a predicted branch per call when nothing is installed
// (a plain load on x86-64, `ldar` on arm64); the real path is then a direct
// call into the C library, with no closure, no allocation and no reference
// counting.
//
// Constants come from the generated bindings and are written `SockBindings.X`:
// Glibc declares the same names, so an unqualified use would be ambiguous.
#if canImport(Glibc)
import Glibc
#endif
import CSockSystem
import SockBindings
import Synchronization

// MARK: - Always-on flags

/// `SOCK_NONBLOCK | SOCK_CLOEXEC`, added to every socket Sock creates.
private var creationFlags: CInt { SockBindings.SOCK_NONBLOCK | SockBindings.SOCK_CLOEXEC }

/// `MSG_NOSIGNAL`, added to every send.
private var noSignalFlag: CInt { SockBindings.MSG_NOSIGNAL }

/// `MSG_CMSG_CLOEXEC`, added to every recvmsg.
private var receiveCloseOnExecFlag: CInt { SockBindings.MSG_CMSG_CLOEXEC }

// MARK: - The one errno helper

/// Runs `call` until it returns something other than −1 with `EINTR`, and
/// turns −1 into the thread's `errno`.
///
/// - Parameter retryingInterrupts: whether `EINTR` is retried (true) or
///   returned (false).
@inline(__always)
internal func valueOrErrno<Value: FixedWidthInteger>(
    retryingInterrupts: Bool = true,
    _ call: () -> Value
) -> Result<Value, SockErrno> {
    while true {
        let value = call()
        if _fastPath(value != -1) {
            return .success(value)
        }
        let error = SockErrno.current
        if retryingInterrupts && error.rawValue == SockBindings.EINTR {
            continue
        }
        return .failure(error)
    }
}

extension Result where Failure == SockErrno {
    /// The value, or the errno mapped to ``SockError`` (by ``SockError/init(errno:)``).
    @inline(__always)
    internal func mapped() throws(SockError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw SockError(error)
        }
    }
}

// MARK: - Replaceable table (tests)

/// The system calls Sock makes, as replaceable function values.
///
/// ``SyscallTable/system`` calls the C library. A test builds a table from it,
/// replaces the entries it wants to fake, and installs it for the duration of
/// a closure with ``withInstalled(_:_:)``. Function values receive exactly what
/// the kernel would (flags already include `MSG_NOSIGNAL`, `SOCK_CLOEXEC`, …)
/// and report failure the C way: set `errno`, return −1.
///
/// The table is process-wide, so a fake should act only on the descriptors of
/// its own test and pass every other call through to ``system``; tests that
/// install tables must not run concurrently with each other.
internal struct SyscallTable: Sendable {
    var socket: @Sendable (_ domain: CInt, _ type: CInt, _ proto: CInt) -> CInt
    var socketpair: @Sendable (_ domain: CInt, _ type: CInt, _ proto: CInt, _ fds: UnsafeMutablePointer<CInt>) -> CInt
    var bind: @Sendable (_ fd: CInt, _ address: UnsafeRawPointer, _ length: socklen_t) -> CInt
    var listen: @Sendable (_ fd: CInt, _ backlog: CInt) -> CInt
    var accept4: @Sendable (
        _ fd: CInt, _ address: UnsafeMutableRawPointer?, _ length: UnsafeMutablePointer<socklen_t>?, _ flags: CInt
    ) -> CInt
    var connect: @Sendable (_ fd: CInt, _ address: UnsafeRawPointer, _ length: socklen_t) -> CInt
    var recv: @Sendable (_ fd: CInt, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: CInt) -> Int
    var send: @Sendable (_ fd: CInt, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: CInt) -> Int
    var recvfrom: @Sendable (
        _ fd: CInt, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: CInt,
        _ address: UnsafeMutableRawPointer?, _ length: UnsafeMutablePointer<socklen_t>?
    ) -> Int
    var sendto: @Sendable (
        _ fd: CInt, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: CInt,
        _ address: UnsafeRawPointer?, _ length: socklen_t
    ) -> Int
    var recvmsg: @Sendable (_ fd: CInt, _ message: UnsafeMutableRawPointer, _ flags: CInt) -> Int
    var sendmsg: @Sendable (_ fd: CInt, _ message: UnsafeRawPointer, _ flags: CInt) -> Int
    var shutdown: @Sendable (_ fd: CInt, _ how: CInt) -> CInt
    var close: @Sendable (_ fd: CInt) -> CInt
    var poll: @Sendable (_ fds: UnsafeMutablePointer<pollfd>, _ count: nfds_t, _ timeout: CInt) -> CInt
    var ppoll: @Sendable (
        _ fds: UnsafeMutablePointer<pollfd>, _ count: nfds_t, _ timeout: UnsafePointer<timespec>?
    ) -> CInt
    var getsockname: @Sendable (
        _ fd: CInt, _ address: UnsafeMutableRawPointer, _ length: UnsafeMutablePointer<socklen_t>
    ) -> CInt
    var getpeername: @Sendable (
        _ fd: CInt, _ address: UnsafeMutableRawPointer, _ length: UnsafeMutablePointer<socklen_t>
    ) -> CInt
    var fcntl: @Sendable (_ fd: CInt, _ command: CInt, _ argument: CInt) -> CInt
    var getsockopt: @Sendable (
        _ fd: CInt, _ level: CInt, _ name: CInt, _ value: UnsafeMutableRawPointer?, _ length: UnsafeMutablePointer<socklen_t>
    ) -> CInt
    var setsockopt: @Sendable (
        _ fd: CInt, _ level: CInt, _ name: CInt, _ value: UnsafeRawPointer?, _ length: socklen_t
    ) -> CInt
    // The reactor's calls (Reactor/): epoll, and the eventfd that wakes it.
    // `event`/`events` point to `struct epoll_event` layouts (see
    // Reactor/EpollDeclarations.swift).
    var epollCreate1: @Sendable (_ flags: CInt) -> CInt
    var epollCtl: @Sendable (_ epfd: CInt, _ operation: CInt, _ fd: CInt, _ event: UnsafeMutableRawPointer?) -> CInt
    var epollWait: @Sendable (_ epfd: CInt, _ events: UnsafeMutableRawPointer, _ capacity: CInt, _ timeout: CInt) -> CInt
    var eventfd: @Sendable (_ initialValue: CUnsignedInt, _ flags: CInt) -> CInt
    var eventfdRead: @Sendable (_ fd: CInt, _ value: UnsafeMutablePointer<UInt64>) -> CInt
    var eventfdWrite: @Sendable (_ fd: CInt, _ value: UInt64) -> CInt
    // The batch calls (SyscallsBatch.swift); `messages` points to
    // `struct mmsghdr`s (`Mmsghdr`).
    var sendmmsg: @Sendable (_ fd: CInt, _ messages: UnsafeMutableRawPointer, _ count: CUnsignedInt, _ flags: CInt) -> CInt
    var recvmmsg: @Sendable (_ fd: CInt, _ messages: UnsafeMutableRawPointer, _ count: CUnsignedInt, _ flags: CInt) -> CInt
    // io_uring (IOUring/IOUringSyscalls.swift): `params` points to a
    // `struct io_uring_params`.
    var ioUringSetup: @Sendable (_ entries: UInt32, _ params: UnsafeMutableRawPointer) -> CInt
    var ioUringEnter: @Sendable (
        _ fd: CInt, _ toSubmit: UInt32, _ minComplete: UInt32, _ flags: UInt32, _ arg: UnsafeRawPointer?, _ argSize: Int
    ) -> CInt
    var ioUringRegister: @Sendable (_ fd: CInt, _ opcode: UInt32, _ arg: UnsafeMutableRawPointer?, _ count: UInt32) -> CInt

    /// The table that calls the C library (what runs when no table is installed).
    static let system = SyscallTable(
        socket: { Glibc.socket($0, $1, $2) },
        socketpair: { Glibc.socketpair($0, $1, $2, $3) },
        bind: { Glibc.bind($0, $1.assumingMemoryBound(to: sockaddr.self), $2) },
        listen: { Glibc.listen($0, $1) },
        accept4: { csock_accept4($0, $1, $2, $3) },
        connect: { Glibc.connect($0, $1.assumingMemoryBound(to: sockaddr.self), $2) },
        recv: { Glibc.recv($0, $1, $2, $3) },
        send: { Glibc.send($0, $1, $2, $3) },
        recvfrom: { Glibc.recvfrom($0, $1, $2, $3, $4?.assumingMemoryBound(to: sockaddr.self), $5) },
        sendto: { Glibc.sendto($0, $1, $2, $3, $4?.assumingMemoryBound(to: sockaddr.self), $5) },
        recvmsg: { Glibc.recvmsg($0, $1.assumingMemoryBound(to: msghdr.self), $2) },
        sendmsg: { Glibc.sendmsg($0, $1.assumingMemoryBound(to: msghdr.self), $2) },
        shutdown: { Glibc.shutdown($0, $1) },
        close: { Glibc.close($0) },
        poll: { Glibc.poll($0, $1, $2) },
        ppoll: { csock_ppoll($0, $1, $2) },
        getsockname: { Glibc.getsockname($0, $1.assumingMemoryBound(to: sockaddr.self), $2) },
        getpeername: { Glibc.getpeername($0, $1.assumingMemoryBound(to: sockaddr.self), $2) },
        fcntl: { Glibc.fcntl($0, $1, $2) },
        getsockopt: { Glibc.getsockopt($0, $1, $2, $3, $4) },
        setsockopt: { Glibc.setsockopt($0, $1, $2, $3, $4) },
        epollCreate1: { csock_epoll_create1($0) },
        epollCtl: { csock_epoll_ctl($0, $1, $2, $3) },
        epollWait: { csock_epoll_wait($0, $1, $2, $3) },
        eventfd: { csock_eventfd($0, $1) },
        eventfdRead: { csock_eventfd_read($0, $1) },
        eventfdWrite: { csock_eventfd_write($0, $1) },
        sendmmsg: { csock_sendmmsg($0, $1, $2, $3) },
        recvmmsg: { csock_recvmmsg($0, $1, $2, $3) },
        ioUringSetup: { systemIOUringSetup($0, $1) },
        ioUringEnter: { systemIOUringEnter($0, $1, $2, $3, $4, $5) },
        ioUringRegister: { systemIOUringRegister($0, $1, $2, $3) }
    )

    /// Runs `body` with `table` installed process-wide, then restores the
    /// previously installed table (or none).
    ///
    /// Installed tables are intentionally never freed (a few hundred bytes per
    /// installation, tests only): another thread may still be inside one of
    /// its functions when it is uninstalled.
    static func withInstalled<Result, Failure: Error>(
        _ table: SyscallTable,
        _ body: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let box = Unmanaged.passRetained(SyscallTableBox(table))
        let new = UInt(bitPattern: box.toOpaque())
        let previous = installedSyscallTable.exchange(new, ordering: .acquiringAndReleasing)
        defer { installedSyscallTable.store(previous, ordering: .releasing) }
        return try body()
    }
}

/// A heap home for an installed table, so that one word can point to it.
private final class SyscallTableBox: Sendable {
    let table: SyscallTable
    init(_ table: SyscallTable) { self.table = table }
}

/// The installed table as an unmanaged `SyscallTableBox` pointer, or 0.
private let installedSyscallTable = Atomic<UInt>(0)

/// Calls `real` when no table is installed, or `fake` with the installed table.
@inline(__always)
internal func dispatch<Value>(_ fake: (SyscallTable) -> Value, _ real: () -> Value) -> Value {
    let installed = installedSyscallTable.load(ordering: .acquiring)
    if _fastPath(installed == 0) {
        return real()
    }
    let box = Unmanaged<SyscallTableBox>.fromOpaque(UnsafeRawPointer(bitPattern: installed)!)
    return fake(box.takeUnretainedValue().table)
}

// MARK: - Wrappers

/// One thin wrapper per system call Sock makes. The corresponding C function
/// of each is its name.
internal enum Syscall {
    /// Creates a socket, always `SOCK_NONBLOCK | SOCK_CLOEXEC`. Returns the
    /// descriptor. The corresponding C function is `socket`.
    static func socket(_ domain: CInt, _ type: CInt, _ proto: CInt) -> Result<CInt, SockErrno> {
        let type = type | creationFlags
        return valueOrErrno {
            dispatch({ $0.socket(domain, type, proto) }, { Glibc.socket(domain, type, proto) })
        }
    }

    /// Creates a connected pair of sockets, always
    /// `SOCK_NONBLOCK | SOCK_CLOEXEC`. `fds` receives the two descriptors. The
    /// corresponding C function is `socketpair`.
    static func socketpair(
        _ domain: CInt, _ type: CInt, _ proto: CInt, _ fds: UnsafeMutablePointer<CInt>
    ) -> Result<CInt, SockErrno> {
        let type = type | creationFlags
        return valueOrErrno {
            dispatch({ $0.socketpair(domain, type, proto, fds) }, { Glibc.socketpair(domain, type, proto, fds) })
        }
    }

    /// Binds `fd` to the address at `address` (any `sockaddr_*` layout) of
    /// `length` bytes. The corresponding C function is `bind`.
    static func bind(_ fd: CInt, _ address: UnsafeRawPointer, _ length: socklen_t) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.bind(fd, address, length) }, {
                Glibc.bind(fd, address.assumingMemoryBound(to: sockaddr.self), length)
            })
        }
    }

    /// Marks `fd` as listening. The corresponding C function is `listen`.
    static func listen(_ fd: CInt, _ backlog: CInt) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.listen(fd, backlog) }, { Glibc.listen(fd, backlog) })
        }
    }

    /// Accepts a connection; the new descriptor is always
    /// `SOCK_NONBLOCK | SOCK_CLOEXEC`. The peer's address is written to
    /// `address` (capacity and result length in `length`) when given. The
    /// corresponding C function is `accept4`.
    static func accept4(
        _ fd: CInt, _ address: UnsafeMutableRawPointer?, _ length: UnsafeMutablePointer<socklen_t>?,
        _ flags: CInt = 0
    ) -> Result<CInt, SockErrno> {
        let flags = flags | creationFlags
        return valueOrErrno {
            dispatch({ $0.accept4(fd, address, length, flags) }, { csock_accept4(fd, address, length, flags) })
        }
    }

    /// Starts or completes a connection to `address`. `EISCONN` (already
    /// connected) is success. `EINTR` is *not* retried: the connection then
    /// continues asynchronously, so callers treat it like `EINPROGRESS`. The
    /// corresponding C function is `connect`.
    static func connect(_ fd: CInt, _ address: UnsafeRawPointer, _ length: socklen_t) -> Result<CInt, SockErrno> {
        let result = valueOrErrno(retryingInterrupts: false) {
            dispatch({ $0.connect(fd, address, length) }, {
                Glibc.connect(fd, address.assumingMemoryBound(to: sockaddr.self), length)
            })
        }
        if case .failure(let error) = result, error.rawValue == SockBindings.EISCONN {
            return .success(0)
        }
        return result
    }

    /// Receives up to `count` bytes into `buffer`. The corresponding C function
    /// is `recv`.
    static func recv(
        _ fd: CInt, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: CInt
    ) -> Result<Int, SockErrno> {
        valueOrErrno {
            dispatch({ $0.recv(fd, buffer, count, flags) }, { Glibc.recv(fd, buffer, count, flags) })
        }
    }

    /// Sends up to `count` bytes from `buffer`, always with `MSG_NOSIGNAL`.
    /// The corresponding C function is `send`.
    static func send(
        _ fd: CInt, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: CInt
    ) -> Result<Int, SockErrno> {
        let flags = flags | noSignalFlag
        return valueOrErrno {
            dispatch({ $0.send(fd, buffer, count, flags) }, { Glibc.send(fd, buffer, count, flags) })
        }
    }

    /// Receives up to `count` bytes and the sender's address (written to
    /// `address`, capacity and result length in `length`). The corresponding C
    /// function is `recvfrom`.
    static func recvfrom(
        _ fd: CInt, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: CInt,
        _ address: UnsafeMutableRawPointer?, _ length: UnsafeMutablePointer<socklen_t>?
    ) -> Result<Int, SockErrno> {
        valueOrErrno {
            dispatch({ $0.recvfrom(fd, buffer, count, flags, address, length) }, {
                Glibc.recvfrom(fd, buffer, count, flags, address?.assumingMemoryBound(to: sockaddr.self), length)
            })
        }
    }

    /// Sends up to `count` bytes to `address`, always with `MSG_NOSIGNAL`. The
    /// corresponding C function is `sendto`.
    static func sendto(
        _ fd: CInt, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: CInt,
        _ address: UnsafeRawPointer?, _ length: socklen_t
    ) -> Result<Int, SockErrno> {
        let flags = flags | noSignalFlag
        return valueOrErrno {
            dispatch({ $0.sendto(fd, buffer, count, flags, address, length) }, {
                Glibc.sendto(fd, buffer, count, flags, address?.assumingMemoryBound(to: sockaddr.self), length)
            })
        }
    }

    /// Receives a message into the `msghdr`-layout structure at `message`,
    /// always with `MSG_CMSG_CLOEXEC`. The corresponding C function is
    /// `recvmsg`.
    static func recvmsg(_ fd: CInt, _ message: UnsafeMutableRawPointer, _ flags: CInt) -> Result<Int, SockErrno> {
        let flags = flags | receiveCloseOnExecFlag
        return valueOrErrno {
            dispatch({ $0.recvmsg(fd, message, flags) }, {
                Glibc.recvmsg(fd, message.assumingMemoryBound(to: msghdr.self), flags)
            })
        }
    }

    /// Sends the message described by the `msghdr`-layout structure at
    /// `message`, always with `MSG_NOSIGNAL`. The corresponding C function is
    /// `sendmsg`.
    static func sendmsg(_ fd: CInt, _ message: UnsafeRawPointer, _ flags: CInt) -> Result<Int, SockErrno> {
        let flags = flags | noSignalFlag
        return valueOrErrno {
            dispatch({ $0.sendmsg(fd, message, flags) }, {
                Glibc.sendmsg(fd, message.assumingMemoryBound(to: msghdr.self), flags)
            })
        }
    }

    /// Shuts down reading, writing or both (`SHUT_RD`, `SHUT_WR`,
    /// `SHUT_RDWR`). The corresponding C function is `shutdown`.
    static func shutdown(_ fd: CInt, _ how: CInt) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.shutdown(fd, how) }, { Glibc.shutdown(fd, how) })
        }
    }

    /// Shuts down both directions (`SHUT_RDWR`). The corresponding C function
    /// is `shutdown`.
    static func shutdownBoth(_ fd: CInt) -> Result<CInt, SockErrno> {
        shutdown(fd, SockBindings.SHUT_RDWR)
    }

    /// Closes `fd`. Never retried: on Linux the descriptor is released even
    /// when close reports `EINTR`, and a retry could close a descriptor number
    /// another thread has just been given. The corresponding C function is
    /// `close`.
    static func close(_ fd: CInt) -> Result<CInt, SockErrno> {
        valueOrErrno(retryingInterrupts: false) {
            dispatch({ $0.close(fd) }, { Glibc.close(fd) })
        }
    }

    /// Waits for readiness. `EINTR` is returned, not retried, so that the
    /// caller can recompute the time left. The corresponding C function is
    /// `poll`.
    static func poll(_ fds: UnsafeMutablePointer<pollfd>, _ count: nfds_t, _ timeout: CInt) -> Result<CInt, SockErrno> {
        valueOrErrno(retryingInterrupts: false) {
            dispatch({ $0.poll(fds, count, timeout) }, { Glibc.poll(fds, count, timeout) })
        }
    }

    /// Waits for readiness for at most `timeout` (`nil`: without limit), with
    /// nanosecond resolution and the signal mask unchanged. `EINTR` is
    /// returned, not retried, so that the caller can recompute the time left.
    /// The corresponding C function is `ppoll`.
    static func ppoll(
        _ fds: UnsafeMutablePointer<pollfd>, _ count: nfds_t, _ timeout: UnsafePointer<timespec>?
    ) -> Result<CInt, SockErrno> {
        valueOrErrno(retryingInterrupts: false) {
            dispatch({ $0.ppoll(fds, count, timeout) }, { csock_ppoll(fds, count, timeout) })
        }
    }

    /// Reads the local address into `address` (capacity and result length in
    /// `length`; the kernel may report a length larger than the capacity). The
    /// corresponding C function is `getsockname`.
    static func getsockname(
        _ fd: CInt, _ address: UnsafeMutableRawPointer, _ length: UnsafeMutablePointer<socklen_t>
    ) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.getsockname(fd, address, length) }, {
                Glibc.getsockname(fd, address.assumingMemoryBound(to: sockaddr.self), length)
            })
        }
    }

    /// Reads the peer's address into `address` (capacity and result length in
    /// `length`). The corresponding C function is `getpeername`.
    static func getpeername(
        _ fd: CInt, _ address: UnsafeMutableRawPointer, _ length: UnsafeMutablePointer<socklen_t>
    ) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.getpeername(fd, address, length) }, {
                Glibc.getpeername(fd, address.assumingMemoryBound(to: sockaddr.self), length)
            })
        }
    }

    /// Performs a descriptor control command with an integer argument (such as
    /// `F_GETFL`, `F_SETFL`, `F_GETFD`, `F_SETFD`). The corresponding C
    /// function is `fcntl`.
    static func fcntl(_ fd: CInt, _ command: CInt, _ argument: CInt = 0) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.fcntl(fd, command, argument) }, { Glibc.fcntl(fd, command, argument) })
        }
    }

    /// Reads the option `name` at `level` into `value` (capacity and result
    /// length in `length`). The corresponding C function is `getsockopt`.
    static func getsockopt(
        _ fd: CInt, _ level: CInt, _ name: CInt,
        _ value: UnsafeMutableRawPointer?, _ length: UnsafeMutablePointer<socklen_t>
    ) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.getsockopt(fd, level, name, value, length) }, {
                Glibc.getsockopt(fd, level, name, value, length)
            })
        }
    }

    /// Writes the option `name` at `level` from the `length` bytes at
    /// `value`. The corresponding C function is `setsockopt`.
    static func setsockopt(
        _ fd: CInt, _ level: CInt, _ name: CInt, _ value: UnsafeRawPointer?, _ length: socklen_t
    ) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.setsockopt(fd, level, name, value, length) }, {
                Glibc.setsockopt(fd, level, name, value, length)
            })
        }
    }

    // MARK: Reactor (epoll, eventfd)

    /// Creates an epoll instance (always `EPOLL_CLOEXEC`). The corresponding
    /// C function is `epoll_create1`.
    static func epollCreate1() -> Result<CInt, SockErrno> {
        let flags = EpollDeclarations.closeOnExec
        return valueOrErrno {
            dispatch({ $0.epollCreate1(flags) }, { csock_epoll_create1(flags) })
        }
    }

    /// Adds, modifies or removes (`operation`) the interest of `epfd` in
    /// `fd`; `event` points to a `struct epoll_event` (nil for removal). The
    /// corresponding C function is `epoll_ctl`.
    static func epollCtl(
        _ epfd: CInt, _ operation: CInt, _ fd: CInt, _ event: UnsafeMutableRawPointer?
    ) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.epollCtl(epfd, operation, fd, event) }, { csock_epoll_ctl(epfd, operation, fd, event) })
        }
    }

    /// Waits for at most `timeout` milliseconds (−1: without limit) for events,
    /// written to `events` (room for `capacity` `struct epoll_event`s).
    /// `EINTR` is returned, not retried, so that the caller can recompute the
    /// time left. The corresponding C function is `epoll_wait`.
    static func epollWait(
        _ epfd: CInt, _ events: UnsafeMutableRawPointer, _ capacity: CInt, _ timeout: CInt
    ) -> Result<CInt, SockErrno> {
        valueOrErrno(retryingInterrupts: false) {
            dispatch({ $0.epollWait(epfd, events, capacity, timeout) }, { csock_epoll_wait(epfd, events, capacity, timeout) })
        }
    }

    /// Creates an event counter descriptor (always non-blocking and
    /// close-on-exec). The corresponding C function is `eventfd`.
    static func eventfd(_ initialValue: CUnsignedInt = 0) -> Result<CInt, SockErrno> {
        let flags = EpollDeclarations.eventCounterFlags
        return valueOrErrno {
            dispatch({ $0.eventfd(initialValue, flags) }, { csock_eventfd(initialValue, flags) })
        }
    }

    /// Reads and resets an eventfd's counter into `value` (`EAGAIN` when it
    /// is zero). The corresponding C function is `eventfd_read`.
    static func eventfdRead(_ fd: CInt, _ value: UnsafeMutablePointer<UInt64>) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.eventfdRead(fd, value) }, { csock_eventfd_read(fd, value) })
        }
    }

    /// Adds `value` to an eventfd's counter, waking its pollers. Only for
    /// eventfds — never a socket. The corresponding C function is
    /// `eventfd_write`.
    static func eventfdWrite(_ fd: CInt, _ value: UInt64) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.eventfdWrite(fd, value) }, { csock_eventfd_write(fd, value) })
        }
    }

    // MARK: io_uring

    /// Creates an io_uring with room for `entries` submissions; `params`
    /// (a `struct io_uring_params`) carries the flags in and the sizes,
    /// features and mmap offsets out. The corresponding system call is
    /// `io_uring_setup`.
    static func ioUringSetup(_ entries: UInt32, _ params: UnsafeMutableRawPointer) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.ioUringSetup(entries, params) }, { systemIOUringSetup(entries, params) })
        }
    }

    /// Submits `toSubmit` entries and, with `IORING_ENTER_GETEVENTS`, waits
    /// for `minComplete` completions. Returns the number submitted. `EINTR`
    /// is retried (a wait that was interrupted before submitting anything
    /// submits nothing). The corresponding system call is `io_uring_enter`.
    static func ioUringEnter(
        _ fd: CInt, _ toSubmit: UInt32, _ minComplete: UInt32, _ flags: UInt32,
        _ arg: UnsafeRawPointer? = nil, _ argSize: Int = 0
    ) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.ioUringEnter(fd, toSubmit, minComplete, flags, arg, argSize) }, {
                systemIOUringEnter(fd, toSubmit, minComplete, flags, arg, argSize)
            })
        }
    }

    /// Registers resources with, or asks something of, an io_uring
    /// (`IORING_REGISTER_*`). The corresponding system call is
    /// `io_uring_register`.
    static func ioUringRegister(
        _ fd: CInt, _ opcode: UInt32, _ arg: UnsafeMutableRawPointer?, _ count: UInt32
    ) -> Result<CInt, SockErrno> {
        valueOrErrno {
            dispatch({ $0.ioUringRegister(fd, opcode, arg, count) }, { systemIOUringRegister(fd, opcode, arg, count) })
        }
    }
}
