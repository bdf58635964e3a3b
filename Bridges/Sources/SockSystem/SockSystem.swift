// swift-system ⇄ Sock: FileDescriptor ⇄ Descriptor, Errno ⇄ SockError.
//
// Ownership, in one line each:
//   FileDescriptor(taking: descriptor)         the FileDescriptor's holder closes; Sock never will
//   Descriptor(adopting: fileDescriptor)       the Descriptor closes; never close the FileDescriptor
//   descriptor.withSystemFileDescriptor { }    borrowed for the closure; nobody closes it there
import Sock
import SystemPackage

extension FileDescriptor {
    /// Takes the descriptor number out of `descriptor`: the consuming
    /// conversion. **You close the result** (`try fd.close()`); Sock never
    /// will.
    ///
    /// `descriptor` (and any socket or connection holding it) counts as
    /// closed afterwards: its operations throw `SockError.closed`, and
    /// neither its `close()` nor its `deinit` touch the number. See
    /// `Descriptor.takeOwnership()`.
    ///
    /// ```swift
    /// let (a, b) = try UnixConn.pair()
    /// let fd = try FileDescriptor(taking: a.descriptor)
    /// defer { try? fd.close() }
    /// _ = try fd.writeAll("hi".utf8)   // b reads "hi"
    /// ```
    ///
    /// - Throws: `SockError.closed` if `descriptor` was already closed or
    ///   handed over; a `SockError` with `EBUSY` while an operation is in
    ///   flight on it on another thread (nothing changes).
    public init(taking descriptor: Descriptor) throws(SockError) {
        self.init(rawValue: try descriptor.takeOwnership())
    }
}

extension Descriptor {
    /// Takes ownership of `fileDescriptor`: **the `Descriptor` closes it**
    /// (on `close()`, or when the last reference goes away). Do not close
    /// `fileDescriptor`, or any copy of it, yourself afterwards.
    ///
    /// Nothing is checked or changed: Sock's operations expect a
    /// non-blocking socket, so call `setNonBlocking()` (and
    /// `setCloseOnExec()`) if it came from elsewhere.
    ///
    /// ```swift
    /// let fd = try FileDescriptor.open("/etc/hostname", .readOnly)
    /// let descriptor = Descriptor(adopting: fd)   // closes fd when done
    /// ```
    public convenience init(adopting fileDescriptor: FileDescriptor) {
        self.init(adopting: fileDescriptor.rawValue)
    }

    /// Calls `body` with the descriptor as a `FileDescriptor`: the borrowing
    /// conversion. The number stays valid (not closed, not reused) until
    /// `body` returns, even if another thread calls `close()` meanwhile;
    /// **nobody closes it in `body`**: do not call `close()` on the
    /// `FileDescriptor`, and do not keep it past `body`.
    ///
    /// ```swift
    /// let size = try descriptor.withSystemFileDescriptor { fd in
    ///     try fd.seek(offset: 0, from: .end)
    /// }
    /// ```
    ///
    /// - Throws: `SockError.closed` if the descriptor is closed, or what
    ///   `body` throws (swift-system's functions throw `Errno`).
    public func withSystemFileDescriptor<Result>(_ body: (FileDescriptor) throws -> Result) throws -> Result {
        let outcome = try withFileDescriptor { (number: CInt) throws(SockError) -> Swift.Result<Result, any Error> in
            Swift.Result { try body(FileDescriptor(rawValue: number)) }
        }
        return try outcome.get()
    }
}

extension SockError {
    /// The `SockError` of a swift-system `Errno`, mapped as Sock maps the
    /// kernel's errno everywhere (`ECONNREFUSED` is
    /// `SockError.connectionRefused`, `EAGAIN` `SockError.wouldBlock`,
    /// an errno without a named code is `SockError.Code.other`), keeping
    /// the number.
    public init(_ errno: Errno) {
        self.init(errno: errno.rawValue)
    }

    /// The error as swift-system's `Errno`, or `nil` for the codes that do
    /// not come from an errno (`SockError.Code.unknownNetwork`,
    /// `SockError.Code.endOfStream`, whose `errnoCode` is 0).
    public var systemErrno: Errno? {
        errnoCode == 0 ? nil : Errno(rawValue: errnoCode)
    }
}

extension Errno {
    /// The errno `error` carries (`SockError.errnoCode`), or `nil` for the
    /// codes that do not come from an errno (`SockError.Code.unknownNetwork`,
    /// `SockError.Code.endOfStream`).
    public init?(_ error: SockError) {
        guard error.errnoCode != 0 else { return nil }
        self.init(rawValue: error.errnoCode)
    }
}
