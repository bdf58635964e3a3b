// sock-bench-report: what `make bench` runs. It measures every benchmark of
// issue 4 and prints ONE markdown table (Sock, C, NIO, the ratios, mallocs per
// operation), then the targets and whether each is met.
//
// - Ping-pong latency: `sock-pingpong` for every configuration and
//   implementation, `--repeats` times, interleaved (the implementations of one
//   configuration run back to back, their order rotating between repeats);
//   the figure is the median, the ratio range is the min–max of the per-repeat
//   ratios.
// - Everything else, and the mallocs/syscalls of the ping-pongs: the
//   package-benchmark suite (SockBenchmarks), run through its BenchmarkTool
//   with the MallocInterposer preloaded, as `swift package benchmark` does; the
//   micro-benchmarks run `--suite-repeats` times (median of the per-run
//   medians). One iteration is 1000 operations; what the harness itself adds
//   per iteration (an empty benchmark) is subtracted.
//
// sock-bench-report [--bin DIR] [--repeats N] [--suite-repeats N] [--pin]
//                   [--quick] [--output FILE] [--no-suite] [--no-pingpong]
import Foundation
import Histogram

// MARK: - Options

struct Options {
    var binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    var repeats = 5
    var suiteRepeats = 3
    var pin = false
    var quick = false
    var output: String?
    var runSuite = true
    var runPingPong = true
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst()
    func value(_ name: String) -> String {
        guard let value = arguments.popFirst() else { die("\(name) needs a value") }
        return value
    }
    while let argument = arguments.popFirst() {
        switch argument {
        case "--bin": options.binDirectory = value(argument)
        case "--repeats": options.repeats = max(1, Int(value(argument)) ?? 5)
        case "--suite-repeats": options.suiteRepeats = max(1, Int(value(argument)) ?? 3)
        case "--pin": options.pin = true
        case "--quick": options.quick = true
        case "--output": options.output = value(argument)
        case "--no-suite": options.runSuite = false
        case "--no-pingpong": options.runPingPong = false
        case "-h", "--help":
            print("usage: sock-bench-report [--bin DIR] [--repeats N] [--suite-repeats N] [--pin] [--quick] [--output FILE] [--no-suite] [--no-pingpong]")
            exit(0)
        default: die("unknown argument \(argument)")
        }
    }
    if options.quick {
        options.repeats = min(options.repeats, 2)
        options.suiteRepeats = 1
    }
    return options
}

func die(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sock-bench-report: \(message)\n".utf8))
    exit(1)
}

func progress(_ message: String) {
    FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
}

// MARK: - Processes

struct Output { var status: Int32; var stdout: String; var stderr: String; var timedOut: Bool }

func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return Output(status: -1, stdout: "", stderr: "\(error)", timedOut: false) }
    // Drain the pipes concurrently so that a chatty child never blocks.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let deadline = Date().addingTimeInterval(timeout)
    var timedOut = false
    while process.isRunning {
        if Date() > deadline {
            timedOut = true
            process.terminate()
            break
        }
        usleep(5_000)
    }
    process.waitUntilExit()
    group.wait()
    return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                  stderr: String(decoding: errData, as: UTF8.self), timedOut: timedOut)
}

func firstLine(_ text: String) -> String {
    text.split(separator: "\n").first.map(String.init) ?? ""
}

// MARK: - Statistics

func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

// MARK: - Ping-pong through sock-pingpong

struct PingPongKey: Hashable { var proto: String; var size: Int; var mode: String }

struct PingPongResults {
    /// [configuration][impl] → one figure per repeat (ns per round trip).
    var rtt: [PingPongKey: [String: [Double]]] = [:]
    var cpu: [PingPongKey: [String: [Double]]] = [:]
    var failures: [String] = []
}

let protos = ["tcp", "udp", "unix"]
let sizes = [1, 1024]
let modes = ["spin", "deadline"]

func pingPongKeys() -> [PingPongKey] {
    var keys: [PingPongKey] = []
    for proto in protos { for size in sizes { for mode in modes { keys.append(PingPongKey(proto: proto, size: size, mode: mode)) } } }
    return keys
}

