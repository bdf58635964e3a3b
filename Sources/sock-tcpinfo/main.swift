// sock-tcpinfo: connect to HOST:PORT and print the connection's TCP_INFO,
// like `ss -ti`, marking the fields the running kernel did not fill.
//
//   sock-tcpinfo HOST:PORT [--json] [-W TIMEOUT]
//
// Exit status: 0 on success, 1 when the host cannot be resolved or reached
// (the message names the reason, such as "connection refused"), 2 for a
// usage error.
#if canImport(Glibc)
import Glibc
#endif
import ExampleSupport
import Sock

let tool = "sock-tcpinfo"
let usage = """
    Usage: sock-tcpinfo HOST:PORT [--json] [-W TIMEOUT]

    Connects to HOST:PORT over TCP and prints the connection's TCP_INFO like
    `ss -ti`: state, rtt/rttvar, cwnd, ssthresh, mss, retransmits, delivery
    rate, bytes acked and received, ... Fields the running kernel did not fill
    (it is older than the headers Sock was generated from) are shown as n/a.
    IPv6 addresses take brackets: [::1]:8080.

    Options:
      --json                   print one JSON object (unfilled fields are null and
                               listed in "unavailable")
      -W, --timeout SECONDS    give up connecting after SECONDS (default 5)
      --filled-bytes N         show the reading as a kernel that filled only the first
                               N bytes of tcp_info would (232 is Linux 6.1), to see
                               the n/a marking on a newer kernel
      -h, --help               show this help

    Exit status: 0 on success, 1 when the connection fails, 2 on usage errors.
    """

/// How a field is shown.
enum Unit {
    case count, bytes, microseconds, milliseconds, bytesPerSecond
}

/// One field of the report: its name (ss's where it has one), unit and value
/// (nil when the kernel did not fill it).
struct Field {
    var name: String
    var unit: Unit
    var read: (TCPInfoSnapshot) -> UInt64?
}

func field<Value: BinaryInteger>(_ name: String, _ unit: Unit, _ key: KeyPath<TCPInfo, Value>) -> Field {
    Field(name: name, unit: unit, read: { snapshot in snapshot.available(key).map { UInt64($0) } })
}

/// The fields reported, in order.
func reportFields() -> [Field] { [
    field("rtt", .microseconds, \.tcpi_rtt),
    field("rttvar", .microseconds, \.tcpi_rttvar),
    field("minrtt", .microseconds, \.tcpi_min_rtt),
    field("rto", .microseconds, \.tcpi_rto),
    field("ato", .microseconds, \.tcpi_ato),
    field("mss", .bytes, \.tcpi_snd_mss),
    field("rcvmss", .bytes, \.tcpi_rcv_mss),
    field("advmss", .bytes, \.tcpi_advmss),
    field("pmtu", .bytes, \.tcpi_pmtu),
    field("cwnd", .count, \.tcpi_snd_cwnd),
    field("ssthresh", .count, \.tcpi_snd_ssthresh),
    field("rcv_ssthresh", .bytes, \.tcpi_rcv_ssthresh),
    field("rcv_space", .bytes, \.tcpi_rcv_space),
    field("snd_wnd", .bytes, \.tcpi_snd_wnd),
    field("rcv_wnd", .bytes, \.tcpi_rcv_wnd),
    field("retransmits", .count, \.tcpi_retransmits),
    field("total_retrans", .count, \.tcpi_total_retrans),
    field("unacked", .count, \.tcpi_unacked),
    field("lost", .count, \.tcpi_lost),
    field("reordering", .count, \.tcpi_reordering),
    field("pacing_rate", .bytesPerSecond, \.tcpi_pacing_rate),
    field("delivery_rate", .bytesPerSecond, \.tcpi_delivery_rate),
    field("bytes_sent", .bytes, \.tcpi_bytes_sent),
    field("bytes_acked", .bytes, \.tcpi_bytes_acked),
    field("bytes_received", .bytes, \.tcpi_bytes_received),
    field("bytes_retrans", .bytes, \.tcpi_bytes_retrans),
    field("segs_out", .count, \.tcpi_segs_out),
    field("segs_in", .count, \.tcpi_segs_in),
    field("data_segs_out", .count, \.tcpi_data_segs_out),
    field("data_segs_in", .count, \.tcpi_data_segs_in),
    field("delivered", .count, \.tcpi_delivered),
    field("notsent", .bytes, \.tcpi_notsent_bytes),
    field("busy_time", .microseconds, \.tcpi_busy_time),
    field("dsack_dups", .count, \.tcpi_dsack_dups),
    field("rcv_ooopack", .count, \.tcpi_rcv_ooopack),
    field("rehash", .count, \.tcpi_rehash),
    field("total_rto", .count, \.tcpi_total_rto),
    field("total_rto_recoveries", .count, \.tcpi_total_rto_recoveries),
    field("total_rto_time", .milliseconds, \.tcpi_total_rto_time),
] }

/// The JSON key of a field: its name with the unit as a suffix.
func jsonKey(_ field: Field) -> String {
    switch field.unit {
    case .microseconds: "\(field.name)_us"
    case .bytesPerSecond: "\(field.name)_bps"
    case .milliseconds: "\(field.name)_ms"
    case .count, .bytes: field.name
    }
}

func humanValue(_ value: UInt64, _ unit: Unit) -> String {
    switch unit {
    case .count: "\(value)"
    case .bytes: "\(value) B"
    case .microseconds: "\(formatDecimal(Double(value) / 1000)) ms"
    case .milliseconds: "\(value) ms"
    case .bytesPerSecond: "\(formatDecimal(Double(value) * 8 / 1_000_000, decimals: 1)) Mbps"
    }
}

