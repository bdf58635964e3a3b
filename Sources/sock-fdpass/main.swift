// sock-fdpass: send an open file to another process over a Unix socket
// (SCM_RIGHTS); the receiver reads the file through the descriptor it got.
//
//   sock-fdpass receive SOCKET [--size] [-W TIMEOUT]
//   sock-fdpass send PATH --to SOCKET [-W TIMEOUT]
//
// Exit status: 0 on success, 1 on failure, 2 for a usage error.
#if canImport(Glibc)
import Glibc
#endif
import ExampleSupport
import Sock

let tool = "sock-fdpass"
let usage = """
    Usage: sock-fdpass receive SOCKET [--size] [-W TIMEOUT]
           sock-fdpass send PATH --to SOCKET [-W TIMEOUT]

    Passes an open file between processes over a Unix socket (SCM_RIGHTS).

      receive SOCKET     listen on the Unix socket path SOCKET, accept one
                         sender, receive its descriptor and print the file's
                         content, read through that descriptor (the receiver
                         never opens the file itself); removes SOCKET when done
      send PATH          open PATH read-only and send the open descriptor (and
                         the file's name) to the receiver listening on SOCKET

    Options:
      --to SOCKET              the receiver's socket (send)
      --size                   print "NAME: N bytes" instead of the content (receive)
      -W, --timeout SECONDS    give up after SECONDS (default 30 for receive, 5 for send)
      -h, --help               show this help

    Exit status: 0 on success, 1 on failure, 2 on usage errors.
    """

/// The text of the current `errno`.
func errnoText() -> String {
    String(cString: strerror(errno))
}

/// The error's text without the "sock: " prefix.
func reason(_ error: SockError) -> String {
    let text = error.description
    return text.hasPrefix("sock: ") ? String(text.dropFirst(6)) : text
}

/// Writes all of `bytes` to standard output.
func writeOut(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let written = Glibc.write(1, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return false }
        offset += written
    }
    return true
}

// MARK: send

func send(path: String, to socketPath: String, timeout: Duration) -> ToolExit {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        exit(tool, "cannot open \(path): \(errnoText())", code: .failure)
    }
    defer { Glibc.close(fd) }
    let address: SockaddrUnix
    do throws(SockError) {
        address = try SockaddrUnix(path: socketPath)
    } catch {
        exit(tool, "invalid socket path '\(socketPath)': \(reason(error))", code: .usage)
    }
    do throws(SockError) {
        let conn = try UnixConn.dial(to: address, timeout: timeout)
        defer { try? conn.close() }
        // The file's name travels as the data: a stream socket needs at
        // least one byte to carry the descriptor.
        let name = Array((path.split(separator: "/").last.map(String.init) ?? path).utf8.prefix(255))
        let sent = try name.span.bytes.withUnsafeBytes { data throws(SockError) in
            try conn.descriptor.sendDescriptors(CollectionOfOne(fd), data: data, deadline: .after(timeout))
        }
        guard case .completed(let count) = sent, count == name.count else {
            exit(tool, "the receiver did not take the whole message", code: .failure)
        }
    } catch {
        exit(tool, "cannot send to \(socketPath): \(reason(error))", code: .failure)
    }
    printError("\(tool): sent \(path) to \(socketPath)")
    return .success
}

// MARK: receive

