// sock-echo as a process: start on port 0 (TCP) or a Unix path, echo with a
// checksum, half-close, SIGTERM, exit status 0 — in both modes.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Synchronization
import Testing

/// The sock-echo executable next to the test bundle, if it was built.
func sockEchoPath() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    let executable = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var directory = executable
    while let last = directory.last, last != "/" { directory.removeLast() }
    let candidate = directory + "sock-echo"
    return access(candidate, X_OK) == 0 ? candidate : nil
}

/// A running sock-echo with its stderr on a pipe and its stdout on
/// /dev/null. A process the test did not terminate (it threw or failed
/// first) is killed when the value goes away: a leftover child holding the
/// test runner's output open would keep `swift test` from ever ending.
final class EchoProcess {
    let pid: pid_t
    let stderr: CInt
    private var reaped = false

    /// Children not reaped yet; killed at exit, so that none outlives the
    /// test binary (`swift test` relays the binary's output and would wait
    /// for every holder of it).
    private static let running: SockMutex<Set<pid_t>> = {
        atexit {
            for pid in EchoProcess.running.withLock({ Array($0) }) { kill(pid, SIGKILL) }
        }
        return SockMutex([])
    }()

    init(_ arguments: [String]) throws {
        guard let path = sockEchoPath() else { throw SockError.notSupported }
        var pipeEnds: [CInt] = [0, 0]
        // Close-on-exec: children spawned concurrently by other tests must
        // not inherit this pipe (dup2 onto 2 clears the flag for this child).
        guard pipe(&pipeEnds) == 0 else { throw SockError(errno: errno) }
        for end in pipeEnds { _ = fcntl(end, Glibc.F_SETFD, Glibc.FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", Glibc.O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(pipeEnds[1])
        guard result == 0 else { throw SockError(errno: result) }
        self.pid = pid
        stderr = pipeEnds[0]
        Self.running.withLock { _ = $0.insert(pid) }
    }

    /// Reads stderr until `marker` appears or 30 s pass; returns all read.
    func readLog(until marker: String) -> String {
        var text = ""
        let deadline = Deadline.after(.seconds(30))
        var chunk = [UInt8](repeating: 0, count: 1024)
        while !text.contains(marker) && !deadline.hasPassed {
            var request = pollfd(fd: stderr, events: Int16(SockBindings.POLLIN), revents: 0)
            guard poll(&request, 1, 100) > 0 else { continue }
            let count = read(stderr, &chunk, chunk.count)
            if count <= 0 { break }
            text += String(decoding: chunk[..<count], as: UTF8.self)
        }
        return text
    }

    /// Sends `signal` and waits up to 30 s for the exit; the exit status,
    /// or nil when it did not exit normally in time.
    func terminate(with signal: CInt = SIGTERM) -> CInt? {
        if reaped { return nil }
        defer {
            reaped = true
            Self.running.withLock { _ = $0.remove(pid) }
        }
        kill(pid, signal)
        let deadline = Deadline.after(.seconds(30))
        var status: CInt = 0
        while !deadline.hasPassed {
            if waitpid(pid, &status, WNOHANG) == pid {
                // WIFEXITED / WEXITSTATUS
                return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
            }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return nil
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            var status: CInt = 0
            waitpid(pid, &status, 0)
            Self.running.withLock { _ = $0.remove(pid) }
        }
    }
}

/// Echoes `size` patterned bytes through `conn`, half-closes, and checks the
/// whole echo and then end of stream arrive.
private func echoAndHalfClose(_ conn: TCPConn, size: Int) throws -> Bool {
    let out = TestBytes(count: size)
    let sum = fillPattern(out.raw, seed: UInt64(size))
    let back = TestBytes(count: size)
    conn.setDeadline(.after(.seconds(30)))
    var sent = 0
    var received = 0
    // Interleave so that neither side's buffers fill up.
    while received < size {
        if sent < size {
            let chunk = min(64 * 1024, size - sent)
            sent += try conn.write(UnsafeRawBufferPointer(rebasing: out.bytes[sent..<(sent + chunk)])).count
            if sent == size { try conn.shutdown(.write) }
        }
        switch try conn.read(into: UnsafeMutableRawBufferPointer(rebasing: back.raw[received...])) {
        case .bytes(let count): received += count
        case .endOfStream: return false
        case .wouldBlock: break
        }
    }
    let end = try conn.read(into: back.prefix(1))
    return checksum(back.bytes) == sum && end == .endOfStream
}

/// Sets another process's descriptor limits (`prlimit`, a GNU function the
/// Glibc module does not import).
private func setDescriptorLimit(of pid: pid_t, to limit: rlim_t) -> Bool {
    typealias Prlimit = @convention(c) (pid_t, CInt, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> CInt
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "prlimit") else { return false }
    var value = rlimit(rlim_cur: limit, rlim_max: limit)
    return unsafeBitCast(symbol, to: Prlimit.self)(pid, CInt(RLIMIT_NOFILE.rawValue), &value, nil) == 0
}

/// The number of descriptors `pid` has open.
func openDescriptorCount(of pid: pid_t) -> Int {
    guard let directory = opendir("/proc/\(pid)/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count - 2  // . and ..
}

/// The command-line arguments of a test variant: a mode ("poller",
/// "async"), or "uring" (poller mode on the io_uring backend, skipped with
/// a reason where io_uring is unusable).
func modeArguments(_ variant: String) -> [String] {
    switch variant {
    case "uring": ["--mode", "poller", "--backend", "uring"]
    case "async-uring": ["--mode", "async", "--backend", "uring"]
    default: ["--mode", variant]
    }
}

/// The `--mode` a variant runs sock-echo in (as its log shows it).
func shownMode(_ variant: String) -> String {
    switch variant {
    case "uring": "poller"
    case "async-uring": "async"
    default: variant
    }
}

/// The variants the tests run: both modes on epoll, and both on io_uring
/// (the poller mode's completion engine, the async mode's reactor backend)
/// where it is usable.
let echoVariants: [String] = {
    if case .success = ReactorBackendSelection.check() { return ["poller", "async", "uring", "async-uring"] }
    return ["poller", "async"]
}()

@Suite("sock-echo as a process", .enabled(if: sockEchoPath() != nil, "sock-echo was not built next to the tests"))
struct SockEchoProcessTests {
    @Test("TCP on port 0: logs the port, echoes, survives a reset, SIGTERM exits 0", arguments: echoVariants)
    func tcp(mode: String) throws {
        let process = try EchoProcess(["--listen", "127.0.0.1:0"] + modeArguments(mode))
        let log = process.readLog(until: "listening on")
        let exitOnFailure = { _ = process.terminate(with: SIGKILL) }
        guard let range = log.range(of: "listening on 127.0.0.1:"),
              let port = UInt16(log[range.upperBound...].prefix { $0.isNumber }) else {
            exitOnFailure()
            Issue.record("no port in the log: \(log)")
            return
        }
        #expect(log.contains("(mode \(shownMode(mode)), 1 thread"))
        let address = SockaddrInet4(address: .loopback, port: port)

        // A client that resets mid-stream must not disturb the server.
        let resetter = try TCPDialer(timeout: .seconds(10)).dial(to: address)
        _ = try resetter.write(UnsafeRawBufferPointer(TestBytes("about to reset").bytes))
        try resetter.setLinger(.zero)
        try resetter.close()

        for size in [1, 4096, 1_000_000] {
            let conn = try TCPDialer(timeout: .seconds(10)).dial(to: address)
            #expect(try echoAndHalfClose(conn, size: size), "size \(size)")
            try conn.close()
        }
        // An idle connection open at SIGTERM is closed by the server.
        let idle = try TCPDialer(timeout: .seconds(10)).dial(to: address)
        defer { try? idle.close() }
        #expect(process.terminate() == 0)
        idle.setReadDeadline(.after(.seconds(10)))
        let buffer = TestBytes(count: 16)
        let last = try? idle.read(into: buffer.raw)
        #expect(last == .endOfStream || last == nil)
        close(process.stderr)
    }

    @Test("Unix path: echoes, SIGINT exits 0 and removes the path", arguments: echoVariants)
    func unix(mode: String) throws {
        let path = "/tmp/sock-echo-test-\(getpid())-\(mode).sock"
        unlink(path)
        let process = try EchoProcess(["--unix", path, "--threads", "2"] + modeArguments(mode))
        let log = process.readLog(until: "listening on")
        #expect(log.contains("listening on \(path) (mode \(shownMode(mode)), 2 threads"))
        let conn = try UnixConn.dial(to: SockaddrUnix(path: path), timeout: .seconds(10))
        conn.setDeadline(.after(.seconds(30)))
        let out = TestBytes("hello over unix")
        _ = try conn.write(out.bytes)
        let back = TestBytes(count: out.count)
        var received = 0
        while received < out.count {
            received += try conn.read(into: UnsafeMutableRawBufferPointer(rebasing: back.raw[received...])).count
        }
        #expect(back.string(out.count) == "hello over unix")
        try conn.close()
        #expect(process.terminate(with: SIGINT) == 0)
        #expect(access(path, F_OK) != 0, "the socket path was not removed")
        close(process.stderr)
    }

    @Test("out of descriptors: says so once, keeps serving, accepts again when connections close",
          arguments: echoVariants)
    func outOfDescriptors(mode: String) throws {
        let process = try EchoProcess(["--listen", "127.0.0.1:0"] + modeArguments(mode))
        defer { close(process.stderr) }
        let log = process.readLog(until: "listening on")
        guard let range = log.range(of: "listening on 127.0.0.1:"),
              let port = UInt16(log[range.upperBound...].prefix { $0.isNumber }) else {
            _ = process.terminate(with: SIGKILL)
            Issue.record("no port in the log: \(log)")
            return
        }
        // After start-up (which raised the soft limit), lower the limit to
        // leave room for about 20 connections.
        let inUse = openDescriptorCount(of: process.pid)
        try #require(inUse > 0)
        try #require(setDescriptorLimit(of: process.pid, to: rlim_t(inUse + 20)))
        let address = SockaddrInet4(address: .loopback, port: port)
        var conns: [TCPConn] = []
        defer { for conn in conns { try? conn.close() } }
        for _ in 0..<60 {
            conns.append(try TCPDialer(timeout: .seconds(10)).dial(to: address))  // the kernel completes them
        }
        let said = process.readLog(until: "out of file descriptors")
        #expect(said.contains("out of file descriptors"))

        func echoes(_ conn: TCPConn) -> Bool {
            conn.setDeadline(.after(.seconds(10)))
            guard (try? conn.write(UnsafeRawBufferPointer(TestBytes("ping").bytes))) != nil else { return false }
            let back = TestBytes(count: 4)
            var got = 0
            while got < 4 {
                guard case .bytes(let count) = (try? conn.read(into: UnsafeMutableRawBufferPointer(rebasing: back.raw[got...]))) ?? .endOfStream else {
                    return false
                }
                got += count
            }
            return back.string(4) == "ping"
        }
        #expect(echoes(conns[0]), "an accepted connection is still served")
        // Free 20 descriptors in the server: the waiting connections get in.
        for conn in conns[1...20] { try conn.close() }
        #expect(echoes(conns[25]), "accepting resumed (it waited in the backlog)")
        let status = process.terminate()
        let rest = process.readLog(until: "stopped")
        #expect(status == 0, "sock-echo's log after the test: \(rest.suffix(5_000))")
        #expect(rest.components(separatedBy: "out of file descriptors").count <= 2, "said more than once")
    }
}
