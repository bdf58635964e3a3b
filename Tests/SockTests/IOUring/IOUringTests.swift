// The io_uring ring (IOUring/): NOP round trips, the probe, a full
// submission queue, and the fallback when setup or the probe fails (faked
// through the syscall table).
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

/// Whether this process may set up an io_uring at all (tests that need a real
/// ring are skipped, with the reason, where it may not).
private let ringAvailability: Result<IOUringSupport, IOUringUnavailability> = IOUringSupport.current()
private var ringAvailable: Bool { if case .success = ringAvailability { true } else { false } }

extension RuntimeCoreTests {
    @Suite("io_uring: the ring, the probe and the fallback to epoll")
    struct IOUringTests {
        @Test("A NOP goes through the ring and comes back with its user data",
              .enabled(if: ringAvailable, "io_uring is not usable here"))
        func nopRoundTrip() throws {
            let ring = try IOUring(entries: 4)
            defer { ring.close() }
            #expect(ring.sqEntries == 4)
            #expect(ring.cqEntries >= 8)
            let entry = try #require(ring.nextEntry())
            entry.pointee.opcode = UInt8(SockBindings.IORING_OP_NOP)
            entry.pointee.user_data = 0xfeed_beef_0000_0042
            #expect(try ring.submit(waitingFor: 1) == 1)
            var seen: [(UInt64, Int32)] = []
            #expect(ring.reap { seen.append(($0, $1)); _ = $2 } == 1)
            #expect(seen.count == 1)
            #expect(seen.first?.0 == 0xfeed_beef_0000_0042)
            #expect(seen.first?.1 == 0)
            #expect(ring.readyCompletions == 0)
        }

        @Test("The probe reports the operations a reactor needs (Linux 6.1 has them all)",
              .enabled(if: ringAvailable, "io_uring is not usable here"))
        func probe() throws {
            let ring = try IOUring(entries: 2)
            defer { ring.close() }
            let support = try IOUringSupport.probe(ring)
            for opcode in IOUringSupport.reactorOperations {
                #expect(support.supports(opcode), "opcode \(opcode)")
            }
            #expect(support.lastOperation >= UInt8(SockBindings.IORING_OP_SEND))
            #expect(!support.supports(CInt(support.lastOperation) + 1))
            #expect(!support.supports(-1) && !support.supports(256))
            #expect(support.has(feature: SockBindings.IORING_FEAT_NODROP))
            #expect(ring.has(feature: SockBindings.IORING_FEAT_SINGLE_MMAP) == ring.singleMapping)
        }

        @Test("A full submission queue refuses an entry; after submitting, 100 NOPs pass through 8 slots",
              .enabled(if: ringAvailable, "io_uring is not usable here"))
        func submissionQueueFull() throws {
            let ring = try IOUring(entries: 8)
            defer { ring.close() }
            for index in 0..<8 {
                let entry = try #require(ring.nextEntry())
                entry.pointee.opcode = UInt8(SockBindings.IORING_OP_NOP)
                entry.pointee.user_data = UInt64(index)
            }
            #expect(ring.nextEntry() == nil)
            #expect(ring.freeSubmissionSlots == 0)
            #expect(try ring.submit() == 8)
            #expect(ring.freeSubmissionSlots == 8)

            var completed = Set<UInt64>()
            var next: UInt64 = 8
            while completed.count < 100 {
                ring.reap { userData, result, _ in
                    #expect(result == 0)
                    completed.insert(userData)
                }
                while next < 100, let entry = ring.nextEntry() {
                    entry.pointee.opcode = UInt8(SockBindings.IORING_OP_NOP)
                    entry.pointee.user_data = next
                    next += 1
                }
                try ring.submit(waitingFor: completed.count < 100 ? 1 : 0)
            }
            #expect(completed == Set(0..<100))
            #expect(ring.overflowCount == 0)
        }

        @Test("ENOSYS from io_uring_setup: .automatic falls back to epoll, .ioUring throws naming the cause")
        func setupENOSYS() throws {
            try withSyscalls({ table in
                table.ioUringSetup = { _, _ in errno = SockBindings.ENOSYS; return -1 }
            }) {
                let selection = try ReactorBackend.automatic.select()
                #expect(selection.backend == .epoll)
                #expect(selection.fallbackReason == .notImplemented)
                #expect(selection.fallbackReason?.description.contains("ENOSYS") == true)
                #expect(throws: SockError(code: .notSupported, errnoCode: SockBindings.ENOSYS)) {
                    try ReactorBackend.ioUring.select()
                }
                #expect(try ReactorBackend.epoll.select().backend == .epoll)
                try expectReactorFallback(to: .notImplemented,
                                          error: SockError(code: .notSupported, errnoCode: SockBindings.ENOSYS))
            }
        }

        /// A reactor asked for `.automatic` runs on epoll with `reason`; one
        /// asked for `.ioUring` is not created and throws `error`.
        func expectReactorFallback(to reason: IOUringUnavailability, error: SockError) throws {
            let reactor = try Reactor(backend: .automatic)
            defer { reactor.shutdown() }
            #expect(reactor.backend == .epoll)
            #expect(reactor.fallbackReason == reason)
            #expect(reactor.driver == nil)
            #expect(throws: error) { try Reactor(backend: .ioUring) }
        }

