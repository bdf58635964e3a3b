// The address-carrying socket calls (bind, listen, connect, getsockname,
// getpeername, accept, recvfrom, sendto) on a Descriptor, generic over the
// address type so nothing is boxed. This file and Descriptor.swift are where
// the socket types touch raw pointers; every socket type (NetSocket, TCP,
// Unix, and UDP if it likes) goes through these.
//
// Also `AnySocketAddress.init(_:)` wrapping any concrete address.
//
// The helpers have deliberately specific names (`bindSocket`, `connectSocket`,
// …) so that they cannot collide with other internal extensions of
// Descriptor.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

extension Descriptor {
    /// Runs `body`; if it throws, closes this descriptor (ignoring the close's
    /// own error) and rethrows. How every constructor that creates a socket
    /// and then binds, connects, listens or sets defaults on it leaves nothing
    /// open when a step fails.
    @inline(__always)
    internal func closingOnError<Result>(_ body: () throws(SockError) -> Result) throws(SockError) -> Result {
        do {
            return try body()
        } catch {
            _ = try? close()
            throw error
        }
    }

    /// Binds to `address`. The corresponding C function is `bind`.
    internal func bindSocket<Address: SocketAddress>(to address: Address) throws(SockError) {
        try withFileDescriptor { fd throws(SockError) in
            try address.withSockaddrPointer { (pointer, length) throws(SockError) in
                _ = try Syscall.bind(fd, UnsafeRawPointer(pointer), length).mapped()
            }
        }
    }

    /// Marks the socket as listening.
    ///
    /// - Throws: ``SockError/invalidParameter`` for a negative backlog (a
    ///   backlog above `Int32.max` is clamped; the kernel caps it at
    ///   `net.core.somaxconn` anyway).
    ///
    /// The corresponding C function is `listen`.
    internal func listenSocket(backlog: Int) throws(SockError) {
        guard backlog >= 0 else { throw .invalidParameter }
        let value = CInt(clamping: backlog)
        try withFileDescriptor { fd throws(SockError) in
            _ = try Syscall.listen(fd, value).mapped()
        }
    }

    /// Connects to `address` (see ``Descriptor/connect(to:length:deadline:)``:
    /// without a deadline, would-block means "in progress"; with one, waits
    /// with `poll` and one read of `SO_ERROR`).
    internal func connectSocket<Address: SocketAddress>(
        to address: Address, deadline: Deadline
    ) throws(SockError) -> IOResult<Void> {
        try address.withSockaddrPointer { (pointer, length) throws(SockError) -> IOResult<Void> in
            try connect(to: UnsafeRawPointer(pointer), length: length, deadline: deadline)
        }
    }

    /// The socket's own address (`getsockname`) in the raw storage, with the
    /// kernel's length.
    internal func rawSocketName() throws(SockError) -> (RawSockaddrAny, socklen_t) {
        var storage = RawSockaddrAny()
        var length = socklen_t(MemoryLayout<RawSockaddrAny>.size)
        try withFileDescriptor { fd throws(SockError) in
            try withUnsafeMutableBytes(of: &storage) { raw throws(SockError) in
                _ = try Syscall.getsockname(fd, raw.baseAddress!, &length).mapped()
            }
        }
        return (storage, length)
    }

    /// The socket's own address, decoded as `Address`. A Unix socket that is
    /// not bound reports the unnamed address.
    ///
    /// The corresponding C function is `getsockname`.
    internal func socketName<Address: SocketAddress>(as type: Address.Type = Address.self) throws(SockError) -> Address {
        let (storage, length) = try rawSocketName()
        return try decodeSocketAddress(storage, length: length)
    }

    /// The peer's address, decoded as `Address`.
    ///
    /// - Throws: ``SockError/notConnected`` when there is no peer.
    ///
    /// The corresponding C function is `getpeername`.
    internal func peerName<Address: SocketAddress>(as type: Address.Type = Address.self) throws(SockError) -> Address {
        var storage = RawSockaddrAny()
        var length = socklen_t(MemoryLayout<RawSockaddrAny>.size)
        try withFileDescriptor { fd throws(SockError) in
            try withUnsafeMutableBytes(of: &storage) { raw throws(SockError) in
                _ = try Syscall.getpeername(fd, raw.baseAddress!, &length).mapped()
            }
        }
        return try decodeSocketAddress(storage, length: length)
    }

