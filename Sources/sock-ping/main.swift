// sock-ping: ICMP echo over a raw socket (IPv4 and IPv6), like ping(8).
//
//   sock-ping HOST [-c COUNT] [-i INTERVAL] [-W TIMEOUT] [-6]
//
// Needs root or CAP_NET_RAW. Exit status: 0 when at least one reply came
// back, 1 when none did or the ping could not start, 2 for a usage error.
#if canImport(Glibc)
import Glibc
#endif
import ExampleSupport
import Sock
import Synchronization

let tool = "sock-ping"
let usage = """
    Usage: sock-ping HOST [-c COUNT] [-i INTERVAL] [-W TIMEOUT] [-6]

    Sends ICMP echo requests to HOST over a raw socket and prints the round-trip
    time of each reply, then a summary like ping(8). Needs root or CAP_NET_RAW.

    Options:
      -c, --count COUNT        stop after COUNT requests (default 4; Ctrl-C stops
                               early and still prints the summary)
      -i, --interval SECONDS   wait between requests (default 1; at least 0.01)
      -W, --timeout SECONDS    wait for each reply (default 1)
      -6, --ipv6               use IPv6 (ICMPv6); also chosen for an IPv6 HOST
      -4, --ipv4               use IPv4 only
      -h, --help               show this help

    Exit status: 0 if any reply arrived, 1 if none did or on error, 2 on usage errors.
    """

/// Set by SIGINT: stop sending and print the summary (an atomic store is
/// async-signal-safe).
let interrupted = Atomic<Bool>(false)

/// Bytes of ICMP data after the 8-byte header, as ping's default.
let dataLength = 56

/// The options of one run.
struct Options {
    var host: String
    var count: Int
    var interval: Duration
    var timeout: Duration
    var family: CInt
}

func parseOptions() -> Options {
    let parsed: ParsedArguments
    do throws(UsageError) {
        parsed = try ParsedArguments(
            Array(CommandLine.arguments.dropFirst()),
            valueOptions: ["-c": "count", "--count": "count", "-i": "interval", "--interval": "interval",
                           "-W": "timeout", "--timeout": "timeout"],
            flagOptions: ["-6": "ipv6", "--ipv6": "ipv6", "-4": "ipv4", "--ipv4": "ipv4", "-h": "help", "--help": "help"])
    } catch {
        exit(tool, error.description, code: .usage)
    }
    if parsed.has("help") {
        print(usage)
        Glibc.exit(ToolExit.success.rawValue)
    }
    guard parsed.positionals.count == 1 else {
        exit(tool, parsed.positionals.isEmpty ? "missing HOST" : "expected one HOST, got \(parsed.positionals.count) arguments", code: .usage)
    }
    var options = Options(host: parsed.positionals[0], count: 4, interval: .seconds(1), timeout: .seconds(1), family: AddressFamily.unspecified.rawValue)
    if let text = parsed.values["count"] {
        guard let count = Int(text), count > 0, count <= 1_000_000 else {
            exit(tool, "invalid count '\(text)': expected a whole number from 1 to 1000000", code: .usage)
        }
        options.count = count
    }
    if let text = parsed.values["interval"] {
        guard let interval = parseSeconds(text), interval >= .milliseconds(10) else {
            exit(tool, "invalid interval '\(text)': expected seconds, at least 0.01", code: .usage)
        }
        options.interval = interval
    }
    if let text = parsed.values["timeout"] {
        guard let timeout = parseSeconds(text), timeout > .zero else {
            exit(tool, "invalid timeout '\(text)': expected a positive number of seconds", code: .usage)
        }
        options.timeout = timeout
    }
    if parsed.has("ipv6") && parsed.has("ipv4") {
        exit(tool, "-4 and -6 cannot be used together", code: .usage)
    }
    if parsed.has("ipv6") { options.family = AddressFamily.inet6.rawValue }
    if parsed.has("ipv4") { options.family = AddressFamily.inet.rawValue }
    return options
}

// MARK: ICMP

