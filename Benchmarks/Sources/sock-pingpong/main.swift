// sock-pingpong <tcp|udp|unix> <rounds> <size> <spin|deadline> [--impl sock|c|c-block|nio] [--pin] [--warmup N]
//
// Two threads exchange `size`-byte messages over a loopback connection: the
// main thread (client) sends and waits for the echo, an echo thread (server)
// receives and sends back. One round trip = one send and one receive on each
// side. Prints one line with `rtt_ns=<mean nanoseconds per round trip>`, and
// `rtt_p50_ns`, the median over batches of 200 round trips (robust to the
// rare scheduling stall that inflates a mean on a shared machine).
//
//   spin      non-blocking attempts retried by the caller (busy loop on would-block)
//   deadline  calls with a 5 s deadline (taken once per round trip), waiting
//             through Sock's adaptive I/O (strike, spin 10 µs, ppoll)
//
//   --impl sock     Sock (default)
//   --impl c        C making exactly Sock's system calls (CSockRef)
//   --impl c-block  C with blocking sockets (deadline mode): the kernel waits
//   --impl nio      SwiftNIO, one event loop per side; it always waits in
//                   epoll, so its figure is the same in both modes
//   --pin           pin the client to CPU 0 and the server to CPU 1
//   --warmup N      round trips before the measured ones (default rounds/5,
//                   between 200 and 5000)
#if canImport(Glibc)
import Glibc
#endif
import SockBenchKit

let usage = "usage: sock-pingpong <tcp|udp|unix> <rounds> <size> <spin|deadline> [--impl sock|c|c-block|nio] [--pin] [--warmup N]"

var positional: [String] = []
var impl = Impl.sock
var pin = false
var warmupOverride: Int?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--impl":
        guard let value = arguments.popFirst(), let parsed = Impl(rawValue: value) else { fail(usage) }
        impl = parsed
    case "--pin":
        pin = true
    case "--warmup":
        guard let value = arguments.popFirst(), let parsed = Int(value), parsed >= 0 else { fail(usage) }
        warmupOverride = parsed
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        positional.append(argument)
    }
}
guard positional.count == 4,
      let proto = Proto(rawValue: positional[0]),
      let rounds = Int(positional[1]), rounds > 0,
      let size = Int(positional[2]), size > 0, size <= 65_000,
      let mode = Mode(rawValue: positional[3])
else { fail(usage) }
let warmup = warmupOverride ?? min(max(rounds / 5, 200), 5_000)

let clientCPU: Int? = pin ? 0 : nil
let serverCPU: Int? = pin ? 1 : nil
if let clientCPU { pinCurrentThread(to: clientCPU) }

/// CPU time (user + system) of the whole process, in nanoseconds.
func processCPU() -> Int64 {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func ns(_ t: timeval) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_usec) * 1_000 }
    return ns(usage.ru_utime) + ns(usage.ru_stime)
}

/// Runs `rounds` round trips in batches of `batch`, recording each batch's
/// elapsed time (the array is allocated before, not during, the run).
func measure(rounds: Int, batch: Int, _ run: (Int) throws -> Int64) rethrows -> (total: Int64, batches: [Double]) {
    var batches = [Double](repeating: 0, count: (rounds + batch - 1) / batch)
    var total: Int64 = 0
    var done = 0, index = 0
    while done < rounds {
        let count = min(batch, rounds - done)
        let elapsed = try run(count)
        batches[index] = Double(elapsed) / Double(count)
        total += elapsed
        done += count
        index += 1
    }
    return (total, batches)
}

let batch = 200
var elapsed: Int64 = 0
var batches: [Double] = []
var cpu: Int64 = 0
var note = ""
do {
    switch impl {
    case .sock:
        let pp = try SockPingPong(proto: proto, size: size, mode: mode, serverCPU: serverCPU)
        _ = try pp.run(rounds: warmup)
        let cpuStart = processCPU()
        (elapsed, batches) = try measure(rounds: rounds, batch: batch) { try pp.run(rounds: $0) }
        cpu = processCPU() - cpuStart
        pp.stop()
    case .c, .cBlock:
        if impl == .cBlock && mode == .spin { note = " note=c-block-always-blocks" }
        let pp = try CPingPong(proto: proto, size: size, mode: mode, blocking: impl == .cBlock, serverCPU: serverCPU)
        _ = try pp.run(rounds: warmup)
        let cpuStart = processCPU()
        (elapsed, batches) = try measure(rounds: rounds, batch: batch) { try pp.run(rounds: $0) }
        cpu = processCPU() - cpuStart
        pp.stop()
    case .nio:
        if mode == .spin { note = " note=nio-never-spins" }
        let pp = try NIOPingPong(proto: proto, size: size, pin: pin)
        _ = try pp.run(rounds: warmup)
        let cpuStart = processCPU()
        (elapsed, batches) = try measure(rounds: rounds, batch: batch) { try pp.run(rounds: $0) }
        cpu = processCPU() - cpuStart
        pp.stop()
    }
} catch {
    fail("\(impl.rawValue) \(proto.rawValue): \(error)")
}
batches.sort()
let p50 = batches.isEmpty ? 0 : batches[batches.count / 2]

func fixed(_ value: Double, _ digits: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}
let rtt = Double(elapsed) / Double(rounds)
print("impl=\(impl.rawValue) proto=\(proto.rawValue) mode=\(mode.rawValue) size=\(size) rounds=\(rounds) warmup=\(warmup) pinned=\(pin ? 1 : 0) rtt_ns=\(fixed(rtt)) rtt_p50_ns=\(fixed(p50)) cpu_ns_per_rt=\(fixed(Double(cpu) / Double(rounds)))\(note)")
