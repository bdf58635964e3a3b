// A child process for the tests, started with posix_spawn. Not Foundation's
// Process: its run() closes inherited descriptors by listing /proc/self/fd
// and copies each entry's whole 256-byte name, reading past a short record
// at the end of readdir's buffer — a crash (signal 11) when that buffer ends
// at an unmapped page, seen on Linux 6.1 in `make test-kernels` (Swift 6.3.1).
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock

/// A child process with its standard streams on files (or /dev/null).
final class SpawnedProcess: @unchecked Sendable {
    // @unchecked: `status` is guarded by its lock; the rest is immutable.
    let processIdentifier: pid_t
    private let status = SockMutex<CInt?>(nil)

    /// Starts `path` with `arguments`; stdin from /dev/null, stdout and
    /// stderr to the files at `output` and `error` (created or truncated;
    /// nil: /dev/null). The child inherits no other descriptor of ours that
    /// is close-on-exec (all of Sock's are).
    init(_ path: String, _ arguments: [String], output: String?, error: String?) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let create = Glibc.O_WRONLY | Glibc.O_CREAT | Glibc.O_TRUNC
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", Glibc.O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", create, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, error ?? "/dev/null", create, 0o600)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard result == 0 else { throw SpawnError(errno: result) }
        processIdentifier = pid
    }

    /// Why a child could not be started.
    struct SpawnError: Error { let errno: CInt }

    /// Reaps the child if it has exited (without waiting).
    private func poll() -> Bool {
        status.withLock { status in
            if status != nil { return true }
            var raw: CInt = 0
            if waitpid(processIdentifier, &raw, WNOHANG) == processIdentifier {
                // Exit code when it exited, else the signal that ended it.
                status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
                return true
            }
            return false
        }
    }

    /// Whether the child is still running.
    var isRunning: Bool { !poll() }

    /// Waits until the child has exited.
    func waitUntilExit() {
        while !poll() { usleep(1_000) }
    }

    /// The exit code, or the signal that ended it (after `waitUntilExit`).
    var terminationStatus: CInt { status.withLock { $0 ?? -1 } }

    /// Sends SIGINT.
    func interrupt() { kill(processIdentifier, SIGINT) }
}
