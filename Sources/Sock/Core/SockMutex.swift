// A `Synchronization.Mutex` whose lock ThreadSanitizer can see.
//
// Swift's Mutex takes an uncontended lock with an atomic operation inlined
// into the caller (instrumented under `-sanitize=thread`), but a contended
// one inside the kernel (a futex, in the precompiled Synchronization
// library): ThreadSanitizer then misses the acquisition and reports the
// accesses the lock orders as races. SockMutex adds the happens-before edges
// itself (`__tsan_acquire` / `__tsan_release` on the mutex's address,
// through CSockSystem); without ThreadSanitizer they are a call
// and a null check each.
import CSockSystem
import Synchronization

/// A mutex around a value, as `Synchronization.Mutex`, visible to
/// ThreadSanitizer.
package struct SockMutex<Value>: ~Copyable, @unchecked Sendable {
    // @unchecked: as Mutex, it hands out the value only under its lock.
    private let mutex: Mutex<Value>

    /// Creates a mutex protecting `value`.
    package init(_ value: sending Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with the value, under the lock.
    @inline(__always)
    package borrowing func withLock<Result: ~Copyable, Failure: Error>(
        _ body: (inout sending Value) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        // The mutex's own address (stable: it lives in the object that
        // holds it), taken without touching the value before the lock.
        let address = withUnsafePointer(to: mutex) { UnsafeRawPointer($0) }
        return try mutex.withLock { (value: inout sending Value) throws(Failure) -> sending Result in
            csock_tsan_acquire(address)
            defer { csock_tsan_release(address) }
            return try body(&value)
        }
    }
}
