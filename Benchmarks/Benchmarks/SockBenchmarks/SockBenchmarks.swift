// The package-benchmark suite: every benchmark of issue 4, for Sock, for C
// making the same system calls (CSockRef), and for SwiftNIO where meaningful.
//
// Conventions (the report, sock-bench-report, relies on them):
// - names are "<group>/<variant>/<impl>", impl one of sock, c, nio;
// - one iteration is 1000 operations (scalingFactor .kilo), so package-benchmark
//   shows every metric per operation;
// - metrics: wall clock, total CPU, mallocs (the MallocInterposer trait,
//   process-wide: both threads of a ping-pong are counted), throughput, and
//   "syscalls" (perf tracepoint raw_syscalls:sys_enter of the measuring thread,
//   where perf events are available; single-threaded benchmarks only).
//
//   swift package benchmark                       run everything
//   swift package benchmark --filter 'pingpong/tcp.*'
#if canImport(Glibc)
import Glibc
#endif
import Benchmark
import CSockRef
import Sock
import SockBenchKit
import SockBindings

/// System calls per operation, counted by the perf tracepoint.
let syscallsMetric = BenchmarkMetric.custom("syscalls", polarity: .prefersSmaller, useScalingFactor: true)

let baseMetrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]

func configuration(
    syscalls: Bool = true, maxDuration: Duration = .milliseconds(300), maxIterations: Int = 10_000
) -> Benchmark.Configuration {
    .init(
        metrics: baseMetrics + (syscalls ? [syscallsMetric] : []),
        warmupIterations: 1,
        scalingFactor: .kilo,
        maxDuration: maxDuration,
        maxIterations: maxIterations
    )
}

/// How many iterations of each benchmark count their system calls. The perf
/// tracepoint makes every system call of the machine about 200 ns slower
/// while it is enabled (measured here: 520 → 740 ns for a recv returning
/// EAGAIN), so it is enabled for the first few measured iterations only and
/// then closed; the wall-clock median is taken over hundreds of iterations
/// without it.
let syscallSampleIterations = 3

/// The perf counter of the running benchmark (opened on the measuring thread,
/// closed after `syscallSampleIterations` iterations).
nonisolated(unsafe) var syscallCounterFD: CInt = -1
nonisolated(unsafe) var syscallSamplesTaken: [String: Int] = [:]

/// Runs `body` (one iteration: 1000 operations) as the measured region, and
/// records the system calls it made (in the first iterations, where perf
/// events are available).
@inline(__always)
func measure(_ benchmark: Benchmark, countSyscalls: Bool = true, _ body: () throws -> Void) rethrows {
    let taken = syscallSamplesTaken[benchmark.name, default: 0]
    let sampling = countSyscalls && taken < syscallSampleIterations
    if sampling && syscallCounterFD < 0 {
        syscallCounterFD = csr_syscall_counter_open()  // slow: enables the tracepoint
    }
    let counting = sampling && syscallCounterFD >= 0
    benchmark.startMeasurement()
    let before = counting ? csr_syscall_counter_read(syscallCounterFD) : 0
    try body()
    let after = counting ? csr_syscall_counter_read(syscallCounterFD) : 0
    benchmark.stopMeasurement()
    if counting {
        // `after` includes its own read(2).
        benchmark.measurement(syscallsMetric, Int(after - before - 1))
        syscallSamplesTaken[benchmark.name] = taken + 1
        if taken + 1 == syscallSampleIterations {
            close(syscallCounterFD)
            syscallCounterFD = -1
        }
    }
}

/// A fixture created by a benchmark's setup and destroyed by its teardown.
final class Slot<Value>: @unchecked Sendable {
    var value: Value?
    var get: Value { value! }
}

struct UnexpectedResult: Error {}

/// Per-iteration Sock/C ratio of a paired benchmark, in thousandths.
let pairedRatioMetric = BenchmarkMetric.custom("sock_over_c_permille", polarity: .prefersSmaller, useScalingFactor: false)
/// Nanoseconds of the Sock block and of the C block of a paired iteration.
let pairedSockMetric = BenchmarkMetric.custom("sock_ns", polarity: .prefersSmaller, useScalingFactor: true)
let pairedCMetric = BenchmarkMetric.custom("c_ns", polarity: .prefersSmaller, useScalingFactor: true)

