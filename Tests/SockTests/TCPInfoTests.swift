// TCP_INFO on a live loopback connection: state, RTT, MSS, counters that grow
// with a transfer, the filled length the kernel reports, per-field
// availability on a (simulated) older kernel, the reference's helpers, and
// no allocation for a reading.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

@Suite("TCPInfo: filled in place, per-field availability")
struct TCPInfoTests {
    /// The length the kernel reports for TCP_INFO given a large buffer (what
    /// "this kernel" fills), read with plain getsockopt.
    private func kernelTCPInfoLength(_ conn: TCPConn) -> Int {
        var buffer = [UInt8](repeating: 0, count: 1024)
        var length = socklen_t(buffer.count)
        let result = buffer.withUnsafeMutableBytes {
            getsockopt(conn.descriptor.rawValue, SockBindings.IPPROTO_TCP, SockBindings.TCP_INFO, $0.baseAddress, &length)
        }
        #expect(result == 0)
        return Int(length)
    }

    /// Whether a kernel that filled `length` bytes provided `field`.
    private func filled<Value>(_ length: Int, _ field: KeyPath<TCPInfo, Value>) -> Bool {
        guard let range = TCPInfoSnapshot.byteRange(of: field) else { return length >= TCPInfoSnapshot.capacity }
        return range.upperBound <= length
    }

    /// A structure as a kernel newer than the bindings would fill it: the
    /// live reading `real`, with a known non-zero value in every field a
    /// test below looks at past Linux 6.1's 232 bytes (so that the
    /// simulations do not depend on what the running kernel provides).
    private func fullReading(_ real: TCPInfo) -> TCPInfo {
        var full = real
        full.tcpi_snd_wnd = 65_483
        full.tcpi_rcv_wnd = 65_535
        full.tcpi_total_rto = 3
        full.tcpi_received_ce_bytes = 7
        full.tcpi_ecn_mode = 1
        if full.tcpi_rtt == 0 { full.tcpi_rtt = 100 }
        return full
    }

