// The reactor's view of <sys/epoll.h> and <sys/eventfd.h>, which Swift's
// Glibc module does not import: the constants and `struct epoll_event`
// (`EpollEvent`, packed on x86_64) come from the generated bindings (specs:
// the [epoll] and [eventfd] groups of constants.spec, epoll_event in
// structs.spec), verified against the C compiler on every architecture; the
// functions come from the CSockSystem target, through the syscall table.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// Constants and the `struct epoll_event` layout of <sys/epoll.h> and
/// <sys/eventfd.h>, which Swift's Glibc module does not import.
internal enum EpollDeclarations {
    /// `EPOLLIN`: readable.
    static var readable: UInt32 { UInt32(bitPattern: SockBindings.EPOLLIN) }
    /// `EPOLLPRI`: urgent data.
    static var priority: UInt32 { UInt32(bitPattern: SockBindings.EPOLLPRI) }
    /// `EPOLLOUT`: writable.
    static var writable: UInt32 { UInt32(bitPattern: SockBindings.EPOLLOUT) }
    /// `EPOLLERR`: an error is pending (always reported).
    static var error: UInt32 { UInt32(bitPattern: SockBindings.EPOLLERR) }
    /// `EPOLLHUP`: hang-up, both directions shut (always reported).
    static var hangUp: UInt32 { UInt32(bitPattern: SockBindings.EPOLLHUP) }
    /// `EPOLLRDHUP`: the peer shut down its writing side.
    static var readHangUp: UInt32 { UInt32(bitPattern: SockBindings.EPOLLRDHUP) }
    /// `EPOLLONESHOT`.
    static var oneShot: UInt32 { UInt32(truncatingIfNeeded: SockBindings.EPOLLONESHOT) }
    /// `EPOLLET`: edge-triggered.
    static var edgeTriggered: UInt32 { UInt32(truncatingIfNeeded: SockBindings.EPOLLET) }

    /// `EPOLL_CTL_ADD`.
    static var add: CInt { SockBindings.EPOLL_CTL_ADD }
    /// `EPOLL_CTL_DEL`.
    static var delete: CInt { SockBindings.EPOLL_CTL_DEL }
    /// `EPOLL_CTL_MOD`.
    static var modify: CInt { SockBindings.EPOLL_CTL_MOD }

    /// `EPOLL_CLOEXEC`.
    static var closeOnExec: CInt { CInt(truncatingIfNeeded: SockBindings.EPOLL_CLOEXEC) }
    /// `EFD_CLOEXEC | EFD_NONBLOCK`.
    static var eventCounterFlags: CInt { CInt(truncatingIfNeeded: SockBindings.EFD_CLOEXEC | SockBindings.EFD_NONBLOCK) }

    /// `sizeof(struct epoll_event)`: 12 on x86_64 (packed), 16 elsewhere.
    static var eventStride: Int { MemoryLayout<EpollEvent>.stride }

    /// Writes one `struct epoll_event` at `slot` (any alignment).
    @inline(__always)
    static func store(events: UInt32, data: UInt64, at slot: UnsafeMutableRawPointer) {
        var event = EpollEvent()
        event.events = events
        event.data = [data]
        slot.storeBytes(of: event, as: EpollEvent.self)
    }

    /// Reads the `index`-th `struct epoll_event` of the array at `base`.
    @inline(__always)
    static func load(at base: UnsafeRawPointer, index: Int) -> (events: UInt32, data: UInt64) {
        let event = (base + index &* eventStride).loadUnaligned(as: EpollEvent.self)
        return (event.events, event.data[0])
    }
}