func value(of field: String, in line: String) -> Double? {
    for token in line.split(separator: " ") where token.hasPrefix(field + "=") {
        return Double(token.dropFirst(field.count + 1))
    }
    return nil
}

func runPingPongs(_ options: Options) -> PingPongResults {
    var results = PingPongResults()
    let binary = options.binDirectory + "/sock-pingpong"
    let scale = options.quick ? 4 : 1
    for repeatIndex in 0..<options.repeats {
        progress("ping-pong repeat \(repeatIndex + 1)/\(options.repeats)")
        for key in pingPongKeys() {
            // NIO has one figure per (proto, size): it always waits in epoll. It
            // is measured with the deadline configuration and reported for both.
            var impls = key.mode == "spin" ? ["sock", "c"] : ["sock", "c", "c-block", "nio"]
            let rotation = repeatIndex % impls.count
            impls = Array(impls[rotation...] + impls[..<rotation])
            for impl in impls {
                let rounds = (key.mode == "spin" ? 20_000 : 10_000) / scale
                var arguments = [key.proto, String(rounds), String(key.size), key.mode, "--impl", impl]
                if options.pin { arguments.append("--pin") }
                let output = run(binary, arguments, timeout: 60)
                let line = firstLine(output.stdout)
                // The median over batches of 200 round trips (rtt_p50_ns), robust
                // to scheduling stalls; rtt_ns (the mean) when absent.
                guard output.status == 0, let rtt = value(of: "rtt_p50_ns", in: line) ?? value(of: "rtt_ns", in: line) else {
                    results.failures.append("sock-pingpong \(arguments.joined(separator: " ")): status \(output.status)\(output.timedOut ? " (timed out)" : "") \(output.stderr.prefix(300))")
                    continue
                }
                results.rtt[key, default: [:]][impl, default: []].append(rtt)
                if let cpu = value(of: "cpu_ns_per_rt", in: line) {
                    results.cpu[key, default: [:]][impl, default: []].append(cpu)
                }
            }
        }
    }
    return results
}

// MARK: - The package-benchmark suite

/// Per benchmark: per run, the metrics of one run.
struct SuiteMetrics {
    var wall: Double  // ns per iteration: the 25th percentile of the iterations
    var mallocs: Double  // per iteration: the median
    var syscallsP50: Double?  // per iteration
    var cpuMean: Double?  // ns per iteration
    var pairedRatio: Double?  // paired benchmarks: median per-iteration Sock/C
}

struct SuiteResults {
    var runs: [String: [SuiteMetrics]] = [:]
    var failures: [String] = []
}

func cleaned(_ name: String) -> String {
    name.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: " ", with: "_")
}

func loadHistogram(_ directory: String, _ name: String, _ metric: String) -> Histogram<UInt64>? {
    let path = "\(directory)/Current_run.SockBenchmarks.\(cleaned(name)).\(metric).histogram.json"
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONDecoder().decode(Histogram<UInt64>.self, from: data)
}

func runSuite(_ options: Options, filter: String, names: [String], into results: inout SuiteResults) {
    let directory = NSTemporaryDirectory() + "sock-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let bin = options.binDirectory
    let interposer = bin + "/libMallocInterposerSwift.so"
    guard FileManager.default.fileExists(atPath: interposer) else {
        results.failures.append("\(interposer) is missing: mallocs cannot be counted")
        return
    }
    let output = run(bin + "/BenchmarkTool", [
        "--command", "run", "--format", "histogramEncoded",
        "--baseline-storage-path", directory, "--path", directory,
        "--grouping", "benchmark", "--benchmark-package-identifier", "package-benchmark",
        "--targets", "SockBenchmarks", "--benchmark-executable-paths", bin + "/SockBenchmarks",
        "--filter", filter, "--no-progress", "--quiet",
    ], environment: ["LD_PRELOAD": interposer], timeout: 600)
    if output.status != 0 {
        results.failures.append("BenchmarkTool (\(filter)): status \(output.status)\(output.timedOut ? " (timed out)" : ""): \(output.stderr.suffix(500)) \(output.stdout.suffix(500))")
    }
    for name in names {
        guard let wall = loadHistogram(directory, name, "wallClock"),
              let mallocs = loadHistogram(directory, name, "mallocCountTotal") else {
            results.failures.append("no result for \(name)")
            continue
        }
        let syscalls = loadHistogram(directory, name, "syscalls")
        let cpu = loadHistogram(directory, name, "cpuTotal")
        let paired = loadHistogram(directory, name, "sock_over_c_permille")
        results.runs[name, default: []].append(SuiteMetrics(
            wall: Double(wall.valueAtPercentile(25)),
            mallocs: Double(mallocs.valueAtPercentile(50)),
            syscallsP50: syscalls.map { Double($0.valueAtPercentile(50)) },
            cpuMean: cpu.map { $0.mean },
            pairedRatio: paired.map { Double($0.valueAtPercentile(50)) / 1000 }
        ))
    }
}

