#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

extension RuntimeCoreTests {
    @Suite("SockError: errno mapping")
    struct SockErrorTests {
        /// The reference's errno table (sock:errors.go `errFromErrno`), plus
        /// EOPNOTSUPP and the would-block pair.
        static let table: [(CInt, SockError.Code)] = [
            (SockBindings.EAGAIN, .wouldBlock),
            (SockBindings.EWOULDBLOCK, .wouldBlock),
            (SockBindings.EBADF, .closed),
            (SockBindings.EINVAL, .invalidParameter),
            (SockBindings.EINTR, .interrupted),
            (SockBindings.ENOMEM, .noMemory),
            (SockBindings.ENOBUFS, .noMemory),
            (SockBindings.EACCES, .permissionDenied),
            (SockBindings.EPERM, .permissionDenied),
            (SockBindings.ECONNREFUSED, .connectionRefused),
            (SockBindings.ECONNRESET, .connectionReset),
            (SockBindings.ECONNABORTED, .connectionReset),
            (SockBindings.EPIPE, .connectionReset),
            (SockBindings.ESHUTDOWN, .connectionReset),
            (SockBindings.ENOTCONN, .notConnected),
            (SockBindings.EDESTADDRREQ, .notConnected),
            (SockBindings.EINPROGRESS, .inProgress),
            (SockBindings.EALREADY, .inProgress),
            (SockBindings.EADDRINUSE, .addressInUse),
            (SockBindings.EADDRNOTAVAIL, .addressNotAvailable),
            (SockBindings.ETIMEDOUT, .timedOut),
            (SockBindings.ENETDOWN, .networkUnreachable),
            (SockBindings.ENETUNREACH, .networkUnreachable),
            (SockBindings.EHOSTUNREACH, .hostUnreachable),
            (SockBindings.EMSGSIZE, .messageTooLarge),
            (SockBindings.EAFNOSUPPORT, .addressFamilyNotSupported),
            (SockBindings.EPROTONOSUPPORT, .protocolNotSupported),
            (SockBindings.EOPNOTSUPP, .notSupported),
            (SockBindings.ECANCELED, .cancelled),
            (SockBindings.ENOENT, .other),
            (SockBindings.ENOTSOCK, .other),
            (SockBindings.EISCONN, .other),
            (0, .other),
        ]

        @Test("every errno of the table maps to its case and keeps its errno", arguments: table)
        func mapping(errno: CInt, code: SockError.Code) {
            let error = SockError(errno: errno)
            #expect(error.code == code)
            #expect(error.errnoCode == errno)
        }

        @Test("every semantic case is reachable from an errno or documented as Sock's own")
        func everyCaseCovered() {
            let mapped = Set(Self.table.map(\.1))
            let sockOnly: Set<SockError.Code> = [.unknownNetwork, .endOfStream]
            #expect(mapped.union(sockOnly) == Set(SockError.Code.allCases))
        }

        @Test("SockErrno from the bindings converts with the same mapping")
        func fromSockErrno() {
            let errno = SockErrno(rawValue: SockBindings.EPIPE)
            #expect(SockError(errno).code == .connectionReset)
            #expect(errno.sockError.errnoCode == SockBindings.EPIPE)
            #expect(SockError(errno).sockErrno == errno)
            #expect(SockError.unknownNetwork.sockErrno == nil)
        }