func receive(on socketPath: String, sizeOnly: Bool, timeout: Duration) -> ToolExit {
    let address: SockaddrUnix
    let listener: UnixListener
    do throws(SockError) {
        address = try SockaddrUnix(path: socketPath)
    } catch {
        exit(tool, "invalid socket path '\(socketPath)': \(reason(error))", code: .usage)
    }
    do throws(SockError) {
        listener = try UnixListener.listen(on: address, backlog: 1)
    } catch {
        exit(tool, "cannot listen on \(socketPath): \(reason(error))", code: .failure)
    }
    defer {
        try? listener.close()
        unlink(socketPath)
    }
    printError("\(tool): waiting on \(socketPath)")
    // Buffers for the descriptor and the name; plain pointers so that the
    // typed-throwing receive needs no closure-taking Array method.
    let slot = UnsafeMutableBufferPointer<CInt>.allocate(capacity: 1)
    slot[0] = -1
    let name = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
    defer {
        slot.deallocate()
        name.deallocate()
    }
    var received: CInt = -1
    var nameLength = 0
    do throws(SockError) {
        listener.setDeadline(.after(timeout))
        guard case .completed(let conn) = try listener.accept() else { throw .timedOut }
        defer { try? conn.close() }
        let outcome = try conn.descriptor.receiveDescriptors(into: slot, data: name, deadline: .after(timeout))
        guard case .completed(let message) = outcome else { throw .timedOut }
        guard message.descriptorCount == 1 else {
            fflush(nil)
            printError("\(tool): the sender sent no descriptor")
            return .failure
        }
        received = slot[0]
        nameLength = message.count
    } catch {
        fflush(nil)
        printError("\(tool): receiving on \(socketPath): \(error.code == .timedOut ? "no sender within the timeout" : reason(error))")
        return .failure
    }
    defer { Glibc.close(received) }
    let fileName = String(decoding: UnsafeRawBufferPointer(rebasing: name[0 ..< nameLength]), as: UTF8.self)
    var status = stat()
    guard fstat(received, &status) == 0 else {
        fflush(nil)
        printError("\(tool): cannot stat the received descriptor: \(errnoText())")
        return .failure
    }
    if sizeOnly {
        print("\(fileName): \(status.st_size) bytes")
        return .success
    }
    // Read from the start through the received descriptor (pread: the file
    // offset is shared with the sender's open file description).
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var offset: off_t = 0
    while true {
        let count = buffer.withUnsafeMutableBytes { pread(received, $0.baseAddress, $0.count, offset) }
        if count < 0 && errno == EINTR { continue }
        if count < 0 {
            fflush(nil)
            printError("\(tool): cannot read the received file: \(errnoText())")
            return .failure
        }
        if count == 0 { break }
        let ok = buffer.withUnsafeBytes { writeOut(UnsafeRawBufferPointer(rebasing: $0[0 ..< count])) }
        guard ok else {
            printError("\(tool): cannot write to standard output: \(errnoText())")
            return .failure
        }
        offset += off_t(count)
    }
    return .success
}

// MARK: Command line

func main() -> ToolExit {
    let parsed: ParsedArguments
    do throws(UsageError) {
        parsed = try ParsedArguments(
            Array(CommandLine.arguments.dropFirst()),
            valueOptions: ["--to": "to", "-W": "timeout", "--timeout": "timeout"],
            flagOptions: ["--size": "size", "-h": "help", "--help": "help"])
    } catch {
        exit(tool, error.description, code: .usage)
    }
    if parsed.has("help") {
        print(usage)
        return .success
    }
    guard let command = parsed.positionals.first else {
        exit(tool, "missing command: send or receive", code: .usage)
    }
    var timeout: Duration?
    if let text = parsed.values["timeout"] {
        guard let value = parseSeconds(text), value > .zero else {
            exit(tool, "invalid timeout '\(text)': expected a positive number of seconds", code: .usage)
        }
        timeout = value
    }
    switch command {
    case "send":
        guard parsed.positionals.count == 2 else {
            exit(tool, parsed.positionals.count < 2 ? "send: missing PATH" : "send: expected one PATH", code: .usage)
        }
        guard let socketPath = parsed.values["to"] else {
            exit(tool, "send: missing --to SOCKET", code: .usage)
        }
        if parsed.has("size") { exit(tool, "send: --size is an option of receive", code: .usage) }
        return send(path: parsed.positionals[1], to: socketPath, timeout: timeout ?? .seconds(5))
    case "receive":
        guard parsed.positionals.count == 2 else {
            exit(tool, parsed.positionals.count < 2 ? "receive: missing SOCKET" : "receive: expected one SOCKET", code: .usage)
        }
        if parsed.values["to"] != nil { exit(tool, "receive: --to is an option of send", code: .usage) }
        return receive(on: parsed.positionals[1], sizeOnly: parsed.has("size"), timeout: timeout ?? .seconds(30))
    default:
        exit(tool, "unknown command '\(command)': expected send or receive", code: .usage)
    }
}

let code = main()
fflush(nil)
Glibc.exit(code.rawValue)
