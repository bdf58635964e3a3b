// Hand-rolled argument parsing and error reporting shared by the example
// tools (sock-ping, sock-tcpinfo, sock-fdpass). Not a product: the root
// package has no third-party dependency, so no swift-argument-parser here.
#if canImport(Glibc)
import Glibc
#endif

/// The exit codes of the example tools.
public enum ToolExit: Int32, Sendable {
    /// Success.
    case success = 0
    /// The operation failed (unreachable host, refused connection, no reply…).
    case failure = 1
    /// The command line was wrong.
    case usage = 2
}

/// Writes `text` and a newline to standard error, unbuffered.
public func printError(_ text: String) {
    var line = text
    line.append("\n")
    line.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { break }
            offset += written
        }
    }
}

/// Flushes standard output, prints `"tool: message"` on standard error and
/// exits with `code`; for usage errors it adds a hint to run `--help`.
public func exit(_ tool: String, _ message: String, code: ToolExit) -> Never {
    fflush(nil)
    printError("\(tool): \(message)")
    if code == .usage {
        printError("Run '\(tool) --help' for usage.")
    }
    Glibc.exit(code.rawValue)
}

/// A usage error: what was wrong with the command line.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    /// The explanation, such as "missing value for -c".
    public let description: String

    /// A usage error explaining `description`.
    public init(_ description: String) { self.description = description }
}

/// A command line split into options and positional arguments.
///
/// Options are `-x VALUE`, `--name VALUE` or `--name=VALUE` for the names
/// declared as taking values, and bare flags for the others; `--` ends the
/// options. Unknown options are usage errors.
public struct ParsedArguments: Sendable {
    /// The positional arguments, in order.
    public private(set) var positionals: [String] = []

    /// The options given with a value, by canonical name (the last one wins).
    public private(set) var values: [String: String] = [:]

    /// The flags given (options without a value), by canonical name.
    public private(set) var flags: Set<String> = []

    /// Parses `arguments` (without the program name).
    ///
    /// - Parameters:
    ///   - valueOptions: Spelling → canonical name of the options that take a
    ///     value, such as `["-c": "count", "--count": "count"]`.
    ///   - flagOptions: Spelling → canonical name of the flags, such as
    ///     `["-6": "ipv6", "--help": "help", "-h": "help"]`.
    /// - Throws: ``UsageError`` for an unknown option or a missing value.
    public init(
        _ arguments: [String], valueOptions: [String: String], flagOptions: [String: String]
    ) throws(UsageError) {
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            if let name = flagOptions[argument] {
                flags.insert(name)
                continue
            }
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--"),
               let name = valueOptions[String(argument[..<equals])] {
                values[name] = String(argument[argument.index(after: equals)...])
                continue
            }
            if let name = valueOptions[argument] {
                guard index < arguments.count else { throw UsageError("missing value for \(argument)") }
                values[name] = arguments[index]
                index += 1
                continue
            }
            throw UsageError("unknown option '\(argument)'")
        }
    }

    /// Whether the flag `name` was given.
    public func has(_ name: String) -> Bool { flags.contains(name) }
}

/// Parses a decimal number of seconds such as `"1"`, `"0.2"` or `".5"` into a
/// `Duration`, rejecting negative, empty and non-numeric text.
public func parseSeconds(_ text: String) -> Duration? {
    guard !text.isEmpty, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 }),
          text.utf8.filter({ $0 == 46 }).count <= 1, text != "."
    else { return nil }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let whole = parts[0].isEmpty ? 0 : Int64(parts[0])
    guard let whole, whole <= 1_000_000 else { return nil }
    var nanoseconds: Int64 = 0
    if parts.count == 2 {
        let fraction = parts[1].prefix(9)
        guard let digits = fraction.isEmpty ? 0 : Int64(fraction) else { return nil }
        var scale: Int64 = 1
        for _ in fraction.count ..< 9 { scale *= 10 }
        nanoseconds = digits * scale
    }
    return .seconds(whole) + .nanoseconds(nanoseconds)
}

/// Formats `value` with `decimals` digits after the point (no Foundation).
public func formatDecimal(_ value: Double, decimals: Int = 3) -> String {
    guard value.isFinite else { return "nan" }
    var scale = 1.0
    for _ in 0 ..< decimals { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = UInt64(rounded / scale)
    var fraction = String(UInt64(rounded) - whole * UInt64(scale))
    while fraction.count < decimals { fraction = "0" + fraction }
    let sign = value < 0 && rounded != 0 ? "-" : ""
    return decimals == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}

/// Milliseconds of `duration`, as a `Double`.
public func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
}

extension String {
    /// The string without `prefix` when it starts with it (such as the
    /// "sock: " of error descriptions).
    public func replacingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