/// Registers "<name>/paired": every iteration times a block of 1000 Sock
/// operations and a block of 1000 C operations back to back (alternating
/// which goes first), in the same process, on the same socket, and records
/// their ratio. Separate processes land in different performance modes on
/// this virtual machine (the same loop differs by up to 25 % from one process
/// to the next), so Sock/C ratios of the system-call benchmarks come from
/// these pairs, not from the separate benchmarks.
func paired(
    _ name: String, setup: @escaping Benchmark.BenchmarkSetupHook,
    sock: @escaping () throws -> Void, c: @escaping () throws -> Void
) {
    var iteration = 0
    Benchmark(
        "\(name)/paired",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal, .throughput, pairedRatioMetric, pairedSockMetric, pairedCMetric],
            warmupIterations: 2, scalingFactor: .kilo, maxDuration: .milliseconds(400), maxIterations: 10_000
        ),
        closure: { benchmark in
            var sockTime: Int64 = 0, cTime: Int64 = 0
            func timed(_ body: () throws -> Void) rethrows -> Int64 {
                let start = csr_now_ns()
                try body()
                return csr_now_ns() - start
            }
            if iteration % 2 == 0 {
                sockTime = try timed(sock)
                cTime = try timed(c)
            } else {
                cTime = try timed(c)
                sockTime = try timed(sock)
            }
            iteration += 1
            benchmark.measurement(pairedRatioMetric, Int(sockTime * 1000 / Swift.max(cTime, 1)))
            benchmark.measurement(pairedSockMetric, Int(sockTime))
            benchmark.measurement(pairedCMetric, Int(cTime))
        },
        setup: setup
    )
}

