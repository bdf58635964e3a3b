#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

extension RuntimeCoreTests {
    @Suite("Syscalls: errno helper, policy flags and fakes")
    struct SyscallTests {
        @Test("EINTR injected three times into recv is retried; the data is returned")
        func eintrRetried() throws {
            let (a, b) = try streamPair()
            try writeByte(b, 7)
            let target = a.rawValue
            let calls = Counter()
            let result = try withSyscalls({ table in
                table.recv = { fd, buffer, count, flags in
                    if fd == target && calls.increment() <= 3 {
                        errno = SockBindings.EINTR
                        return -1
                    }
                    return SyscallTable.system.recv(fd, buffer, count, flags)
                }
            }) {
                try readByte(a)
            }
            #expect(result.0 == .completed(1))
            #expect(result.1 == 7)
            #expect(calls.value == 4)
        }

        @Test("the errno helper retries EINTR only when asked")
        func helperRetryPolicy() {
            let calls = Counter()
            let retried = valueOrErrno { () -> CInt in
                if calls.increment() <= 2 { errno = SockBindings.EINTR; return -1 }
                return 42
            }
            #expect(retried == .success(42))
            #expect(calls.value == 3)

            let once = Counter()
            let notRetried = valueOrErrno(retryingInterrupts: false) { () -> CInt in
                once.increment()
                errno = SockBindings.EINTR
                return -1
            }
            #expect(notRetried == .failure(SockErrno(rawValue: SockBindings.EINTR)))
            #expect(once.value == 1)
        }

        @Test("close is never retried; EINTR from close(2) counts as closed")
        func closeNotRetried() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let target = a.rawValue
            let calls = Counter()
            try withSyscalls({ table in
                table.close = { fd in
                    if fd == target {
                        calls.increment()
                        _ = SyscallTable.system.close(fd)  // Linux releases it even on EINTR
                        errno = SockBindings.EINTR
                        return -1
                    }
                    return SyscallTable.system.close(fd)
                }
            }) {
                try a.close()
            }
            #expect(calls.value == 1)
            #expect(a.isClosed)
        }

        @Test("EAGAIN injected: a read without deadline reports would-block with 0 bytes")
        func eagainInjected() throws {
            let (a, b) = try streamPair()
            try writeByte(b, 1)  // data is there
            let target = a.rawValue
            let result = try withSyscalls({ table in
                table.recv = { fd, buffer, count, flags in
                    if fd == target { errno = SockBindings.EWOULDBLOCK; return -1 }
                    return SyscallTable.system.recv(fd, buffer, count, flags)
                }
            }) {
                try readByte(a).0
            }
            #expect(result == .wouldBlock)
            #expect(result.count == 0)
        }

        @Test("any errno injected is thrown through the one mapping, keeping its errno")
        func anyErrnoInjected() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let target = a.rawValue
            let caught = withSyscalls({ table in
                table.recv = { fd, buffer, count, flags in
                    if fd == target { errno = SockBindings.ECONNABORTED; return -1 }
                    return SyscallTable.system.recv(fd, buffer, count, flags)
                }
            }) { () -> SockError? in
                do throws(SockError) {
                    _ = try readByte(a).0
                    return nil
                } catch {
                    return error
                }
            }
            #expect(caught?.code == .connectionReset)
            #expect(caught?.errnoCode == SockBindings.ECONNABORTED)
        }

        @Test("every send passes MSG_NOSIGNAL; every recvmsg passes MSG_CMSG_CLOEXEC")
        func policyFlags() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let target = a.rawValue
            let sendFlags = Slot<CInt>()
            let recvmsgFlags = Slot<CInt>()
            try withSyscalls({ table in
                table.send = { fd, buffer, count, flags in
                    if fd == target { sendFlags.set(flags) }
                    return SyscallTable.system.send(fd, buffer, count, flags)
                }
                table.recvmsg = { fd, message, flags in
                    if fd == target { recvmsgFlags.set(flags) }
                    return SyscallTable.system.recvmsg(fd, message, flags)
                }
            }) {
                try writeByte(a, 1)
                var message = msghdr()
                _ = Syscall.recvmsg(target, &message, 0)
            }
            #expect((sendFlags.value ?? 0) & SockBindings.MSG_NOSIGNAL != 0)
            #expect((recvmsgFlags.value ?? 0) & SockBindings.MSG_CMSG_CLOEXEC != 0)
        }

        @Test("a write to a closed peer is connectionReset, not SIGPIPE")
        func noSigpipe() throws {
            let (a, b) = try streamPair()
            try b.close()
            let error = try #require(throws: SockError.self) { try writeByte(a, 1) }
            #expect(error.code == .connectionReset, "EPIPE or ECONNRESET, never SIGPIPE")
        }

        @Test("sockets, pairs and accepted sockets are born non-blocking and close-on-exec")
        func creationFlags() throws {
            let (a, b) = try streamPair()
            let (listener, port) = try boundTCP(listening: true)
            let client = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
            var address = loopback(port: port)
            _ = try client.connect(to: &address, length: socklen_t(MemoryLayout<sockaddr_in>.size),
                                   deadline: .after(.seconds(2)))
            let accepted = try #require(try listener.accept(deadline: .after(.seconds(2))).value)
            for descriptor in [a, b, listener, client, accepted] {
                #expect(try descriptor.isNonBlocking, "\(descriptor)")
                #expect(try descriptor.isCloseOnExec, "\(descriptor)")
            }
        }

        @Test("connect reports EISCONN as success")
        func eisconnIsSuccess() throws {
            let (listener, port) = try boundTCP(listening: true)
            defer { withExtendedLifetime(listener) {} }
            let client = try Descriptor.socket(family: SockBindings.AF_INET, type: streamType)
            var address = loopback(port: port)
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = try client.connect(to: &address, length: length, deadline: .after(.seconds(2)))
            // A further connect(2) on the connected socket gives EISCONN.
            let again = client.rawValue
            #expect(throws: Never.self) { _ = try Syscall.connect(again, &address, length).get() }
        }
    }
}
