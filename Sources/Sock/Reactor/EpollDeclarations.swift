// The one place that declares what Swift's Glibc module does not import:
// <sys/epoll.h> and <sys/eventfd.h> are not part of it (Swift 6.3.1), so
// neither their constants nor `struct epoll_event` nor the functions are
// visible. Sources/SockBindings is generated and owned by the generator, so
// the few values the reactor needs are written here, each with its header
// name, and the functions are looked up in the C library once (as
// Syscalls.swift does for `accept4` and `ppoll`).
//
// The values are the same on every Linux architecture Sock builds for
// (x86_64, arm64, riscv64, loongarch64): include/uapi/linux/eventpoll.h;
// EFD_* and EPOLL_CLOEXEC equal O_CLOEXEC / O_NONBLOCK, taken from the
// generated bindings.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// Constants and the `struct epoll_event` layout of <sys/epoll.h> and
/// <sys/eventfd.h>, which Swift's Glibc module does not import.
internal enum EpollDeclarations {
    /// `EPOLLIN`: readable.
    static let readable: UInt32 = 0x001
    /// `EPOLLPRI`: urgent data.
    static let priority: UInt32 = 0x002
    /// `EPOLLOUT`: writable.
    static let writable: UInt32 = 0x004
    /// `EPOLLERR`: an error is pending (always reported).
    static let error: UInt32 = 0x008
    /// `EPOLLHUP`: hang-up, both directions shut (always reported).
    static let hangUp: UInt32 = 0x010
    /// `EPOLLRDHUP`: the peer shut down its writing side.
    static let readHangUp: UInt32 = 0x2000
    /// `EPOLLONESHOT`.
    static let oneShot: UInt32 = 1 << 30
    /// `EPOLLET`: edge-triggered.
    static let edgeTriggered: UInt32 = 1 << 31

    /// `EPOLL_CTL_ADD`.
    static let add: CInt = 1
    /// `EPOLL_CTL_DEL`.
    static let delete: CInt = 2
    /// `EPOLL_CTL_MOD`.
    static let modify: CInt = 3

    /// `EPOLL_CLOEXEC` (= `O_CLOEXEC`).
    static var closeOnExec: CInt { SockBindings.SOCK_CLOEXEC }
    /// `EFD_CLOEXEC | EFD_NONBLOCK` (= `O_CLOEXEC | O_NONBLOCK`).
    static var eventCounterFlags: CInt { SockBindings.SOCK_CLOEXEC | SockBindings.SOCK_NONBLOCK }

    // `struct epoll_event { uint32_t events; epoll_data_t data; }` is packed
    // on x86_64 (12 bytes, data at offset 4) and naturally aligned elsewhere
    // (16 bytes, data at offset 8). Swift cannot declare a packed struct, so
    // event arrays are raw memory read and written with these offsets.
    #if arch(x86_64)
    /// `sizeof(struct epoll_event)`.
    static let eventStride = 12
    /// `offsetof(struct epoll_event, data)`.
    static let dataOffset = 4
    #else
    /// `sizeof(struct epoll_event)`.
    static let eventStride = 16
    /// `offsetof(struct epoll_event, data)`.
    static let dataOffset = 8
    #endif

    /// Writes one `struct epoll_event` at `slot`.
    @inline(__always)
    static func store(events: UInt32, data: UInt64, at slot: UnsafeMutableRawPointer) {
        slot.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
        withUnsafeBytes(of: data) { bytes in
            UnsafeMutableRawPointer(slot + dataOffset).copyMemory(from: bytes.baseAddress!, byteCount: 8)
        }
    }

    /// Reads the `index`-th `struct epoll_event` of the array at `base`.
    @inline(__always)
    static func load(at base: UnsafeRawPointer, index: Int) -> (events: UInt32, data: UInt64) {
        let slot = base + index &* eventStride
        return (slot.loadUnaligned(as: UInt32.self), slot.loadUnaligned(fromByteOffset: dataOffset, as: UInt64.self))
    }
}