// The suite's benchmarks the table uses (Benchmarks/SockBenchmarks).
let microNames: [String] = [
    "harness/empty/counted", "harness/empty/uncounted",
    "bulk/tcp-64KiB-write/sock", "bulk/tcp-64KiB-write/c",
    "udp-send/plain/sock", "udp-send/plain/c", "udp-send/sendto/sock", "udp-send/sendto/c", "udp-send/sendmmsg-x25/sock", "udp-send/sendmmsg-x25/c",
    "udp-send/gso-x25/sock", "udp-send/gso-x25/c", "udp-send/gso-cmsg-x25/sock", "udp-send/gso-cmsg-x25/c",
    "wouldblock-read/tcp/sock", "wouldblock-read/tcp/c",
    "option-get/TCP_NODELAY/sock", "option-get/TCP_NODELAY/accessor", "option-get/TCP_NODELAY/c",
    "option-set/TCP_NODELAY/sock", "option-set/TCP_NODELAY/accessor", "option-set/TCP_NODELAY/c",
    "tcp-info/read/sock", "tcp-info/read/accessor", "tcp-info/read/c",
    "address/parse-ipv4/sock", "address/parse-ipv4/c", "address/parse-ipv6/sock", "address/parse-ipv6/c",
    "address/format-ipv4/sock", "address/format-ipv4/c", "address/format-ipv6/sock", "address/format-ipv6/c",
    "address/encode-ipv6/sock", "address/encode-ipv6/c", "address/decode-ipv6/sock", "address/decode-ipv6/c",
    "accept-close/tcp/sock", "accept-close/tcp/c",
    "udp-send/plain/paired", "udp-send/sendto/paired", "udp-send/sendmmsg-x25/paired", "udp-send/gso-cmsg-x25/paired",
    "udp-send/gso-x25/paired", "wouldblock-read/tcp/paired", "option-get/TCP_NODELAY/paired",
    "option-get/TCP_NODELAY-accessor/paired", "option-set/TCP_NODELAY/paired", "option-set/TCP_NODELAY-accessor/paired",
    "tcp-info/read/paired", "tcp-info/read-accessor/paired",
]

func sizeName(_ size: Int) -> String { size == 1 ? "1B" : "1KiB" }

func pingPongSuiteNames() -> [String] {
    var names = ["harness/empty/uncounted"]
    for proto in protos {
        for size in sizes {
            for mode in modes {
                names.append("pingpong/\(proto)-\(sizeName(size))-\(mode)/sock")
                names.append("pingpong/\(proto)-\(sizeName(size))-\(mode)/c")
            }
            names.append("pingpong/\(proto)-\(sizeName(size))/nio")
        }
    }
    return names
}

/// Which harness benchmark has the same measurement configuration.
func harnessName(for name: String) -> String {
    let uncounted = ["pingpong/", "bulk/", "address/"]
    return uncounted.contains(where: { name.hasPrefix($0) }) ? "harness/empty/uncounted" : "harness/empty/counted"
}

struct PerOp {
    var nanoseconds: Double
    var mallocs: Double
    var syscalls: Double?
    var cpu: Double?
}