    /// Accepts a connection (non-blocking and close-on-exec) and decodes the
    /// peer's address as `Address`; waits until `deadline` (see
    /// ``Descriptor/accept(address:length:deadline:)``).
    internal func acceptConnection<Address: SocketAddress>(
        deadline: Deadline, as type: Address.Type = Address.self
    ) throws(SockError) -> IOResult<(Descriptor, Address)> {
        var storage = RawSockaddrAny()
        var length = socklen_t(MemoryLayout<RawSockaddrAny>.size)
        let accepted = try withUnsafeMutableBytes(of: &storage) { raw throws(SockError) in
            try accept(address: raw.baseAddress!, length: &length, deadline: deadline)
        }
        switch accepted {
        case .wouldBlock:
            return .wouldBlock
        case .completed(let descriptor):
            return .completed(try descriptor.closingOnError { () throws(SockError) in
                (descriptor, try decodeSocketAddress(storage, length: length))
            })
        }
    }

    /// Receives one message and the sender's raw address (`recvfrom`), waiting
    /// until `deadline`. The length is 0 when the sender has no address (an
    /// unbound Unix socket).
    internal func receiveFrom(
        into buffer: UnsafeMutableRawBufferPointer, flags: CInt = 0, deadline: Deadline,
        address storage: inout RawSockaddrAny
    ) throws(SockError) -> IOResult<(Int, socklen_t)> {
        var length = socklen_t(MemoryLayout<RawSockaddrAny>.size)
        let received = try withUnsafeMutableBytes(of: &storage) { raw throws(SockError) -> IOResult<Int> in
            try adaptive(events: SockBindings.POLLIN, deadline: deadline) { fd in
                length = socklen_t(raw.count)
                return Attempt(Syscall.recvfrom(fd, buffer.baseAddress, buffer.count, flags, raw.baseAddress, &length))
            }
        }
        switch received {
        case .wouldBlock: return .wouldBlock
        case .completed(let count): return .completed((count, length))
        }
    }

    /// Sends one message to `address` (`sendto`, always `MSG_NOSIGNAL`),
    /// waiting for room until `deadline`.
    internal func sendTo<Address: SocketAddress>(
        _ buffer: UnsafeRawBufferPointer, address: Address, flags: CInt = 0, deadline: Deadline
    ) throws(SockError) -> IOResult<Int> {
        try address.withSockaddrPointer { (pointer, length) throws(SockError) -> IOResult<Int> in
            try adaptive(events: SockBindings.POLLOUT, deadline: deadline) { fd in
                Attempt(Syscall.sendto(fd, buffer.baseAddress, buffer.count, flags, UnsafeRawPointer(pointer), length))
            }
        }
    }
}

/// Decodes a kernel-filled address. A length shorter than the family field
/// (the kernel's answer for an unbound Unix peer) is read as an unnamed
/// `AF_UNIX` address, so Unix callers get ``SockaddrUnix/init()``.
internal func decodeSocketAddress<Address: SocketAddress>(
    _ storage: RawSockaddrAny, length: socklen_t
) throws(SockError) -> Address {
    if Int(length) < MemoryLayout<UInt16>.size {
        var unnamed = RawSockaddrAny()
        withUnsafeMutableBytes(of: &unnamed) { raw in
            raw.storeBytes(of: UInt16(truncatingIfNeeded: SockBindings.AF_UNIX), as: UInt16.self)
        }
        return try Address(decoding: unnamed, length: socklen_t(MemoryLayout<UInt16>.size))
    }
    return try Address(decoding: storage, length: length)
}

extension AnySocketAddress {
    /// Wraps any concrete address in the enum (an ``AnySocketAddress`` comes
    /// out equal). Decodes through the kernel layout, so it works for every
    /// conforming type without a dynamic cast.
    internal init<Address: SocketAddress>(_ address: Address) {
        self = address.withSockaddrPointer { (pointer, length) -> AnySocketAddress in
            let buffer = UnsafeRawBufferPointer(start: pointer, count: Int(length))
            // A conforming type hands over a valid address of its own family.
            return (try? AnySocketAddress(decoding: buffer, length: length)) ?? .unix(SockaddrUnix())
        }
    }
}
