// The example tools (sock-ping, sock-tcpinfo, sock-fdpass) run as processes:
// their output, exit codes (0 ok, 1 failure, 2 usage) and error messages.
//
// `swift build --build-tests` (make test-library) builds the executables
// next to the test bundle; the tests find them there.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Sock
import Testing

enum ExampleTools {
    /// The directory of the test bundle, where SwiftPM puts the executables.
    static var binDirectory: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// What a finished run left.
    struct Run {
        var status: Int32
        var output: String
        var error: String
    }

    /// The path of `tool`, or a test failure saying how to build it.
    static func path(of tool: String) throws -> String {
        let url = binDirectory.appendingPathComponent(tool)
        try #require(
            FileManager.default.isExecutableFile(atPath: url.path),
            "\(tool) is not built in \(binDirectory.path): run `swift build --build-tests` first")
        return url.path
    }

    /// Starts `tool` with `arguments`, its output going to files.
    static func start(_ tool: String, _ arguments: [String]) throws -> (SpawnedProcess, URL, URL) {
        let directory = FileManager.default.temporaryDirectory
        let out = directory.appendingPathComponent("sock-tool-\(UUID().uuidString).out")
        let err = directory.appendingPathComponent("sock-tool-\(UUID().uuidString).err")
        let process = try SpawnedProcess(try path(of: tool), arguments, output: out.path, error: err.path)
        return (process, out, err)
    }

    /// Waits for a process started by ``start(_:_:)`` (killing it after
    /// `timeout` seconds) and collects what it printed.
    static func finish(_ started: (SpawnedProcess, URL, URL), timeout: Double = 30) async -> Run {
        let (process, out, err) = started
        let limit = Date().addingTimeInterval(timeout)
        // Poll with Task.sleep, not usleep: a blocked thread of the small
        // cooperative pool (2 on 2 cores) would starve other suites' tasks.
        while process.isRunning && Date() < limit { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            // SIGKILL: the child may have inherited a mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        return Run(
            status: process.terminationStatus,
            output: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            error: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs `tool` with `arguments` to completion.
    static func run(_ tool: String, _ arguments: [String], timeout: Double = 30) async throws -> Run {
        await finish(try start(tool, arguments), timeout: timeout)
    }

    /// Whether raw ICMP sockets of the family can be opened here (root or
    /// CAP_NET_RAW) and, for IPv6, whether ::1 exists.
    static func canPing(ipv6: Bool) -> Bool {
        do throws(SockError) {
            if ipv6 {
                let socket = try RawSocket(network: "ip6:ipv6-icmp")
                try socket.bind(to: SockaddrInet6(address: .loopback))
            } else {
                _ = try RawSocket(network: "ip4:icmp")
            }
            return true
        } catch {
            return false
        }
    }

    /// A fresh private directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sock-fdpass-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

// Serialized: one tool process at a time, so that the suite does not load
// both cores while other suites measure deadlines to the millisecond.
@Suite("Example tools, run as processes", .serialized)
struct ExampleToolTests {
    @Test("--help prints the usage and exits 0; bad options exit 2 with a message", arguments: ["sock-ping", "sock-tcpinfo", "sock-fdpass"])
    func helpAndUsage(tool: String) async throws {
        let help = try await ExampleTools.run(tool, ["--help"])
        #expect(help.status == 0)
        #expect(help.output.hasPrefix("Usage: \(tool)"))
        let bad = try await ExampleTools.run(tool, ["--no-such-option"])
        #expect(bad.status == 2)
        #expect(bad.error.contains("\(tool): unknown option '--no-such-option'"))
        #expect(bad.output.isEmpty)
        let missing = try await ExampleTools.run(tool, [])
        #expect(missing.status == 2)
        #expect(missing.error.contains("missing"))
    }

    // MARK: sock-ping

    @Test("sock-ping 127.0.0.1: a reply per request and ping's summary",
          .enabled(if: ExampleTools.canPing(ipv6: false), "raw ICMP sockets need root or CAP_NET_RAW"))
    func pingIPv4() async throws {
        let run = try await ExampleTools.run("sock-ping", ["127.0.0.1", "-c", "3", "-i", "0.05", "-W", "2"])
        #expect(run.status == 0, "stderr: \(run.error)")
        #expect(run.output.hasPrefix("PING 127.0.0.1 (127.0.0.1): 56 data bytes"))
        for sequence in 1 ... 3 {
            #expect(run.output.contains("64 bytes from 127.0.0.1: icmp_seq=\(sequence) ttl=64 time="))
        }
        #expect(run.output.contains("--- 127.0.0.1 ping statistics ---"))
        #expect(run.output.contains("3 packets transmitted, 3 received, 0% packet loss"))
        #expect(run.output.contains("rtt min/avg/max/mdev = "))
    }

    @Test("sock-ping -6 ::1: ICMPv6 echo",
          .enabled(if: ExampleTools.canPing(ipv6: true), "raw ICMPv6 sockets need root or CAP_NET_RAW, and ::1"))
    func pingIPv6() async throws {
        let run = try await ExampleTools.run("sock-ping", ["-6", "::1", "-c", "2", "-i", "0.05"])
        #expect(run.status == 0, "stderr: \(run.error)")
        #expect(run.output.contains("64 bytes from ::1: icmp_seq=1 time="))
        #expect(run.output.contains("64 bytes from ::1: icmp_seq=2 time="))
        #expect(run.output.contains("2 packets transmitted, 2 received, 0% packet loss"))
    }

    @Test("sock-ping stops at Ctrl-C (SIGINT) and still prints the summary",
          .enabled(if: ExampleTools.canPing(ipv6: false), "raw ICMP sockets need root or CAP_NET_RAW"))
    func pingInterrupted() async throws {
        let started = try ExampleTools.start("sock-ping", ["127.0.0.1", "-c", "50", "-i", "0.1"])
        // Interrupt once the first reply is printed (a fixed delay is too
        // short on a slow, emulated CPU: with no reply at all ping exits 1).
        let limit = Date().addingTimeInterval(20)
        while Date() < limit,
              !((try? String(contentsOf: started.1, encoding: .utf8))?.contains("bytes from") ?? false) {
            try await Task.sleep(for: .milliseconds(20))
        }
        started.0.interrupt()
        let run = await ExampleTools.finish(started, timeout: 10)
        #expect(run.status == 0, "stderr: \(run.error)")
        #expect(run.output.contains("--- 127.0.0.1 ping statistics ---"))
        #expect(run.output.contains("packets transmitted"))
        #expect(!run.output.contains("50 packets transmitted"))
    }

    @Test("sock-ping: bad values are usage errors; an unknown host fails with 1")
    func pingErrors() async throws {
        let count = try await ExampleTools.run("sock-ping", ["127.0.0.1", "-c", "0"])
        #expect(count.status == 2)
        #expect(count.error.contains("invalid count '0'"))
        let interval = try await ExampleTools.run("sock-ping", ["127.0.0.1", "-i", "abc"])
        #expect(interval.status == 2)
        #expect(interval.error.contains("invalid interval 'abc'"))
        let both = try await ExampleTools.run("sock-ping", ["127.0.0.1", "-4", "-6"])
        #expect(both.status == 2)
        let host = try await ExampleTools.run("sock-ping", ["host.invalid", "-c", "1"])
        #expect(host.status == 1)
        #expect(host.error.contains("host.invalid"))
    }

    // MARK: sock-tcpinfo

    @Test("sock-tcpinfo against a local listener: the ss-like report")
    func tcpInfoText() async throws {
        let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? listener.close() }
        let port = try #require(listener.address.port)
        let run = try await ExampleTools.run("sock-tcpinfo", ["127.0.0.1:\(port)"])
        #expect(run.status == 0, "stderr: \(run.error)")
        #expect(run.output.hasPrefix("ESTABLISHED  127.0.0.1:"))
        #expect(run.output.contains("-> 127.0.0.1:\(port)"))
        for name in ["rtt", "rttvar", "cwnd", "ssthresh", "mss", "retransmits", "delivery_rate", "bytes_acked", "bytes_received"] {
            #expect(run.output.contains("\n  \(name) "), "no \(name) line")
        }
        #expect(run.output.contains("kernel filled "))
    }

    @Test("sock-tcpinfo --json parses and has rtt; fields agree with the availability list")
    func tcpInfoJSON() async throws {
        let listener = try TCPListener.listen(on: SockaddrInet6(address: .loopback, port: 0))
        defer { try? listener.close() }
        let port = try #require(listener.address.port)
        let run = try await ExampleTools.run("sock-tcpinfo", ["[::1]:\(port)", "--json"])
        #expect(run.status == 0, "stderr: \(run.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect(object["state"] as? String == "ESTABLISHED")
        let rtt = try #require(object["rtt_us"] as? Int)
        #expect(rtt > 0)
        #expect(object["cwnd"] is Int)
        #expect(object["peer"] as? String == "[::1]:\(port)")
        let filled = try #require(object["filled_bytes"] as? Int)
        #expect(filled > 0 && filled <= TCPInfoSnapshot.capacity)
        let unavailable = try #require(object["unavailable"] as? [String])
        for name in unavailable {
            #expect(object.contains { $0.key.hasPrefix(name) && $0.value is NSNull }, "\(name) should be null")
        }
    }

    @Test("sock-tcpinfo marks the fields an older kernel does not fill (as Linux 6.1: 232 bytes)")
    func tcpInfoOlderKernel() async throws {
        let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? listener.close() }
        let port = try #require(listener.address.port)
        let json = try await ExampleTools.run("sock-tcpinfo", ["127.0.0.1:\(port)", "--json", "--filled-bytes", "232"])
        #expect(json.status == 0, "stderr: \(json.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["filled_bytes"] as? Int == 232)
        #expect(object["rcv_wnd"] is NSNull)  // Linux 6.0's field lies past 232 bytes
        #expect(object["rtt_us"] is Int)
        let unavailable = try #require(object["unavailable"] as? [String])
        #expect(unavailable.contains("rcv_wnd"))
        #expect(!unavailable.contains("rtt"))
        let text = try await ExampleTools.run("sock-tcpinfo", ["127.0.0.1:\(port)", "--filled-bytes", "232"])
        #expect(text.status == 0)
        #expect(text.output.contains("rcv_wnd               n/a (not filled by this kernel)"))
        #expect(text.output.contains("kernel filled 232 of the"))
        let bad = try await ExampleTools.run("sock-tcpinfo", ["127.0.0.1:\(port)", "--filled-bytes", "-1"])
        #expect(bad.status == 2)
    }

    @Test("sock-tcpinfo to a closed port exits 1 with \"connection refused\"")
    func tcpInfoRefused() async throws {
        let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0), reusePort: false)
        let port = try #require(listener.address.port)
        try listener.close()
        let run = try await ExampleTools.run("sock-tcpinfo", ["127.0.0.1:\(port)"])
        #expect(run.status == 1)
        #expect(run.error.contains("connection refused"))
        #expect(run.output.isEmpty)
        let malformed = try await ExampleTools.run("sock-tcpinfo", ["::1:80"])
        #expect(malformed.status == 2)
        #expect(malformed.error.contains("invalid HOST:PORT"))
    }

    // MARK: sock-fdpass

    /// Starts a receiver on a fresh socket path and waits until it listens
    /// (it says so on stderr after listen(2); the socket file appears
    /// earlier, at bind(2), when a connect would still be refused).
    func startReceiver(_ arguments: [String], socket: URL) async throws -> (SpawnedProcess, URL, URL) {
        let receiver = try ExampleTools.start("sock-fdpass", ["receive", socket.path, "-W", "20"] + arguments)
        let limit = Date().addingTimeInterval(10)
        while receiver.0.isRunning && Date() < limit {
            let said = (try? String(contentsOf: receiver.2, encoding: .utf8)) ?? ""
            if said.contains("waiting on \(socket.path)") { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        return receiver
    }

    @Test("sock-fdpass: a file opened by one process is read by another through the passed descriptor")
    func fdPass() async throws {
        let directory = try ExampleTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("greeting.txt")
        let content = "hello from the sender\nline two: \(UUID().uuidString)\n"
        try content.write(to: file, atomically: true, encoding: .utf8)
        let socket = directory.appendingPathComponent("fdpass.sock")
        let receiver = try await startReceiver([], socket: socket)
        let sender = try await ExampleTools.run("sock-fdpass", ["send", file.path, "--to", socket.path])
        #expect(sender.status == 0, "stderr: \(sender.error)")
        let received = await ExampleTools.finish(receiver)
        #expect(received.status == 0, "stderr: \(received.error)")
        #expect(received.output == content)
        #expect(!FileManager.default.fileExists(atPath: socket.path))  // the receiver removed it
    }

    @Test("sock-fdpass receive --size prints the name and size")
    func fdPassSize() async throws {
        let directory = try ExampleTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("blob.bin")
        try Data(repeating: 7, count: 100_000).write(to: file)
        let socket = directory.appendingPathComponent("fdpass.sock")
        let receiver = try await startReceiver(["--size"], socket: socket)
        let sender = try await ExampleTools.run("sock-fdpass", ["send", file.path, "--to", socket.path])
        #expect(sender.status == 0, "stderr: \(sender.error)")
        let received = await ExampleTools.finish(receiver)
        #expect(received.status == 0, "stderr: \(received.error)")
        #expect(received.output == "blob.bin: 100000 bytes\n")
    }

    @Test("sock-fdpass: a missing file, a missing receiver and bad commands fail clearly")
    func fdPassErrors() async throws {
        let directory = try ExampleTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let socket = directory.appendingPathComponent("nobody.sock").path
        let noFile = try await ExampleTools.run("sock-fdpass", ["send", directory.appendingPathComponent("absent").path, "--to", socket])
        #expect(noFile.status == 1)
        #expect(noFile.error.contains("cannot open"))
        #expect(noFile.error.contains("No such file or directory"))
        let noReceiver = try await ExampleTools.run("sock-fdpass", ["send", "/etc/hostname", "--to", socket])
        #expect(noReceiver.status == 1)
        #expect(noReceiver.error.contains("cannot send to \(socket)"))
        let noTarget = try await ExampleTools.run("sock-fdpass", ["send", "/etc/hostname"])
        #expect(noTarget.status == 2)
        #expect(noTarget.error.contains("missing --to SOCKET"))
        let unknown = try await ExampleTools.run("sock-fdpass", ["fetch"])
        #expect(unknown.status == 2)
        #expect(unknown.error.contains("unknown command 'fetch'"))
        let timeout = try await ExampleTools.run("sock-fdpass", ["receive", socket, "-W", "0.2"])
        #expect(timeout.status == 1)
        #expect(timeout.error.contains("no sender within the timeout"))
    }
}