/// Per-operation figures of one suite run (iteration = 1000 operations, minus
/// the harness of the same run).
func perOp(_ suite: SuiteResults, _ name: String, run index: Int) -> PerOp? {
    guard let runs = suite.runs[name], index < runs.count else { return nil }
    let metrics = runs[index]
    let harnessRuns = suite.runs[harnessName(for: name)] ?? []
    let harness = index < harnessRuns.count ? harnessRuns[index] : harnessRuns.last
    let wall = metrics.wall - (harness?.wall ?? 0)
    let mallocs = Swift.max(0, metrics.mallocs - (harness?.mallocs ?? 0))
    let syscalls = metrics.syscallsP50.map { $0 - (harness?.syscallsP50 ?? 0) }
    return PerOp(nanoseconds: wall / 1000, mallocs: mallocs / 1000, syscalls: syscalls.map { $0 / 1000 },
                 cpu: metrics.cpuMean.map { $0 / 1000 })
}

func runCount(_ suite: SuiteResults, _ name: String) -> Int { suite.runs[name]?.count ?? 0 }

/// The median over runs of a per-op figure.
func medianPerOp(_ suite: SuiteResults, _ name: String, _ pick: (PerOp) -> Double?) -> Double? {
    median((0..<runCount(suite, name)).compactMap { perOp(suite, name, run: $0).flatMap(pick) })
}

/// The Sock/C ratio of a paired benchmark (both blocks timed back to back in
/// one process): the median over runs of each run's median, and the range.
func pairedRatio(_ suite: SuiteResults, _ name: String) -> (Double, Double, Double)? {
    let ratios = (suite.runs[name] ?? []).compactMap(\.pairedRatio)
    guard let middle = median(ratios) else { return nil }
    return (middle, ratios.min()!, ratios.max()!)
}

/// Per-run ratios a/b of wall time per op: median and range.
func ratio(_ suite: SuiteResults, _ a: String, _ b: String, divisorA: Double = 1, divisorB: Double = 1) -> (Double, Double, Double)? {
    let count = Swift.min(runCount(suite, a), runCount(suite, b))
    let ratios = (0..<count).compactMap { index -> Double? in
        guard let x = perOp(suite, a, run: index), let y = perOp(suite, b, run: index), y.nanoseconds > 0 else { return nil }
        return (x.nanoseconds / divisorA) / (y.nanoseconds / divisorB)
    }
    guard let middle = median(ratios) else { return nil }
    return (middle, ratios.min()!, ratios.max()!)
}

// MARK: - Formatting

func format(_ value: Double?, digits: Int = 1) -> String {
    guard let value, value.isFinite else { return "—" }
    return String(format: "%.\(digits)f", value)
}

func formatTime(_ nanoseconds: Double?) -> String {
    guard let nanoseconds, nanoseconds.isFinite else { return "—" }
    if nanoseconds >= 10_000 { return String(format: "%.1f µs", nanoseconds / 1000) }
    if nanoseconds >= 1_000 { return String(format: "%.2f µs", nanoseconds / 1000) }
    if nanoseconds >= 100 { return String(format: "%.0f ns", nanoseconds) }
    return String(format: "%.1f ns", nanoseconds)
}

func formatRatio(_ ratio: (Double, Double, Double)?) -> String {
    guard let (middle, low, high) = ratio else { return "—" }
    if low == high { return String(format: "%.2f", middle) }
    return String(format: "%.2f (%.2f–%.2f)", middle, low, high)
}

func formatCount(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "—" }
    if value == 0 { return "0" }
    if value < 0.0005 { return "0.000" }
    if value < 0.1 { return String(format: "%.3f", value) }
    return String(format: "%.2f", value)
}

struct Row {
    var name: String
    var sock = "—", c = "—", nio = "—"
    var sockOverC = "—", nioOverSock = "—"
    var mallocs = "—"
    var syscalls = "—"
    var cpu = "—"
    var target = ""
    var verdict = ""
}

enum Verdict {
    case met, missed, noise, notMeasured
    var text: String {
        switch self {
        case .met: "met"
        case .missed: "**missed**"
        case .noise: "within noise"
        case .notMeasured: "not measured"
        }
    }
}

/// At most `limit`: met when the median is; missed when even the best repeat
/// is above; otherwise the repeats disagree (within noise).
func atMost(_ ratio: (Double, Double, Double)?, _ limit: Double) -> Verdict {
    guard let (middle, low, _) = ratio else { return .notMeasured }
    if middle <= limit { return .met }
    return low > limit ? .missed : .noise
}

