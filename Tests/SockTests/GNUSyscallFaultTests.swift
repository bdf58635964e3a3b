// Fault injection into the GNU calls that used to be looked up with dlsym
// outside the syscall table (accept4, ppoll, sendmmsg, recvmmsg): now
// declared by the CSockSystem target and dispatched through the table like
// every other call, so an errno can be forced into each.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

/// Sets `errno` and returns −1, the C way of failing.
private func failing(_ code: CInt) -> CInt {
    errno = code
    return -1
}

extension RuntimeCoreTests {
    @Suite("GNU calls through the syscall table: accept4, ppoll, sendmmsg, recvmmsg")
    struct GNUSyscallFaultTests {
        @Test("accept4: EMFILE surfaces with its errno; ECONNABORTED is skipped and the next connection taken")
        func acceptFaults() throws {
            let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
            defer { try? listener.close() }
            let client = try TCPDialer(timeout: .seconds(5)).dial(to: listener.address)
            defer { try? client.close() }
            let target = listener.descriptor.rawValue

            let calls = Counter()
            try withSyscalls({ table in
                table.accept4 = { fd, address, length, flags in
                    guard fd == target else { return SyscallTable.system.accept4(fd, address, length, flags) }
                    return calls.increment() == 1 ? failing(SockBindings.EMFILE) : SyscallTable.system.accept4(fd, address, length, flags)
                }
            }) {
                listener.setDeadline(.after(.seconds(5)))
                #expect(sockError { try listener.accept() } == SockError(errno: SockBindings.EMFILE))
            }

            let aborted = Counter()
            try withSyscalls({ table in
                table.accept4 = { fd, address, length, flags in
                    guard fd == target, aborted.increment() == 1 else { return SyscallTable.system.accept4(fd, address, length, flags) }
                    return failing(SockBindings.ECONNABORTED)
                }
            }) {
                listener.setDeadline(.after(.seconds(5)))
                guard case .completed(let server) = try listener.accept() else {
                    Issue.record("no connection after the aborted one")
                    return
                }
                try server.close()
                #expect(aborted.value >= 2, "the aborted connection was skipped, the next one accepted")
            }
        }

        @Test("ppoll: EINTR during a deadline wait is retried with the time left; another errno fails the read")
        func ppollFaults() throws {
            let (a, b) = try streamPair()
            defer { try? a.close(); try? b.close() }
            let target = a.rawValue
            let interrupted = Counter()
            try withSyscalls({ table in
                table.ppoll = { fds, count, timeout in
                    guard fds.pointee.fd == target else { return SyscallTable.system.ppoll(fds, count, timeout) }
                    switch interrupted.increment() {
                    case 1:
                        return failing(SockBindings.EINTR)
                    case 2:
                        _ = try? writeByte(b, 7)  // the data arrives while "interrupted"
                        return failing(SockBindings.EINTR)
                    default:
                        return SyscallTable.system.ppoll(fds, count, timeout)
                    }
                }
            }) {
                // Nothing to read yet: the read strikes, spins, then waits in
                // ppoll, which is interrupted twice and retried.
                let (result, byte) = try readByte(a, deadline: .after(.seconds(5)))
                #expect(result == .completed(1) && byte == 7)
                #expect(interrupted.value >= 2, "ppoll was called and its EINTRs retried")
            }
            try withSyscalls({ table in
                table.ppoll = { fds, count, timeout in
                    guard fds.pointee.fd == target else { return SyscallTable.system.ppoll(fds, count, timeout) }
                    return failing(SockBindings.ENOMEM)
                }
            }) {
                #expect(sockError { try readByte(a, deadline: .after(.seconds(1))) } == SockError(errno: SockBindings.ENOMEM))
            }
        }

        @Test("sendmmsg and recvmmsg: injected errors are mapped, EINTR is retried")
        func batchFaults() throws {
            let receiver = try UDPConn<SockaddrInet4>.listen(on: SockaddrInet4(address: .loopback, port: 0))
            let sender = try UDPConn<SockaddrInet4>.dial(to: receiver.localAddress)
            defer { try? receiver.close(); try? sender.close() }
            let payload = TestBytes("batch")
            var outgoing = try UDPMessageBatch<SockaddrInet4>(capacity: 2)
            try outgoing.setMessage(payload.bytes, at: 0)
            try outgoing.setMessage(payload.bytes, at: 1)
            let sendTarget = sender.descriptor.rawValue
            let receiveTarget = receiver.descriptor.rawValue

            try withSyscalls({ table in
                table.sendmmsg = { fd, messages, count, flags in
                    fd == sendTarget ? failing(SockBindings.ENOBUFS) : SyscallTable.system.sendmmsg(fd, messages, count, flags)
                }
            }) {
                #expect(sockError { try sender.sendMessages(&outgoing, count: 2) } == SockError(errno: SockBindings.ENOBUFS))
            }
            let sendInterrupts = Counter()
            let seenFlags = Slot<CInt>()
            try withSyscalls({ table in
                table.sendmmsg = { fd, messages, count, flags in
                    guard fd == sendTarget else { return SyscallTable.system.sendmmsg(fd, messages, count, flags) }
                    seenFlags.set(flags)
                    if sendInterrupts.increment() == 1 { return failing(SockBindings.EINTR) }
                    return SyscallTable.system.sendmmsg(fd, messages, count, flags)
                }
            }) {
                let sent = try sender.sendMessages(&outgoing, count: 2)
                #expect(sent == .completed(2))
                #expect(sendInterrupts.value == 2, "EINTR retried once")
                #expect((seenFlags.value ?? 0) & SockBindings.MSG_NOSIGNAL != 0, "MSG_NOSIGNAL on every send")
            }

            var incoming = try UDPMessageBatch<SockaddrInet4>(capacity: 2)
            let buffers = [TestBytes(count: 64), TestBytes(count: 64)]
            try incoming.setReceiveBuffer(buffers[0].raw, at: 0)
            try incoming.setReceiveBuffer(buffers[1].raw, at: 1)
            try withSyscalls({ table in
                table.recvmmsg = { fd, messages, count, flags in
                    fd == receiveTarget ? failing(SockBindings.ECONNREFUSED) : SyscallTable.system.recvmmsg(fd, messages, count, flags)
                }
            }) {
                #expect(sockError { try receiver.receiveMessages(&incoming, deadline: .none) } == .connectionRefused)
            }
            let receiveFlags = Slot<CInt>()
            try withSyscalls({ table in
                table.recvmmsg = { fd, messages, count, flags in
                    if fd == receiveTarget { receiveFlags.set(flags) }
                    return SyscallTable.system.recvmmsg(fd, messages, count, flags)
                }
            }) {
                let received = try receiver.receiveMessages(&incoming, deadline: .after(.seconds(5)))
                #expect(received == .completed(2))
                #expect((receiveFlags.value ?? 0) & SockBindings.MSG_CMSG_CLOEXEC != 0, "MSG_CMSG_CLOEXEC on every receive")
            }
        }
    }
}