        @Test("the named errors carry their code and canonical errno")
        func namedErrors() {
            let named: [(SockError, SockError.Code, CInt)] = [
                (.connectionRefused, .connectionRefused, SockBindings.ECONNREFUSED),
                (.connectionReset, .connectionReset, SockBindings.ECONNRESET),
                (.notConnected, .notConnected, SockBindings.ENOTCONN),
                (.timedOut, .timedOut, SockBindings.ETIMEDOUT),
                (.inProgress, .inProgress, SockBindings.EINPROGRESS),
                (.addressInUse, .addressInUse, SockBindings.EADDRINUSE),
                (.addressNotAvailable, .addressNotAvailable, SockBindings.EADDRNOTAVAIL),
                (.networkUnreachable, .networkUnreachable, SockBindings.ENETUNREACH),
                (.hostUnreachable, .hostUnreachable, SockBindings.EHOSTUNREACH),
                (.messageTooLarge, .messageTooLarge, SockBindings.EMSGSIZE),
                (.protocolNotSupported, .protocolNotSupported, SockBindings.EPROTONOSUPPORT),
                (.addressFamilyNotSupported, .addressFamilyNotSupported, SockBindings.EAFNOSUPPORT),
                (.permissionDenied, .permissionDenied, SockBindings.EACCES),
                (.invalidParameter, .invalidParameter, SockBindings.EINVAL),
                (.interrupted, .interrupted, SockBindings.EINTR),
                (.noMemory, .noMemory, SockBindings.ENOMEM),
                (.closed, .closed, SockBindings.EBADF),
                (.unknownNetwork, .unknownNetwork, 0),
                (.notSupported, .notSupported, SockBindings.EOPNOTSUPP),
                (.wouldBlock, .wouldBlock, SockBindings.EAGAIN),
                (.endOfStream, .endOfStream, 0),
                (.cancelled, .cancelled, SockBindings.ECANCELED),
                (.other(SockBindings.ENOENT), .other, SockBindings.ENOENT),
            ]
            #expect(Set(named.map(\.1)) == Set(SockError.Code.allCases))
            for (error, code, errno) in named {
                #expect(error.code == code)
                #expect(error.errnoCode == errno)
                // Named errors agree with the mapping of their errno.
                if errno != 0 { #expect(SockError(errno: errno).code == code) }
            }
        }

        @Test("equality compares the code and the errno; patterns compare the code")
        func equality() {
            #expect(SockError(errno: SockBindings.EPIPE) != SockError.connectionReset)
            #expect(SockError(errno: SockBindings.ECONNRESET) == SockError.connectionReset)
            #expect(SockError(errno: SockBindings.EPIPE) == SockError(errno: SockBindings.EPIPE))
            #expect(SockError(errno: SockBindings.EPIPE) != SockError.connectionRefused)
            #expect(SockError.connectionReset ~= SockError(errno: SockBindings.EPIPE))
            #expect(!(SockError.connectionRefused ~= SockError(errno: SockBindings.EPIPE)))
        }

        @Test("codes match in switch and catch patterns")
        func patterns() {
            let error = SockError(errno: SockBindings.ECONNABORTED)
            switch error {
            case .connectionRefused: Issue.record("matched the wrong case")
            case .connectionReset: break
            default: Issue.record("pattern did not match")
            }
            switch error.code {
            case .connectionReset: break
            default: Issue.record("code did not match")
            }
            do throws(SockError) {
                throw SockError(errno: SockBindings.ETIMEDOUT)
            } catch .timedOut {
                // matched by value
            } catch {
                Issue.record("catch pattern did not match: \(error)")
            }
        }

        @Test("descriptions name the case and the errno")
        func descriptions() {
            #expect(SockError(errno: SockBindings.ECONNREFUSED).description
                == "sock: connection refused (ECONNREFUSED, errno \(SockBindings.ECONNREFUSED))")
            #expect(SockError.closed.description == "sock: closed (EBADF, errno \(SockBindings.EBADF))")
            #expect(SockError.unknownNetwork.description == "sock: unknown network")
            let other = SockError(errno: SockBindings.ENOENT).description
            #expect(other.contains("No such file or directory"))
            #expect(other.contains("ENOENT"))
            for code in SockError.Code.allCases {
                #expect(!code.description.isEmpty)
            }
        }

        @Test("the error is small enough to travel in registers")
        func size() {
            #expect(MemoryLayout<SockError>.size <= 8)
        }

        @Test("IOResult: would-block is 0 bytes, never -1")
        func ioResult() {
            let blocked: IOResult<Int> = .wouldBlock
            #expect(blocked.count == 0)
            #expect(blocked.isWouldBlock)
            #expect(blocked.value == nil)
            let done: IOResult<Int> = .completed(5)
            #expect(done.count == 5)
            #expect(!done.isWouldBlock)
            #expect(done == .completed(5))
        }
    }
}