/// At least `limit` (as `atMost`, mirrored).
func atLeast(_ ratio: (Double, Double, Double)?, _ limit: Double) -> Verdict {
    guard let (middle, _, high) = ratio else { return .notMeasured }
    if middle >= limit { return .met }
    return high < limit ? .missed : .noise
}

func zeroMallocs(_ value: Double?) -> Verdict {
    guard let value else { return .notMeasured }
    return value < 0.0005 ? .met : .missed
}

// MARK: - Conditions

func conditions(loadBefore: String, loadAfter: String, options: Options, seconds: Double, busy: String) -> [String] {
    let kernel = firstLine(run("/bin/uname", ["-r"]).stdout)
    let cpus = ProcessInfo.processInfo.activeProcessorCount
    let model = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first(where: { $0.hasPrefix("model name") })?
        .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown"
    let hypervisor = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains(" hypervisor") == true ? "virtual machine" : "bare metal?"
    let swiftPath = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":")
        .map { "\($0)/swift" }.first(where: { FileManager.default.isExecutableFile(atPath: $0) })
    let swiftVersion = swiftPath.map { firstLine(run($0, ["--version"]).stdout + run($0, ["--version"]).stderr) } ?? "unknown"
    let formatter = ISO8601DateFormatter()
    return [
        "- Date: \(formatter.string(from: Date()))",
        "- Machine: \(cpus) vCPU (\(model), \(hypervisor)), kernel \(kernel)",
        "- Swift: \(swiftVersion); release build (`swift build -c release`)",
        "- Threads: client = the measuring thread, server = one echo thread; \(options.pin ? "pinned to CPU 0 and CPU 1" : "not pinned (the scheduler places them)")",
        "- Ping-pong: \(options.repeats) repeats per configuration, implementations interleaved; micro-benchmarks: \(options.suiteRepeats) suite run(s)",
        "- Load average before / after: \(loadBefore) / \(loadAfter)\(busy.isEmpty ? "" : "; other processes busy at start: \(busy)")",
        "- Duration of the measurements: \(Int(seconds)) s",
    ]
}

func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
}

/// Other processes using more than 20 % of a CPU (they make the figures noisy).
func busyProcesses() -> String {
    let output = run("/bin/ps", ["-eo", "pcpu=,comm=", "--sort=-pcpu"]).stdout
    let me = ProcessInfo.processInfo.processName
    return output.split(separator: "\n").compactMap { line -> String? in
        let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, let cpu = Double(parts[0]), cpu > 20 else { return nil }
        let name = parts[1].trimmingCharacters(in: .whitespaces)
        return name == me || name == "ps" ? nil : "\(name) \(Int(cpu))%"
    }.prefix(5).joined(separator: ", ")
}

// MARK: - Main

let options = parseOptions()
let started = Date()
let loadBefore = loadAverage()
let busy = busyProcesses()

var pingPong = PingPongResults()
if options.runPingPong {
    pingPong = runPingPongs(options)
}

var suite = SuiteResults()
if options.runSuite {
    let microFilter = "^(harness|bulk|udp-send|wouldblock-read|option-get|option-set|tcp-info|address|accept-close)/.*"
    for index in 0..<options.suiteRepeats {
        progress("micro-benchmarks, suite run \(index + 1)/\(options.suiteRepeats)")
        runSuite(options, filter: microFilter, names: microNames, into: &suite)
    }
    progress("ping-pong mallocs (suite)")
    var pingPongSuite = SuiteResults()
    runSuite(options, filter: "^(harness/empty/uncounted|pingpong/.*)", names: pingPongSuiteNames(), into: &pingPongSuite)
    for (name, runs) in pingPongSuite.runs where name.hasPrefix("pingpong/") { suite.runs[name] = runs }
    suite.runs["harness/empty/uncounted-pingpong"] = pingPongSuite.runs["harness/empty/uncounted"]
    suite.failures += pingPongSuite.failures
}
let loadAfter = loadAverage()

var rows: [Row] = []
var targetLines: [String] = []