let benchmarks: @Sendable () -> Void = {
    // MARK: The harness itself (an empty measured region): what package-benchmark
    // adds per iteration, subtracted by the report.

    Benchmark("harness/empty/counted", configuration: configuration(), closure: { benchmark in
        measure(benchmark) {}
    })
    Benchmark("harness/empty/uncounted", configuration: configuration(syscalls: false), closure: { benchmark in
        measure(benchmark, countSyscalls: false) {}
    })

    // MARK: Ping-pong (mallocs and CPU per round trip; sock-pingpong gives the latency)

    for proto in Proto.allCases {
        for size in [1, 1024] {
            let sizeName = size == 1 ? "1B" : "1KiB"
            for mode in Mode.allCases {
                let sock = Slot<SockPingPong>()
                Benchmark(
                    "pingpong/\(proto.rawValue)-\(sizeName)-\(mode.rawValue)/sock",
                    configuration: configuration(syscalls: false, maxIterations: 25),
                    closure: { benchmark in
                        try measure(benchmark, countSyscalls: false) { _ = try sock.get.run(rounds: 1_000) }
                    },
                    setup: { sock.value = try SockPingPong(proto: proto, size: size, mode: mode, serverCPU: nil) },
                    teardown: { sock.get.stop() }
                )
                let c = Slot<CPingPong>()
                Benchmark(
                    "pingpong/\(proto.rawValue)-\(sizeName)-\(mode.rawValue)/c",
                    configuration: configuration(syscalls: false, maxIterations: 25),
                    closure: { benchmark in
                        try measure(benchmark, countSyscalls: false) { _ = try c.get.run(rounds: 1_000) }
                    },
                    setup: { c.value = try CPingPong(proto: proto, size: size, mode: mode, serverCPU: nil) },
                    teardown: { c.get.stop() }
                )
            }
            let nio = Slot<NIOPingPong>()
            Benchmark(
                "pingpong/\(proto.rawValue)-\(sizeName)/nio",
                configuration: configuration(syscalls: false, maxIterations: 25),
                closure: { benchmark in
                    try measure(benchmark, countSyscalls: false) { _ = try nio.get.run(rounds: 1_000) }
                },
                setup: { nio.value = try NIOPingPong(proto: proto, size: size, pin: false) },
                teardown: { nio.get.stop() }
            )
        }
    }

    // MARK: Bulk TCP, 64 KiB writes (one operation = one 64 KiB write, written fully)

    let sockBulk = Slot<SockBulk>()
    Benchmark(
        "bulk/tcp-64KiB-write/sock",
        configuration: configuration(syscalls: false, maxIterations: 40),
        closure: { benchmark in
            try measure(benchmark, countSyscalls: false) { try sockBulk.get.run(count: 1_000) }
        },
        setup: { sockBulk.value = try SockBulk() },
        teardown: { sockBulk.get.stop() }
    )
    let cBulk = Slot<CBulk>()
    Benchmark(
        "bulk/tcp-64KiB-write/c",
        configuration: configuration(syscalls: false, maxIterations: 40),
        closure: { benchmark in
            try measure(benchmark, countSyscalls: false) { try cBulk.get.run(count: 1_000) }
        },
        setup: { cBulk.value = try CBulk() },
        teardown: { cBulk.get.stop() }
    )

    // MARK: UDP cost per datagram (1200-byte datagrams; batches of 25: 40 batch
    // calls per iteration, so that every UDP benchmark does 1000 datagrams)

    let udp = Slot<UDPSendFixture>()
    let udpSetup: Benchmark.BenchmarkSetupHook = { if udp.value == nil { udp.value = try UDPSendFixture() } }
    Benchmark("udp-send/plain/sock", configuration: configuration(), closure: { benchmark in
        let f = udp.get, sender = f.sender, single = f.single
        try measure(benchmark) {
            for _ in benchmark.scaledIterations { blackHole(try sender.write(single)) }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/plain/c", configuration: configuration(), closure: { benchmark in
        let f = udp.get, fd = f.sender.descriptor.rawValue, single = f.single
        measure(benchmark) {
            for _ in benchmark.scaledIterations { blackHole(csr_send(fd, single.baseAddress, single.count)) }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/sendto/sock", configuration: configuration(), closure: { benchmark in
        let f = udp.get, conn = f.unconnected, single = f.single, destination = f.destination
        try measure(benchmark) {
            for _ in benchmark.scaledIterations { blackHole(try conn.writeTo(single, address: destination)) }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/sendto/c", configuration: configuration(), closure: { benchmark in
        let f = udp.get, fd = f.unconnected.descriptor.rawValue, single = f.single
        measure(benchmark) {
            withUnsafePointer(to: &f.rawDestination) { address in
                for _ in benchmark.scaledIterations {
                    blackHole(csr_sendto(fd, single.baseAddress, single.count, address, socklen_t(MemoryLayout<sockaddr_in>.size)))
                }
            }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/sendmmsg-x25/sock", configuration: configuration(), closure: { benchmark in
        let f = udp.get, sender = f.sender
        try measure(benchmark) {
            for _ in 0..<UDPSendFixture.callsPerIteration {
                blackHole(try sender.sendMessages(&f.batch, count: UDPSendFixture.batch))
            }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/sendmmsg-x25/c", configuration: configuration(), closure: { benchmark in
        let f = udp.get, fd = f.sender.descriptor.rawValue, single = f.single
        measure(benchmark) {
            for _ in 0..<UDPSendFixture.callsPerIteration {
                blackHole(csr_sendmmsg(fd, single.baseAddress, single.count, CUnsignedInt(UDPSendFixture.batch), nil, 0))
            }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/gso-x25/sock", configuration: configuration(), closure: { benchmark in
        let f = udp.get, sender = f.gsoSender, whole = f.whole
        try measure(benchmark) {
            for _ in 0..<UDPSendFixture.callsPerIteration { blackHole(try sender.write(whole)) }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/gso-x25/c", configuration: configuration(), closure: { benchmark in
        let f = udp.get, fd = f.gsoSender.descriptor.rawValue, whole = f.whole
        measure(benchmark) {
            for _ in 0..<UDPSendFixture.callsPerIteration { blackHole(csr_send(fd, whole.baseAddress, whole.count)) }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/gso-cmsg-x25/sock", configuration: configuration(), closure: { benchmark in
        let f = udp.get, sender = f.sender, whole = f.whole
        try measure(benchmark) {
            for _ in 0..<UDPSendFixture.callsPerIteration {
                blackHole(try sender.writeSegmented(whole, segmentSize: UDPSendFixture.datagramSize))
            }
        }
    }, setup: udpSetup)
    Benchmark("udp-send/gso-cmsg-x25/c", configuration: configuration(), closure: { benchmark in
        let f = udp.get, fd = f.sender.descriptor.rawValue, whole = f.whole
        measure(benchmark) {
            for _ in 0..<UDPSendFixture.callsPerIteration {
                blackHole(csr_send_gso(fd, whole.baseAddress, whole.count, UInt16(UDPSendFixture.datagramSize), nil, 0))
            }
        }
    }, setup: udpSetup)

    // MARK: Would-block read, options, TCP info (a connected TCP pair, nothing queued)

    let tcp = Slot<TCPPairFixture>()
    let tcpSetup: Benchmark.BenchmarkSetupHook = { if tcp.value == nil { tcp.value = try TCPPairFixture() } }
    Benchmark("wouldblock-read/tcp/sock", configuration: configuration(), closure: { benchmark in
        let f = tcp.get, client = f.client, buffer = f.buffer
        try measure(benchmark) {
            for _ in benchmark.scaledIterations {
                guard try client.read(into: buffer).isWouldBlock else { throw UnexpectedResult() }
            }
        }
    }, setup: tcpSetup)
    Benchmark("wouldblock-read/tcp/c", configuration: configuration(), closure: { benchmark in
        let f = tcp.get, fd = f.clientFD, buffer = f.buffer
        try measure(benchmark) {
            for _ in benchmark.scaledIterations {
                guard csr_recv(fd, buffer.baseAddress, buffer.count) == -Int(SockBindings.EAGAIN) else { throw UnexpectedResult() }
            }
        }
    }, setup: tcpSetup)
    Benchmark("option-get/TCP_NODELAY/sock", configuration: configuration(), closure: { benchmark in
        let client = tcp.get.client
        try measure(benchmark) {
            for _ in benchmark.scaledIterations { blackHole(try client.option(.noDelay)) }
        }
    }, setup: tcpSetup)
    Benchmark("option-get/TCP_NODELAY/accessor", configuration: configuration(), closure: { benchmark in
        let descriptor = tcp.get.client.descriptor
        try measure(benchmark) {
            for _ in benchmark.scaledIterations { blackHole(try descriptor.option(SocketOption<OptionScope.TCP, _, _>.noDelay)) }
        }
    }, setup: tcpSetup)
    Benchmark("option-get/TCP_NODELAY/c", configuration: configuration(), closure: { benchmark in
        let fd = tcp.get.clientFD
        measure(benchmark) {
            var value: CInt = 0
            for _ in benchmark.scaledIterations {
                blackHole(csr_getsockopt_int(fd, SockBindings.IPPROTO_TCP, SockBindings.TCP_NODELAY, &value))
                blackHole(value)
            }
        }
    }, setup: tcpSetup)
    Benchmark("option-set/TCP_NODELAY/sock", configuration: configuration(), closure: { benchmark in
        let client = tcp.get.client
        try measure(benchmark) {
            for _ in benchmark.scaledIterations { try client.setOption(.noDelay, to: true) }
        }
    }, setup: tcpSetup)
    Benchmark("option-set/TCP_NODELAY/accessor", configuration: configuration(), closure: { benchmark in
        // The key on the raw descriptor (what the generated accessor was).
        let descriptor = tcp.get.client.descriptor
        try measure(benchmark) {
            for _ in benchmark.scaledIterations { try descriptor.setOption(SocketOption<OptionScope.TCP, _, _>.noDelay, to: true) }
        }
    }, setup: tcpSetup)
    Benchmark("option-set/TCP_NODELAY/c", configuration: configuration(), closure: { benchmark in
        let fd = tcp.get.clientFD
        measure(benchmark) {
            for _ in benchmark.scaledIterations {
                blackHole(csr_setsockopt_int(fd, SockBindings.IPPROTO_TCP, SockBindings.TCP_NODELAY, 1))
            }
        }
    }, setup: tcpSetup)
    Benchmark("tcp-info/read/sock", configuration: configuration(), closure: { benchmark in
        let f = tcp.get, client = f.client
        try measure(benchmark) {
            for _ in benchmark.scaledIterations {
                try client.tcpInfo(into: &f.snapshot)
            }
            blackHole(f.snapshot.filledBytes)
        }
    }, setup: tcpSetup)
    Benchmark("tcp-info/read/accessor", configuration: configuration(), closure: { benchmark in
        let f = tcp.get, client = f.client
        try measure(benchmark) {
            for _ in benchmark.scaledIterations {
                blackHole(try client.option(.info, into: &f.info))
            }
            blackHole(f.info.tcpi_rtt)
        }
    }, setup: tcpSetup)
    Benchmark("tcp-info/read/c", configuration: configuration(), closure: { benchmark in
        let f = tcp.get, fd = f.clientFD, info = f.rawInfo
        measure(benchmark) {
            for _ in benchmark.scaledIterations {
                var length = socklen_t(info.count)
                blackHole(csr_tcp_info(fd, info.baseAddress, &length))
                blackHole(length)
            }
        }
    }, setup: tcpSetup)

    // MARK: Paired Sock/C blocks (the ratios of the system-call benchmarks)

    paired("udp-send/plain", setup: udpSetup, sock: {
        let f = udp.get, sender = f.sender, single = f.single
        for _ in 0..<1000 { blackHole(try sender.write(single)) }
    }, c: {
        let f = udp.get, fd = f.sender.descriptor.rawValue, single = f.single
        for _ in 0..<1000 { blackHole(csr_send(fd, single.baseAddress, single.count)) }
    })
    paired("udp-send/sendto", setup: udpSetup, sock: {
        let f = udp.get, conn = f.unconnected, single = f.single, destination = f.destination
        for _ in 0..<1000 { blackHole(try conn.writeTo(single, address: destination)) }
    }, c: {
        let f = udp.get, fd = f.unconnected.descriptor.rawValue, single = f.single
        withUnsafePointer(to: &f.rawDestination) { address in
            for _ in 0..<1000 {
                blackHole(csr_sendto(fd, single.baseAddress, single.count, address, socklen_t(MemoryLayout<sockaddr_in>.size)))
            }
        }
    })
    paired("udp-send/sendmmsg-x25", setup: udpSetup, sock: {
        let f = udp.get, sender = f.sender
        for _ in 0..<UDPSendFixture.callsPerIteration { blackHole(try sender.sendMessages(&f.batch, count: UDPSendFixture.batch)) }
    }, c: {
        let f = udp.get, fd = f.sender.descriptor.rawValue, single = f.single
        for _ in 0..<UDPSendFixture.callsPerIteration {
            blackHole(csr_sendmmsg(fd, single.baseAddress, single.count, CUnsignedInt(UDPSendFixture.batch), nil, 0))
        }
    })
    paired("udp-send/gso-cmsg-x25", setup: udpSetup, sock: {
        let f = udp.get, sender = f.sender, whole = f.whole
        for _ in 0..<UDPSendFixture.callsPerIteration {
            blackHole(try sender.writeSegmented(whole, segmentSize: UDPSendFixture.datagramSize))
        }
    }, c: {
        let f = udp.get, fd = f.sender.descriptor.rawValue, whole = f.whole
        for _ in 0..<UDPSendFixture.callsPerIteration {
            blackHole(csr_send_gso(fd, whole.baseAddress, whole.count, UInt16(UDPSendFixture.datagramSize), nil, 0))
        }
    })
    paired("udp-send/gso-x25", setup: udpSetup, sock: {
        let f = udp.get, sender = f.gsoSender, whole = f.whole
        for _ in 0..<UDPSendFixture.callsPerIteration { blackHole(try sender.write(whole)) }
    }, c: {
        let f = udp.get, fd = f.gsoSender.descriptor.rawValue, whole = f.whole
        for _ in 0..<UDPSendFixture.callsPerIteration { blackHole(csr_send(fd, whole.baseAddress, whole.count)) }
    })
    paired("wouldblock-read/tcp", setup: tcpSetup, sock: {
        let f = tcp.get, client = f.client, buffer = f.buffer
        for _ in 0..<1000 { guard try client.read(into: buffer).isWouldBlock else { throw UnexpectedResult() } }
    }, c: {
        let f = tcp.get, fd = f.clientFD, buffer = f.buffer
        for _ in 0..<1000 {
            guard csr_recv(fd, buffer.baseAddress, buffer.count) == -Int(SockBindings.EAGAIN) else { throw UnexpectedResult() }
        }
    })
    paired("option-get/TCP_NODELAY", setup: tcpSetup, sock: {
        let client = tcp.get.client
        for _ in 0..<1000 { blackHole(try client.option(.noDelay)) }
    }, c: {
        let fd = tcp.get.clientFD
        var value: CInt = 0
        for _ in 0..<1000 {
            blackHole(csr_getsockopt_int(fd, SockBindings.IPPROTO_TCP, SockBindings.TCP_NODELAY, &value))
            blackHole(value)
        }
    })
    paired("option-set/TCP_NODELAY", setup: tcpSetup, sock: {
        let client = tcp.get.client
        for _ in 0..<1000 { try client.setOption(.noDelay, to: true) }
    }, c: {
        let fd = tcp.get.clientFD
        for _ in 0..<1000 { blackHole(csr_setsockopt_int(fd, SockBindings.IPPROTO_TCP, SockBindings.TCP_NODELAY, 1)) }
    })
    paired("option-get/TCP_NODELAY-accessor", setup: tcpSetup, sock: {
        let descriptor = tcp.get.client.descriptor
        for _ in 0..<1000 { blackHole(try descriptor.option(SocketOption<OptionScope.TCP, _, _>.noDelay)) }
    }, c: {
        let fd = tcp.get.clientFD
        var value: CInt = 0
        for _ in 0..<1000 {
            blackHole(csr_getsockopt_int(fd, SockBindings.IPPROTO_TCP, SockBindings.TCP_NODELAY, &value))
            blackHole(value)
        }
    })
    paired("option-set/TCP_NODELAY-accessor", setup: tcpSetup, sock: {
        let descriptor = tcp.get.client.descriptor
        for _ in 0..<1000 { try descriptor.setOption(SocketOption<OptionScope.TCP, _, _>.noDelay, to: true) }
    }, c: {
        let fd = tcp.get.clientFD
        for _ in 0..<1000 { blackHole(csr_setsockopt_int(fd, SockBindings.IPPROTO_TCP, SockBindings.TCP_NODELAY, 1)) }
    })
    paired("tcp-info/read-accessor", setup: tcpSetup, sock: {
        let f = tcp.get, client = f.client
        for _ in 0..<1000 { blackHole(try client.option(.info, into: &f.info)) }
    }, c: {
        let f = tcp.get, fd = f.clientFD, info = f.rawInfo
        for _ in 0..<1000 {
            var length = socklen_t(info.count)
            blackHole(csr_tcp_info(fd, info.baseAddress, &length))
            blackHole(length)
        }
    })
    paired("tcp-info/read", setup: tcpSetup, sock: {
        let f = tcp.get, client = f.client
        for _ in 0..<1000 { try client.tcpInfo(into: &f.snapshot) }
        blackHole(f.snapshot.filledBytes)
    }, c: {
        let f = tcp.get, fd = f.clientFD, info = f.rawInfo
        for _ in 0..<1000 {
            var length = socklen_t(info.count)
            blackHole(csr_tcp_info(fd, info.baseAddress, &length))
            blackHole(length)
        }
    })

    // MARK: Addresses (no system call; text ↔ value ↔ kernel structure)

    let address = Slot<AddressFixture>()
    let addressSetup: Benchmark.BenchmarkSetupHook = { if address.value == nil { address.value = try AddressFixture() } }
    let pure = configuration(syscalls: false, maxDuration: .milliseconds(200))
    Benchmark("address/parse-ipv4/sock", configuration: pure, closure: { benchmark in
        let text = address.get.ipv4Text
        try measure(benchmark, countSyscalls: false) {
            for _ in benchmark.scaledIterations { blackHole(try IPv4Address(text)) }
        }
    }, setup: addressSetup)
    Benchmark("address/parse-ipv4/c", configuration: pure, closure: { benchmark in
        let f = address.get, text = f.cIPv4Text
        measure(benchmark, countSyscalls: false) {
            var value = in_addr()
            for _ in benchmark.scaledIterations { blackHole(csr_parse_ipv4(text, &value)); blackHole(value) }
        }
    }, setup: addressSetup)
    Benchmark("address/parse-ipv6/sock", configuration: pure, closure: { benchmark in
        let text = address.get.ipv6Text
        try measure(benchmark, countSyscalls: false) {
            for _ in benchmark.scaledIterations { blackHole(try IPv6Address(text)) }
        }
    }, setup: addressSetup)
    Benchmark("address/parse-ipv6/c", configuration: pure, closure: { benchmark in
        let f = address.get, text = f.cIPv6Text
        measure(benchmark, countSyscalls: false) {
            var value = in6_addr()
            for _ in benchmark.scaledIterations { blackHole(csr_parse_ipv6(text, &value)); blackHole(value) }
        }
    }, setup: addressSetup)
    Benchmark("address/format-ipv4/sock", configuration: pure, closure: { benchmark in
        let value = address.get.ipv4
        measure(benchmark, countSyscalls: false) {
            for _ in benchmark.scaledIterations { blackHole(value.description) }
        }
    }, setup: addressSetup)
    Benchmark("address/format-ipv4/c", configuration: pure, closure: { benchmark in
        let f = address.get, buffer = f.textBuffer
        measure(benchmark, countSyscalls: false) {
            for _ in benchmark.scaledIterations { blackHole(csr_format_ipv4(&f.inAddr, buffer, 64)) }
        }
    }, setup: addressSetup)
    Benchmark("address/format-ipv6/sock", configuration: pure, closure: { benchmark in
        let value = address.get.ipv6
        measure(benchmark, countSyscalls: false) {
            for _ in benchmark.scaledIterations { blackHole(value.description) }
        }
    }, setup: addressSetup)
    Benchmark("address/format-ipv6/c", configuration: pure, closure: { benchmark in
        let f = address.get, buffer = f.textBuffer
        measure(benchmark, countSyscalls: false) {
            for _ in benchmark.scaledIterations { blackHole(csr_format_ipv6(&f.in6Addr, buffer, 64)) }
        }
    }, setup: addressSetup)
    Benchmark("address/encode-ipv6/sock", configuration: pure, closure: { benchmark in
        let value = address.get.ipv6
        measure(benchmark, countSyscalls: false) {
            for index in benchmark.scaledIterations {
                let socketAddress = SockaddrInet6(address: value, port: UInt16(truncatingIfNeeded: index), scopeID: 0)
                socketAddress.withSockaddrPointer { pointer, length in blackHole(pointer.pointee); blackHole(length) }
            }
        }
    }, setup: addressSetup)
    Benchmark("address/encode-ipv6/c", configuration: pure, closure: { benchmark in
        let f = address.get
        measure(benchmark, countSyscalls: false) {
            for index in benchmark.scaledIterations {
                csr_encode_inet6(&f.rawInet6, &f.in6Addr, UInt16(truncatingIfNeeded: index), 0)
                blackHole(f.rawInet6)
            }
        }
    }, setup: addressSetup)
    Benchmark("address/decode-ipv6/sock", configuration: pure, closure: { benchmark in
        let f = address.get, length = f.storageLength
        try measure(benchmark, countSyscalls: false) {
            for _ in benchmark.scaledIterations {
                let decoded = try withUnsafeBytes(of: &f.storage) { raw throws(SockError) in
                    try SockaddrInet6(decoding: raw, length: length)
                }
                blackHole(decoded.port)
                blackHole(decoded.address)
            }
        }
    }, setup: addressSetup)
    Benchmark("address/decode-ipv6/c", configuration: pure, closure: { benchmark in
        let f = address.get, length = f.storageLength
        measure(benchmark, countSyscalls: false) {
            var value = in6_addr(), port: UInt16 = 0, scope: UInt32 = 0
            for _ in benchmark.scaledIterations {
                blackHole(csr_decode_inet6(&f.storage, length, &value, &port, &scope))
                blackHole(port)
                blackHole(value)
            }
        }
    }, setup: addressSetup)

    // MARK: Accept-and-close (1000 connections queued by C clients before each iteration)

    let accept = Slot<AcceptFixture>()
    let acceptSetup: Benchmark.BenchmarkSetupHook = { if accept.value == nil { accept.value = try AcceptFixture(count: 1_000) } }
    let acceptConfiguration = configuration(maxDuration: .seconds(1), maxIterations: 15)
    Benchmark("accept-close/tcp/sock", configuration: acceptConfiguration, closure: { benchmark in
        let f = accept.get, listener = f.sockListener
        try f.connectClients(toSock: true)
        try measure(benchmark) {
            for _ in benchmark.scaledIterations {
                guard case .completed(let connection) = try listener.accept() else { throw UnexpectedResult() }
                try connection.close()
            }
        }
        f.closeClients()
    }, setup: acceptSetup)
    Benchmark("accept-close/tcp/c", configuration: acceptConfiguration, closure: { benchmark in
        let f = accept.get, listener = f.cListener
        try f.connectClients(toSock: false)
        try measure(benchmark) {
            for _ in benchmark.scaledIterations {
                guard csr_accept_close(listener) == 0 else { throw UnexpectedResult() }
            }
        }
        f.closeClients()
    }, setup: acceptSetup)
}
