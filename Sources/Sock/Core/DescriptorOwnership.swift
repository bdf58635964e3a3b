// Handing a descriptor's number to code that will close it (SwiftNIO,
// swift-system, a C library): the Descriptor gives up ownership for good.
import SockBindings

extension Descriptor {
    /// Releases ownership of the descriptor number and returns it: from now on
    /// the caller closes it, and this `Descriptor` never will (neither
    /// ``close()`` nor `deinit` touch the number again).
    ///
    /// Afterwards the descriptor counts as closed: ``isClosed`` is `true` and
    /// every operation through it, or through a socket or connection that
    /// holds it, throws ``SockError/closed``. Use it to hand a socket Sock
    /// configured to another library that closes what it is given:
    ///
    /// ```swift
    /// let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
    /// try listener.setOption(.deferAccept, to: .seconds(1))
    /// let fd = try listener.descriptor.takeOwnership()   // yours to close now
    /// ```
    ///
    /// The transfer is atomic: it succeeds only while no operation is in
    /// flight on another thread, so the number cannot be closed or reused
    /// under a running operation.
    ///
    /// - Returns: The descriptor number, open; the caller must close it.
    /// - Throws: ``SockError/closed`` if the descriptor was already closed or
    ///   released; ``SockError/Code/other`` with `EBUSY` while an operation is
    ///   in flight on another thread (nothing changes; try again once it has
    ///   ended).
    public func takeOwnership() throws(SockError) -> CInt {
        switch releaseOwnership() {
        case .released: return rawValue
        case .alreadyClosed: throw .closed
        case .busy: throw SockError(errno: SockBindings.EBUSY)
        }
    }
}