// Ping-pong rows.
for key in pingPongKeys() {
    let label = "ping-pong \(key.proto.uppercased() == "UNIX" ? "Unix" : key.proto.uppercased()) \(key.size == 1 ? "1 B" : "1 KiB") \(key.mode)"
    let figures = pingPong.rtt[key] ?? [:]
    let deadlineKey = PingPongKey(proto: key.proto, size: key.size, mode: "deadline")
    let nioRuns = pingPong.rtt[deadlineKey]?["nio"] ?? []
    let sockRuns = figures["sock"] ?? [], cRuns = figures["c"] ?? []
    func ratioRange(_ a: [Double], _ b: [Double]) -> (Double, Double, Double)? {
        let ratios = zip(a, b).map { $0 / $1 }
        guard let middle = median(ratios) else { return nil }
        return (middle, ratios.min()!, ratios.max()!)
    }
    let sockOverC = ratioRange(sockRuns, cRuns)
    // NIO's repeats are paired with Sock's repeats of this mode.
    let nioOverSock = ratioRange(nioRuns, sockRuns)
    let suiteBase = "pingpong/\(key.proto)-\(sizeName(key.size))"
    let sockMallocs = medianPerOp(suite, "\(suiteBase)-\(key.mode)/sock") { $0.mallocs }
    let cMallocs = medianPerOp(suite, "\(suiteBase)-\(key.mode)/c") { $0.mallocs }
    let nioMallocs = medianPerOp(suite, "\(suiteBase)/nio") { $0.mallocs }
    var row = Row(name: label)
    row.sock = formatTime(median(sockRuns))
    row.c = formatTime(median(cRuns))
    if key.mode == "deadline", let blocking = median(figures["c-block"] ?? []) {
        row.c += " (blocking: \(formatTime(blocking)))"
    }
    row.nio = formatTime(median(nioRuns)) + (key.mode == "spin" && !nioRuns.isEmpty ? " †" : "")
    row.sockOverC = formatRatio(sockOverC)
    row.nioOverSock = formatRatio(nioOverSock)
    row.mallocs = "\(formatCount(sockMallocs)) · \(formatCount(cMallocs)) · \(formatCount(nioMallocs))"
    row.cpu = "\(formatTime(median(pingPong.cpu[key]?["sock"] ?? []))) · \(formatTime(median(pingPong.cpu[key]?["c"] ?? [])))"
    let nioLimit = key.mode == "spin" ? 5.0 : 1.1
    let verdicts = [atMost(sockOverC, 1.05), atLeast(nioOverSock, nioLimit), zeroMallocs(sockMallocs)]
    row.target = "Sock/C ≤ 1.05, NIO/Sock ≥ \(key.mode == "spin" ? "5" : "1.1"), 0 mallocs"
    row.verdict = verdicts.map(\.text).joined(separator: ", ")
    rows.append(row)
}

// Micro rows: (label, sock name, c name, divisor (operations per measured op), target).
@MainActor func microRow(_ label: String, sock: String?, c: String?, paired: String? = nil, perOp divisor: Double = 1, unit: String? = nil,
              ratioTarget: Double? = nil, zeroMallocTarget: Bool = true) {
    var row = Row(name: label)
    let sockTime = sock.flatMap { name in medianPerOp(suite, name) { $0.nanoseconds } }.map { $0 / divisor }
    let cTime = c.flatMap { name in medianPerOp(suite, name) { $0.nanoseconds } }.map { $0 / divisor }
    row.sock = sock == nil ? "n/a" : formatTime(sockTime)
    row.c = c == nil ? "n/a" : formatTime(cTime)
    if let unit { row.sock += unit == "" ? "" : " \(unit)"; _ = unit }
    var sockOverC: (Double, Double, Double)?
    if let paired, let pairedValue = pairedRatio(suite, paired) {
        sockOverC = pairedValue
        row.sockOverC = formatRatio(sockOverC) + " ‡"
    } else {
        if let sock, let c { sockOverC = ratio(suite, sock, c) }
        row.sockOverC = formatRatio(sockOverC)
    }
    let sockMallocs = sock.flatMap { name in medianPerOp(suite, name) { $0.mallocs } }
    let cMallocs = c.flatMap { name in medianPerOp(suite, name) { $0.mallocs } }
    row.mallocs = "\(formatCount(sockMallocs)) · \(formatCount(cMallocs)) · —"
    let sockSyscalls = sock.flatMap { name in medianPerOp(suite, name) { $0.syscalls } }
    let cSyscalls = c.flatMap { name in medianPerOp(suite, name) { $0.syscalls } }
    row.syscalls = sockSyscalls == nil && cSyscalls == nil ? "—" : "\(formatCount(sockSyscalls)) · \(formatCount(cSyscalls))"
    var targets: [String] = [], verdicts: [Verdict] = []
    if let ratioTarget {
        targets.append("Sock/C ≤ \(ratioTarget)")
        verdicts.append(atMost(sockOverC, ratioTarget))
    }
    if zeroMallocTarget && sock != nil {
        targets.append("0 mallocs")
        verdicts.append(zeroMallocs(sockMallocs))
    }
    row.target = targets.joined(separator: ", ")
    row.verdict = verdicts.map(\.text).joined(separator: ", ")
    rows.append(row)
}