        @Test("EPERM from io_uring_setup (seccomp, io_uring_disabled): fallback, and a permission error for .ioUring")
        func setupEPERM() throws {
            try withSyscalls({ table in
                table.ioUringSetup = { _, _ in errno = SockBindings.EPERM; return -1 }
            }) {
                let selection = try ReactorBackend.automatic.select()
                #expect(selection.backend == .epoll)
                guard case .notPermitted(let sysctl) = selection.fallbackReason else {
                    Issue.record("fallback reason \(String(describing: selection.fallbackReason))")
                    return
                }
                #expect(sysctl == IOUringUnavailability.disabledSysctl())
                #expect(selection.fallbackReason?.description.contains("EPERM") == true)
                #expect(throws: SockError(code: .permissionDenied, errnoCode: SockBindings.EPERM)) {
                    try ReactorBackend.ioUring.select()
                }
                try expectReactorFallback(to: .notPermitted(sysctl: sysctl),
                                          error: SockError(code: .permissionDenied, errnoCode: SockBindings.EPERM))
            }
        }

        @Test("A probe that lacks an operation: fallback naming the operation, EOPNOTSUPP for .ioUring",
              .enabled(if: ringAvailable, "io_uring is not usable here"))
        func probeLacksOperation() throws {
            try withSyscalls({ table in
                table.ioUringRegister = { fd, opcode, arg, count in
                    let result = SyscallTable.system.ioUringRegister(fd, opcode, arg, count)
                    // Clear IO_URING_OP_SUPPORTED of IORING_OP_ASYNC_CANCEL.
                    if result == 0 && opcode == UInt32(SockBindings.IORING_REGISTER_PROBE), let arg {
                        let ops = arg + MemoryLayout<IOUringProbe>.size
                        let offset = Int(SockBindings.IORING_OP_ASYNC_CANCEL) * MemoryLayout<IOUringProbeOp>.size
                        var op = ops.load(fromByteOffset: offset, as: IOUringProbeOp.self)
                        op.flags = 0
                        ops.storeBytes(of: op, toByteOffset: offset, as: IOUringProbeOp.self)
                    }
                    return result
                }
            }) {
                let selection = try ReactorBackend.automatic.select()
                #expect(selection.backend == .epoll)
                #expect(selection.fallbackReason == .missingOperation(opcode: SockBindings.IORING_OP_ASYNC_CANCEL))
                #expect(selection.fallbackReason?.description.contains("IORING_OP_ASYNC_CANCEL") == true)
                #expect(throws: SockError(code: .notSupported, errnoCode: SockBindings.EOPNOTSUPP)) {
                    try ReactorBackend.ioUring.select()
                }
                try expectReactorFallback(to: .missingOperation(opcode: SockBindings.IORING_OP_ASYNC_CANCEL),
                                          error: SockError(code: .notSupported, errnoCode: SockBindings.EOPNOTSUPP))
            }
        }

        @Test("A probe that fails (EINVAL, kernels before 5.6): fallback with the probe's errno")
        func probeFails() throws {
            try withSyscalls({ table in
                table.ioUringRegister = { _, _, _, _ in errno = SockBindings.EINVAL; return -1 }
            }) {
                let selection = try ReactorBackend.automatic.select()
                if case .failure(.notImplemented) = ringAvailability { return }
                if case .failure(.notPermitted) = ringAvailability { return }
                #expect(selection.backend == .epoll)
                #expect(selection.fallbackReason == .probeFailed(SockErrno(rawValue: SockBindings.EINVAL)))
            }
        }

        @Test("Without faults, .automatic picks io_uring where it is usable",
              .enabled(if: ringAvailable, "io_uring is not usable here"))
        func automaticPicksIOUring() throws {
            let selection = try ReactorBackend.automatic.select()
            #expect(selection.backend == .ioUring)
            #expect(selection.fallbackReason == nil)
            #expect(selection.support?.supports(SockBindings.IORING_OP_RECV) == true)
            let reactor = try Reactor(backend: .automatic)
            defer { reactor.shutdown() }
            #expect(reactor.backend == .ioUring)
            #expect(reactor.fallbackReason == nil)
        }

        @Test("Setup flags an older kernel rejects (EINVAL) are dropped and setup retried",
              .enabled(if: ringAvailable, "io_uring is not usable here"))
        func setupRetriesWithoutOptionalFlags() throws {
            let attempts = Counter()
            try withSyscalls({ table in
                table.ioUringSetup = { entries, params in
                    if attempts.increment() == 1 { errno = SockBindings.EINVAL; return -1 }
                    return SyscallTable.system.ioUringSetup(entries, params)
                }
            }) {
                let ring = try IOUring(entries: 2)
                ring.close()
            }
            #expect(attempts.value == 2)
        }
    }
}