/// The Internet checksum (RFC 1071) of `bytes`.
func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var index = 0
    while index + 1 < bytes.count {
        sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
        index += 2
    }
    if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
    while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
    return ~UInt16(truncatingIfNeeded: sum)
}

/// An echo request: type, code 0, checksum, identifier, sequence, data.
/// The ICMPv6 checksum is the kernel's to fill (it covers a pseudo-header).
func echoRequest(ipv6: Bool, identifier: UInt16, sequence: UInt16) -> [UInt8] {
    var packet = [UInt8](repeating: 0, count: 8 + dataLength)
    packet[0] = ipv6 ? 128 : 8
    packet[4] = UInt8(identifier >> 8)
    packet[5] = UInt8(identifier & 0xFF)
    packet[6] = UInt8(sequence >> 8)
    packet[7] = UInt8(sequence & 0xFF)
    for index in 0 ..< dataLength { packet[8 + index] = UInt8(truncatingIfNeeded: index) }
    if !ipv6 {
        let checksum = internetChecksum(packet)
        packet[2] = UInt8(checksum >> 8)
        packet[3] = UInt8(checksum & 0xFF)
    }
    return packet
}

/// An echo reply found in a received packet.
struct EchoReply {
    var sequence: UInt16
    var icmpBytes: Int
    var ttl: Int?
}

/// Parses `packet` (with the IPv4 header on an IPv4 raw socket) as an echo
/// reply with `identifier`, or `nil` for anything else (our own request
/// looped back on loopback, other ICMP traffic).
func parseReply(_ packet: UnsafeRawBufferPointer, ipv6: Bool, identifier: UInt16) -> EchoReply? {
    var offset = 0
    var ttl: Int?
    if !ipv6 {
        guard packet.count >= 20 else { return nil }
        offset = Int(packet[0] & 0x0F) * 4
        ttl = Int(packet[8])
    }
    guard packet.count >= offset + 8 else { return nil }
    let type = packet[offset]
    guard type == (ipv6 ? 129 : 0), packet[offset + 1] == 0 else { return nil }
    let id = UInt16(packet[offset + 4]) << 8 | UInt16(packet[offset + 5])
    guard id == identifier else { return nil }
    let sequence = UInt16(packet[offset + 6]) << 8 | UInt16(packet[offset + 7])
    return EchoReply(sequence: sequence, icmpBytes: packet.count - offset, ttl: ttl)
}

// MARK: Running

/// Round-trip times, for the summary.
struct Statistics {
    var transmitted = 0
    var received = 0
    var rtts: [Double] = []  // milliseconds

    func printSummary(host: String) {
        print("--- \(host) ping statistics ---")
        let loss = transmitted == 0 ? 0 : Double(transmitted - received) * 100 / Double(transmitted)
        print("\(transmitted) packets transmitted, \(received) received, \(formatDecimal(loss, decimals: loss.rounded() == loss ? 0 : 1))% packet loss")
        guard !rtts.isEmpty else { return }
        let minimum = rtts.min()!, maximum = rtts.max()!
        let mean = rtts.reduce(0, +) / Double(rtts.count)
        let meanOfSquares = rtts.reduce(0) { $0 + $1 * $1 } / Double(rtts.count)
        let mdev = (max(meanOfSquares - mean * mean, 0)).squareRoot()
        print("rtt min/avg/max/mdev = \(formatDecimal(minimum))/\(formatDecimal(mean))/\(formatDecimal(maximum))/\(formatDecimal(mdev)) ms")
    }
}