microRow("bulk TCP, per 64 KiB write (TCPConn.write, deadline)", sock: "bulk/tcp-64KiB-write/sock", c: "bulk/tcp-64KiB-write/c")
microRow("UDP per datagram: send (UDPConn.write, connected)", sock: "udp-send/plain/sock", c: "udp-send/plain/c", paired: "udp-send/plain/paired")
microRow("UDP per datagram: sendto (UDPConn.writeTo)", sock: "udp-send/sendto/sock", c: "udp-send/sendto/c", paired: "udp-send/sendto/paired")
microRow("UDP per datagram: sendmmsg ×25 (UDPConn.sendMessages)", sock: "udp-send/sendmmsg-x25/sock", c: "udp-send/sendmmsg-x25/c", paired: "udp-send/sendmmsg-x25/paired")
microRow("UDP per datagram: GSO ×25, per call (UDPConn.writeSegmented, UDP_SEGMENT cmsg)", sock: "udp-send/gso-cmsg-x25/sock", c: "udp-send/gso-cmsg-x25/c", paired: "udp-send/gso-cmsg-x25/paired")
microRow("UDP per datagram: GSO ×25, per socket (setGSOSegmentSize + UDPConn.write)", sock: "udp-send/gso-x25/sock", c: "udp-send/gso-x25/c", paired: "udp-send/gso-x25/paired")
microRow("would-block read (TCPConn.read, EAGAIN)", sock: "wouldblock-read/tcp/sock", c: "wouldblock-read/tcp/c", paired: "wouldblock-read/tcp/paired", ratioTarget: 1.05)
microRow("option get TCP_NODELAY (TCPConn.option(.noDelay))", sock: "option-get/TCP_NODELAY/sock", c: "option-get/TCP_NODELAY/c", paired: "option-get/TCP_NODELAY/paired")
microRow("option get TCP_NODELAY (Descriptor.option(_:) with the key)", sock: "option-get/TCP_NODELAY/accessor", c: "option-get/TCP_NODELAY/c", paired: "option-get/TCP_NODELAY-accessor/paired")
microRow("option set TCP_NODELAY (TCPConn.setOption(.noDelay, to:))", sock: "option-set/TCP_NODELAY/sock", c: "option-set/TCP_NODELAY/c", paired: "option-set/TCP_NODELAY/paired")
microRow("option set TCP_NODELAY (Descriptor.setOption(_:to:) with the key)", sock: "option-set/TCP_NODELAY/accessor", c: "option-set/TCP_NODELAY/c", paired: "option-set/TCP_NODELAY-accessor/paired")
microRow("TCP info read (TCPConn.tcpInfo(into: &TCPInfoSnapshot))", sock: "tcp-info/read/sock", c: "tcp-info/read/c", paired: "tcp-info/read/paired")
microRow("TCP info read (TCPConn.option(.info, into: &TCPInfo))", sock: "tcp-info/read/accessor", c: "tcp-info/read/c", paired: "tcp-info/read-accessor/paired")
microRow("address parse IPv4 (IPv4Address(String))", sock: "address/parse-ipv4/sock", c: "address/parse-ipv4/c")
microRow("address parse IPv6 (IPv6Address(String))", sock: "address/parse-ipv6/sock", c: "address/parse-ipv6/c")
microRow("address format IPv4 (.description)", sock: "address/format-ipv4/sock", c: "address/format-ipv4/c", zeroMallocTarget: false)
microRow("address format IPv6 (.description)", sock: "address/format-ipv6/sock", c: "address/format-ipv6/c", zeroMallocTarget: false)
microRow("address encode (SockaddrInet6 → sockaddr_in6)", sock: "address/encode-ipv6/sock", c: "address/encode-ipv6/c")
microRow("address decode (sockaddr_in6 → SockaddrInet6)", sock: "address/decode-ipv6/sock", c: "address/decode-ipv6/c")
microRow("accept and close, per connection (TCPListener.accept, TCPConn.close)", sock: "accept-close/tcp/sock", c: "accept-close/tcp/c", zeroMallocTarget: false)

