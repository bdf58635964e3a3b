// Fact 2 with a real signal: a deadline read whose ppoll is interrupted by
// signals (a handler installed without SA_RESTART, as a program with a
// SIGALRM or SIGCHLD handler has) still ends at its deadline with timedOut,
// never earlier, and the interruptions are retried with the time left.
//
// setitimer(2) sends its signal to the process, and the kernel may hand it
// to any thread that does not block it, so the test sends the same signal
// to the waiting thread with pthread_kill(3), repeatedly, from another
// thread: a real kernel signal interrupting the real ppoll.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Synchronization
import Testing

/// Signals handled by the test's handler (a global: a C signal handler
/// captures nothing).
private let handledSignals = Atomic<Int>(0)

extension RuntimeCoreTests {
    @Suite("A real signal during a deadline wait")
    struct RealSignalTests {
        @Test("ppoll interrupted by SIGUSR2 (no SA_RESTART): the read still times out at its deadline, not before")
        func signalDuringDeadlineWait() throws {
            let (a, b) = try streamPair()
            defer { try? a.close(); try? b.close() }

            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in handledSignals.wrappingAdd(1, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // no SA_RESTART: ppoll returns EINTR
            var previous = sigaction()
            #expect(sigaction(SIGUSR2, &action, &previous) == 0)
            defer { sigaction(SIGUSR2, &previous, nil) }

            // The test runs on a pool thread that may block signals:
            // unblock SIGUSR2 here for the test, and restore the mask after.
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGUSR2)
            var savedMask = sigset_t()
            #expect(pthread_sigmask(SIG_UNBLOCK, &unblock, &savedMask) == 0)
            defer { pthread_sigmask(SIG_SETMASK, &savedMask, nil) }

            let reader = pthread_self()
            let done = Flag()
            let before = handledSignals.load(ordering: .relaxed)
            let signaller = TestThread {
                while !done.isRaised {
                    pthread_kill(reader, SIGUSR2)
                    usleep(2_000)
                }
            }
            let start = Deadline.monotonicNow()
            let deadline = Deadline(nanoseconds: start + 300_000_000)
            let error = sockError { try readByte(a, deadline: deadline) }
            let end = Deadline.monotonicNow()
            done.raise()
            signaller.join()

            #expect(error == .timedOut)
            #expect(end >= deadline.nanoseconds, "not before the deadline, however often interrupted")
            #expect(end - deadline.nanoseconds < 2_000_000_000, "not absurdly late")
            #expect(handledSignals.load(ordering: .relaxed) - before > 0, "the signal really arrived")
        }
    }
}