/// Sends one request and waits up to `timeout` for its reply, printing it.
func ping(
    _ conn: RawConn, target: AnySocketAddress, ipv6: Bool, identifier: UInt16, sequence: UInt16,
    timeout: Duration, statistics: inout Statistics, displayName: String
) throws(SockError) {
    let clock = ContinuousClock()
    let request = echoRequest(ipv6: ipv6, identifier: identifier, sequence: sequence)
    let sent = clock.now
    let result = try request.span.bytes.withUnsafeBytes { bytes throws(SockError) in try conn.writeTo(bytes, address: target) }
    guard case .completed = result else { throw .wouldBlock }
    statistics.transmitted += 1
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 1500, alignment: 8)
    defer { storage.deallocate() }
    conn.deadlines.setReadDeadline(.after(timeout))
    defer { conn.deadlines.setReadDeadline(.none) }
    while true {
        guard case .completed(let count) = try conn.read(into: storage) else { continue }
        let reply = parseReply(UnsafeRawBufferPointer(rebasing: storage[0 ..< count]), ipv6: ipv6, identifier: identifier)
        guard let reply, reply.sequence == sequence else { continue }  // not ours, or a late one
        let rtt = milliseconds(clock.now - sent)
        statistics.received += 1
        statistics.rtts.append(rtt)
        let ttl = reply.ttl.map { " ttl=\($0)" } ?? ""
        print("\(reply.icmpBytes) bytes from \(displayName): icmp_seq=\(sequence)\(ttl) time=\(formatDecimal(rtt)) ms")
        fflush(nil)  // one line per reply as it arrives, also into a pipe or file, as ping does
        return
    }
}

/// The address without its port, for display.
func hostText(_ address: AnySocketAddress) -> String {
    switch address {
    case .inet4(let a): "\(a.address)"
    case .inet6(let a): "\(a.address)"
    case .unix(let a): a.path
    }
}

func run(_ options: Options) -> ToolExit {
    let target: AnySocketAddress
    do throws(ResolveError) {
        guard let first = try AnySocketAddress.resolve(host: options.host, port: 0, family: options.family).first else {
            exit(tool, "\(options.host): no address", code: .failure)
        }
        target = first
    } catch {
        exit(tool, "\(error)".replacingPrefix("sock: "), code: .failure)
    }
    let ipv6 = target.family == AddressFamily.inet6.rawValue
    let conn: RawConn
    do throws(SockError) {
        conn = try RawConn.dial(network: ipv6 ? "ip6:ipv6-icmp" : "ip4:icmp", to: target)
    } catch {
        if error.code == .permissionDenied || error.errnoCode == EPERM {
            exit(tool, "cannot open a raw ICMP socket: permission denied (run as root or grant CAP_NET_RAW)", code: .failure)
        }
        exit(tool, "cannot open a raw ICMP socket: \(error)", code: .failure)
    }
    let identifier = UInt16(truncatingIfNeeded: getpid())
    let display = hostText(target)
    print("PING \(options.host) (\(display)): \(dataLength) data bytes")
    fflush(nil)
    var statistics = Statistics()
    let clock = ContinuousClock()
    signal(SIGINT) { _ in interrupted.store(true, ordering: .relaxed) }
    // A parent may have started us with SIGINT blocked (the mask is
    // inherited); unblock it so that Ctrl-C reaches the handler.
    var unblock = sigset_t()
    sigemptyset(&unblock)
    sigaddset(&unblock, SIGINT)
    sigprocmask(SIG_UNBLOCK, &unblock, nil)
    for index in 0 ..< options.count {
        if interrupted.load(ordering: .relaxed) { break }
        let started = clock.now
        let sequence = UInt16(truncatingIfNeeded: index + 1)
        do throws(SockError) {
            try ping(conn, target: target, ipv6: ipv6, identifier: identifier, sequence: sequence,
                     timeout: options.timeout, statistics: &statistics, displayName: display)
        } catch {
            if interrupted.load(ordering: .relaxed) {
                break
            } else if error.code == .timedOut {
                print("no reply for icmp_seq=\(sequence) within \(formatDecimal(milliseconds(options.timeout), decimals: 0)) ms")
                fflush(nil)
            } else {
                fflush(nil)
                printError("\(tool): icmp_seq=\(sequence): \(error)")
            }
        }
        if index + 1 < options.count {
            let elapsed = clock.now - started
            if elapsed < options.interval {
                let (seconds, attoseconds) = (options.interval - elapsed).components
                var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 && errno == EINTR && !interrupted.load(ordering: .relaxed) {
                    request = remaining
                }
            }
        }
    }
    print("")
    statistics.printSummary(host: options.host)
    return statistics.received > 0 ? .success : .failure
}

let code = run(parseOptions())
fflush(nil)
Glibc.exit(code.rawValue)