// GSO gain: plain send per datagram ÷ GSO per datagram, for Sock (and C).
do {
    var row = Row(name: "UDP GSO gain (send per datagram ÷ writeSegmented per datagram)")
    let sockGain = ratio(suite, "udp-send/plain/sock", "udp-send/gso-cmsg-x25/sock")
    let cGain = ratio(suite, "udp-send/plain/c", "udp-send/gso-cmsg-x25/c")
    row.sock = formatRatio(sockGain).split(separator: " ").first.map { "\($0)×" } ?? "—"
    row.c = formatRatio(cGain).split(separator: " ").first.map { "\($0)×" } ?? "—"
    row.sockOverC = formatRatio(sockGain)
    row.target = "GSO ≥ 4× cheaper"
    row.verdict = atLeast(sockGain, 4).text
    rows.append(row)
}

// Output.
var lines: [String] = []
lines.append("| Benchmark | Sock | C | NIO | Sock/C (range) | NIO/Sock (range) | mallocs/op Sock · C · NIO | syscalls/op Sock · C | CPU/op Sock · C | Target | Verdict |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
for row in rows {
    lines.append("| \(row.name) | \(row.sock) | \(row.c) | \(row.nio) | \(row.sockOverC) | \(row.nioOverSock) | \(row.mallocs) | \(row.syscalls) | \(row.cpu) | \(row.target) | \(row.verdict) |")
}
var notes: [String] = [
    "",
    "Ping-pong figures are medians over repeats; micro-benchmark figures are the median over suite runs of the 25th percentile of "
        + "per-iteration times (1000 operations per iteration, the harness's own cost subtracted), which keeps interference from other "
        + "processes out of the figure. A ratio's range is its min–max over repeats (ping-pong) or suite runs (micro-benchmarks). "
        + "A ping-pong figure is one `sock-pingpong` run's `rtt_p50_ns`: the median over batches of 200 round trips of the mean round trip "
        + "(robust to scheduling stalls; `rtt_ns`, the plain mean, is printed too); its mallocs/op are per round trip, both threads counted "
        + "(package-benchmark, MallocInterposer); syscalls/op come from the perf tracepoint raw_syscalls:sys_enter. "
        + "‡ Sock/C from the paired benchmark: a block of 1000 Sock operations and a block of 1000 C operations timed back to back in "
        + "one process on the same socket (median per-iteration ratio; range over suite runs); separate processes land in performance "
        + "modes up to 25 % apart on this virtual machine, so cross-process ratios of system calls are not trusted. "
        + "† NIO never spins: its figure is its only mode (epoll), shown in both rows. "
        + "\"blocking\" is C with blocking sockets (the kernel waits), the cheapest possible waiting round trip.",
]
let failures = pingPong.failures + suite.failures
if !failures.isEmpty {
    notes.append("")
    notes.append("Failures:")
    notes += failures.map { "- \($0)" }
}
let seconds = Date().timeIntervalSince(started)
let header = ["## Sock benchmarks", ""] + conditions(loadBefore: loadBefore, loadAfter: loadAfter, options: options, seconds: seconds, busy: busy) + [""]
let text = (header + lines + notes).joined(separator: "\n") + "\n"
print(text, terminator: "")
if let output = options.output {
    _ = FileManager.default.createFile(atPath: output, contents: Data(text.utf8))
}
exit(failures.isEmpty ? 0 : 2)