    @Test("established connection: state, RTT, MSS, window scale, options; filled length is the kernel's")
    func liveConnection() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }

        var snapshot = TCPInfoSnapshot()
        #expect(snapshot.filledBytes == 0)
        #expect(snapshot.state == nil)
        #expect(snapshot.available(\.tcpi_rtt) == nil)

        try client.tcpInfo(into: &snapshot)
        let kernelLength = kernelTCPInfoLength(client)
        #expect(snapshot.filledBytes == min(kernelLength, TCPInfoSnapshot.capacity))
        #expect(TCPInfoSnapshot.capacity == 280)
        // What the kernel fills depends on its version: 232 bytes on Linux
        // 6.1, 280 on 6.18 (all the 7.2 headers know), more on a newer one.
        // Every kernel since 2.6 fills at least glibc's 104-byte struct.
        #expect(kernelLength >= 104)
        #expect(snapshot.isComplete == (kernelLength >= TCPInfoSnapshot.capacity))

        #expect(snapshot.state == .established)
        #expect(snapshot.info.state == .established)
        #expect(snapshot.info.congestionState == .open)
        #expect(snapshot.info.tcpi_rtt > 0)
        #expect(snapshot.available(\.tcpi_rtt).map { $0 > 0 } == true)
        #expect(snapshot.info.tcpi_snd_mss > 0)
        #expect(snapshot.info.tcpi_rcv_mss > 0)
        // A later field is there exactly when the kernel filled its bytes.
        #expect((snapshot.available(\.tcpi_rcv_wnd) != nil) == filled(kernelLength, \.tcpi_rcv_wnd))
        #expect((snapshot.available(\.tcpi_bytes_acked) != nil) == filled(kernelLength, \.tcpi_bytes_acked))
        if !filled(kernelLength, \.tcpi_rcv_wnd) { #expect(snapshot.info.tcpi_rcv_wnd == 0) }
        // Linux negotiates timestamps, SACK and window scaling on loopback by
        // default (net.ipv4.tcp_timestamps/sack/window_scaling = 1).
        #expect(snapshot.info.hasTimestamps == (readSysctl("net/ipv4/tcp_timestamps") != 0))
        #expect(snapshot.info.hasSACK == (readSysctl("net/ipv4/tcp_sack") != 0))
        #expect(snapshot.info.hasWindowScaling == (readSysctl("net/ipv4/tcp_window_scaling") != 0))
        if snapshot.info.hasWindowScaling {
            #expect(snapshot.info.receiveWindowScale > 0)
            #expect(snapshot.info.sendWindowScale > 0)
        }
        #expect(snapshot.info.fastOpenClientFail == 0)
        // ECN is only negotiated when net.ipv4.tcp_ecn = 1.
        if readSysctl("net/ipv4/tcp_ecn") != 1 { #expect(!snapshot.info.hasECN) }

        // The other end, and the returning form (Go: GetTCPInfo).
        let serverInfo = try server.tcpInfo()
        #expect(serverInfo.state == .established)
        #expect(serverInfo.filledBytes == snapshot.filledBytes)
    }

    @Test("bytes_acked, bytes_received and segs_out grow after a 64 KiB transfer")
    func countersGrow() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        let before = try client.tcpInfo()
        let serverBefore = try server.tcpInfo()

        let payload = TestBytes(count: 65_536, fill: 0x42)
        let sink = TestBytes(count: 65_536)
        client.setWriteDeadline(soon())
        server.setReadDeadline(soon())
        try writeAll(payload.bytes) { bytes throws(SockError) in try client.write(bytes) }
        #expect(try readExactly(65_536, into: sink) { buffer throws(SockError) in try server.read(into: buffer) } == 65_536)

        // ACKs may trail the data a little: wait for them.
        var after = try client.tcpInfo()
        let deadline = soon()
        while after.info.tcpi_bytes_acked < before.info.tcpi_bytes_acked + 65_536 && !deadline.hasPassed {
            sleep(nanoseconds: 1_000_000)
            after = try client.tcpInfo()
        }
        let serverAfter = try server.tcpInfo()

        // Each counter only where the kernel provides it: bytes_acked and
        // bytes_received since 4.1, segs_out/in 4.2, data_segs_out 4.6,
        // bytes_sent 4.19.
        let length = after.filledBytes
        if filled(length, \.tcpi_bytes_acked) {
            #expect(after.info.tcpi_bytes_acked >= before.info.tcpi_bytes_acked + 65_536)
            #expect(after.available(\.tcpi_bytes_acked) == after.info.tcpi_bytes_acked)
            #expect(serverAfter.info.tcpi_bytes_received >= serverBefore.info.tcpi_bytes_received + 65_536)
        }
        if filled(length, \.tcpi_segs_in) {
            #expect(after.info.tcpi_segs_out > before.info.tcpi_segs_out)
            #expect(serverAfter.info.tcpi_segs_in > serverBefore.info.tcpi_segs_in)
        }
        if filled(length, \.tcpi_data_segs_out) {
            #expect(after.info.tcpi_data_segs_out > before.info.tcpi_data_segs_out)
        }
        if filled(length, \.tcpi_bytes_sent) {
            #expect(after.info.tcpi_bytes_sent >= before.info.tcpi_bytes_sent + 65_536)
        } else {
            #expect(after.available(\.tcpi_bytes_sent) == nil)
        }
    }

    @Test("a simulated older kernel (232 bytes, Linux 6.1) makes later fields unavailable, not zero")
    func olderKernel() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        // A complete reading as a newer kernel gives it, whatever this
        // kernel fills.
        let real = TCPInfoSnapshot(info: fullReading(try client.tcpInfo().info), filledBytes: TCPInfoSnapshot.capacity)
        #expect(real.isComplete)
        #expect(real.info.tcpi_rcv_wnd > 0)

        let old = TCPInfoSnapshot(info: real.info, filledBytes: 232)
        #expect(old.filledBytes == 232)
        #expect(!old.isComplete)
        #expect(old.available(\.tcpi_rcv_wnd) == nil)        // bytes 232..<236
        #expect(!old.isAvailable(\.tcpi_rcv_wnd))
        #expect(old.info.tcpi_rcv_wnd == 0)                  // zeroed, as a real reading leaves it
        #expect(old.available(\.tcpi_snd_wnd) == real.info.tcpi_snd_wnd)  // bytes 228..<232
        #expect(old.available(\.tcpi_rtt) == real.info.tcpi_rtt)
        #expect(old.available(\.tcpi_rtt) != nil)
        #expect(old.available(\.tcpi_total_rto) == nil)
        #expect(old.available(\.tcpi_received_ce_bytes) == nil)
        // Bitfields: byte 6 is there, the AccECN unit at the end is not.
        #expect(old.available(\.tcpi_snd_wscale) == real.info.tcpi_snd_wscale)
        #expect(old.available(\.tcpi_delivery_rate_app_limited) != nil)
        #expect(old.available(\.tcpi_ecn_mode) == nil)
        #expect(old.available(\.tcpi_options2) == nil)
        #expect(real.available(\.tcpi_ecn_mode) != nil)
        #expect(old.state == .established)

        // The same from raw kernel bytes (what a 6.1 kernel would hand back).
        var fromBytes = TCPInfoSnapshot()
        withUnsafeBytes(of: real.info) { raw in
            fromBytes = TCPInfoSnapshot(kernelBytes: UnsafeRawBufferPointer(rebasing: raw[0 ..< 232]))
        }
        #expect(fromBytes.filledBytes == 232)
        #expect(fromBytes.available(\.tcpi_rcv_wnd) == nil)
        #expect(fromBytes.available(\.tcpi_rtt) == real.info.tcpi_rtt)

        // glibc 2.36's struct tcp_info view: 104 bytes, up to tcpi_total_retrans.
        let glibc = TCPInfoSnapshot(info: real.info, filledBytes: 104)
        #expect(glibc.available(\.tcpi_total_retrans) != nil)
        #expect(glibc.available(\.tcpi_pacing_rate) == nil)
        #expect(glibc.available(\.tcpi_bytes_acked) == nil)

        // Out-of-range lengths are clamped.
        #expect(TCPInfoSnapshot(info: real.info, filledBytes: -5).filledBytes == 0)
        #expect(TCPInfoSnapshot(info: real.info, filledBytes: 10_000).filledBytes == 280)
    }

    @Test("reading from an older kernel (232 bytes) into a reused snapshot: stale fields cleared, unavailable")
    func olderKernelReading() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        var snapshot = TCPInfoSnapshot()
        // First a complete reading (what a kernel that fills 280 bytes or
        // more does), whatever this kernel fills.
        try client.descriptor.readTCPInfo(into: &snapshot) { descriptor, info throws(SockError) in
            var live = TCPInfo()
            _ = try descriptor.option(SocketOption<OptionScope.TCP, _, _>.info, into: &live)
            info = fullReading(live)
            return TCPInfoSnapshot.capacity
        }
        #expect(snapshot.info.tcpi_rcv_wnd > 0)
        #expect(snapshot.available(\.tcpi_rcv_wnd) != nil)

        // What a Linux 6.1 kernel does: fill the first 232 bytes, report 232,
        // leave the rest of the caller's structure untouched.
        try client.descriptor.readTCPInfo(into: &snapshot) { descriptor, info throws(SockError) in
            var live = TCPInfo()
            _ = try descriptor.option(SocketOption<OptionScope.TCP, _, _>.info, into: &live)
            let full = fullReading(live)
            withUnsafeBytes(of: full) { source in
                withUnsafeMutableBytes(of: &info) { destination in
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0 ..< 232]))
                }
            }
            return 232
        }
        #expect(snapshot.filledBytes == 232)
        #expect(snapshot.available(\.tcpi_rcv_wnd) == nil)
        #expect(snapshot.info.tcpi_rcv_wnd == 0, "the previous reading's value must not survive")
        #expect(snapshot.available(\.tcpi_rtt).map { $0 > 0 } == true)
        #expect(snapshot.state == .established)

        // A kernel that reports more than we asked for is clamped.
        try client.descriptor.readTCPInfo(into: &snapshot) { _, _ throws(SockError) in 4_096 }
        #expect(snapshot.filledBytes == TCPInfoSnapshot.capacity)
    }

    @Test("byte ranges come from the layout: stored fields and bitfield units")
    func byteRanges() {
        #expect(TCPInfoSnapshot.byteRange(of: \.tcpi_state) == 0 ..< 1)
        #expect(TCPInfoSnapshot.byteRange(of: \.tcpi_rtt) == 68 ..< 72)
        #expect(TCPInfoSnapshot.byteRange(of: \.tcpi_rcv_wnd) == 232 ..< 236)
        #expect(TCPInfoSnapshot.byteRange(of: \.tcpi_snd_wscale) == 6 ..< 8)
        #expect(TCPInfoSnapshot.byteRange(of: \.tcpi_fastopen_client_fail) == 6 ..< 8)
        #expect(TCPInfoSnapshot.byteRange(of: \.tcpi_accecn_fail_mode) == 276 ..< 280)
        // A computed property that is not a field: no range; available only
        // when the reading is complete.
        #expect(TCPInfoSnapshot.byteRange(of: \.hasSACK) == nil)
        var partial = TCPInfoSnapshot()
        partial.filledBytes = 200
        #expect(!partial.isAvailable(\.hasSACK))
        partial.filledBytes = 280
        #expect(partial.isAvailable(\.hasSACK))
    }

    @Test("helpers decode the packed bytes as the reference does")
    func helpers() {
        var info = TCPInfo()
        info.tcpi_snd_wscale = 7
        info.tcpi_rcv_wscale = 9
        info.tcpi_delivery_rate_app_limited = 1
        info.tcpi_fastopen_client_fail = 2
        info.tcpi_options = UInt8(SockBindings.TCPI_OPT_SACK | SockBindings.TCPI_OPT_ECN)
        info.tcpi_state = UInt8(SockBindings.TCP_LISTEN)
        withUnsafeBytes(of: info) { raw in
            // Go: SndWscale is the low nibble, RcvWscale the high nibble of byte 6.
            #expect(raw[6] == 0x97)
        }
        #expect(info.sendWindowScale == 7)
        #expect(info.receiveWindowScale == 9)
        #expect(info.isDeliveryRateAppLimited)
        #expect(info.fastOpenClientFail == 2)
        #expect(info.hasSACK && info.hasECN)
        #expect(!info.hasTimestamps && !info.hasWindowScaling)
        #expect(info.state == .listen)
        #expect(TCPState(rawValue: 200) == .other(200))
        #expect(TCPState.established.rawValue == UInt8(SockBindings.TCP_ESTABLISHED))
        #expect(TCPState(rawValue: TCPState.closeWait.rawValue) == .closeWait)
    }

    @Test("listener and unconnected socket report LISTEN and CLOSE; closed socket throws .closed")
    func otherStates() throws {
        let listener = try listener4()
        #expect(try listener.tcpInfo().state == .listen)
        let socket = try TCPSocket.ipv4()
        #expect(try socket.tcpInfo().state == .close)
        try socket.close()
        var snapshot = TCPInfoSnapshot()
        #expect(throws: SockError.closed) { try socket.tcpInfo(into: &snapshot) }
        try listener.close()
    }

    @Test("reading TCP info in place and asking per field allocates nothing", .countingAllocations)
    func noAllocation() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        var snapshot = TCPInfoSnapshot()
        var sink: UInt64 = 0
        let count = try allocations {
            try client.tcpInfo(into: &snapshot)
            sink &+= UInt64(snapshot.available(\.tcpi_rtt) ?? 0)
            sink &+= UInt64(snapshot.available(\.tcpi_rcv_wnd) ?? 0)
            sink &+= snapshot.isAvailable(\.tcpi_snd_wscale) ? 1 : 0
            sink &+= snapshot.info.hasSACK ? 1 : 0
        }
        #expect(count == 0)
        let returning = try allocations {
            let info = try client.tcpInfo()
            sink &+= UInt64(info.filledBytes)
        }
        #expect(returning == 0)
        #expect(sink > 0)
    }

    /// An integer sysctl under /proc/sys, or nil.
    private func readSysctl(_ path: String) -> Int? {
        guard let file = fopen("/proc/sys/" + path, "r") else { return nil }
        defer { fclose(file) }
        var value: CInt = 0
        return withUnsafeMutablePointer(to: &value) { pointer in
            withVaList([pointer]) { vfscanf(file, "%d", $0) } == 1 ? Int(pointer.pointee) : nil
        }
    }
}