func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// The options read from the command line.
struct Options {
    var target: String
    var json: Bool
    var timeout: Duration
    var filledBytes: Int?
}

func parseOptions() -> Options {
    let parsed: ParsedArguments
    do throws(UsageError) {
        parsed = try ParsedArguments(
            Array(CommandLine.arguments.dropFirst()),
            valueOptions: ["-W": "timeout", "--timeout": "timeout", "--filled-bytes": "filled"],
            flagOptions: ["--json": "json", "-h": "help", "--help": "help"])
    } catch {
        exit(tool, error.description, code: .usage)
    }
    if parsed.has("help") {
        print(usage)
        Glibc.exit(ToolExit.success.rawValue)
    }
    guard parsed.positionals.count == 1 else {
        exit(tool, parsed.positionals.isEmpty ? "missing HOST:PORT" : "expected one HOST:PORT, got \(parsed.positionals.count) arguments", code: .usage)
    }
    var options = Options(target: parsed.positionals[0], json: parsed.has("json"), timeout: .seconds(5))
    if let text = parsed.values["timeout"] {
        guard let timeout = parseSeconds(text), timeout > .zero else {
            exit(tool, "invalid timeout '\(text)': expected a positive number of seconds", code: .usage)
        }
        options.timeout = timeout
    }
    if let text = parsed.values["filled"] {
        guard let bytes = Int(text), bytes >= 0, bytes <= TCPInfoSnapshot.capacity else {
            exit(tool, "invalid --filled-bytes '\(text)': expected 0 to \(TCPInfoSnapshot.capacity)", code: .usage)
        }
        options.filledBytes = bytes
    }
    return options
}

/// The error's text without the "sock: " prefix.
func reason(_ error: SockError) -> String {
    let text = error.description
    return text.hasPrefix("sock: ") ? String(text.dropFirst(6)) : text
}

func run(_ options: Options) -> ToolExit {
    let addresses: [AnySocketAddress]
    do throws(ResolveError) {
        addresses = try AnySocketAddress.resolve(options.target)
    } catch {
        if error.code == .invalidInput {
            exit(tool, "invalid HOST:PORT '\(options.target)' (IPv6 addresses take brackets: [::1]:80)", code: .usage)
        }
        exit(tool, "\(error)".replacingPrefix("sock: "), code: .failure)
    }
    // Try each address in the resolver's order, as dialers do.
    var conn: TCPConn?
    var lastError: SockError?
    var lastAddress = addresses[0]
    for address in addresses {
        lastAddress = address
        do throws(SockError) {
            conn = try TCPDialer(timeout: options.timeout).dial(to: address)
            break
        } catch {
            lastError = error
        }
    }
    guard let conn else {
        exit(tool, "cannot connect to \(lastAddress): \(lastError.map(reason) ?? "no address")", code: .failure)
    }
    var snapshot = TCPInfoSnapshot()
    let local: String, peer: String
    do throws(SockError) {
        try conn.tcpInfo(into: &snapshot)
        if let bytes = options.filledBytes, bytes < snapshot.filledBytes {
            snapshot = TCPInfoSnapshot(info: snapshot.info, filledBytes: bytes)
        }
        local = "\(try conn.localAddress)"
        peer = "\(conn.remoteAddress)"
    } catch {
        exit(tool, "cannot read TCP_INFO: \(reason(error))", code: .failure)
    }
    let fields = reportFields()
    let state = snapshot.state.map { "\($0)" } ?? "unknown"
    let unavailable = fields.filter { $0.read(snapshot) == nil }.map(\.name)
    if options.json {
        var members = [
            "\"local\": \(jsonString(local))",
            "\"peer\": \(jsonString(peer))",
            "\"state\": \(jsonString(state))",
            "\"filled_bytes\": \(snapshot.filledBytes)",
            "\"known_bytes\": \(TCPInfoSnapshot.capacity)",
        ]
        for field in fields {
            members.append("\(jsonString(jsonKey(field))): \(field.read(snapshot).map { "\($0)" } ?? "null")")
        }
        members.append("\"unavailable\": [\(unavailable.map(jsonString).joined(separator: ", "))]")
        print("{\n  " + members.joined(separator: ",\n  ") + "\n}")
    } else {
        print("\(state)  \(local) -> \(peer)")
        let width = fields.map(\.name.count).max()! + 2
        for field in fields {
            let label = field.name + String(repeating: " ", count: width - field.name.count)
            if let value = field.read(snapshot) {
                print("  \(label)\(humanValue(value, field.unit))")
            } else {
                print("  \(label)n/a (not filled by this kernel)")
            }
        }
        var options: [String] = []
        if snapshot.info.hasTimestamps { options.append("ts") }
        if snapshot.info.hasSACK { options.append("sack") }
        if snapshot.info.hasWindowScaling {
            options.append("wscale:\(snapshot.info.sendWindowScale),\(snapshot.info.receiveWindowScale)")
        }
        if snapshot.info.hasECN { options.append("ecn") }
        print("  options" + String(repeating: " ", count: width - 7) + (options.isEmpty ? "none" : options.joined(separator: " ")))
        print("kernel filled \(snapshot.filledBytes) of the \(TCPInfoSnapshot.capacity) bytes of tcp_info Sock knows"
              + (unavailable.isEmpty ? "" : "; \(unavailable.count) field(s) n/a"))
    }
    try? conn.close()
    return .success
}

let code = run(parseOptions())
fflush(nil)
Glibc.exit(code.rawValue)
