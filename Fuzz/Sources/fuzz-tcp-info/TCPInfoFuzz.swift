// TCP_INFO decoding from truncated (or over-long) buffers, as kernels older
// or newer than the bindings return them: every field is asked for; a field
// is available exactly when its bytes were provided, and bytes past the
// filled length read as zero. Nothing may trap or read past the buffer (ASan).
#if canImport(Glibc)
import Glibc
#endif
import Sock

@inline(never)
func check<Value>(_ snapshot: TCPInfoSnapshot, _ field: KeyPath<TCPInfo, Value>) {
    let available = snapshot.isAvailable(field)
    precondition((snapshot.available(field) != nil) == available, "available/isAvailable disagree")
    if let range = TCPInfoSnapshot.byteRange(of: field) {
        precondition(range.lowerBound >= 0 && range.upperBound <= TCPInfoSnapshot.capacity, "range \(range)")
        precondition(available == (range.upperBound <= snapshot.filledBytes), "availability of \(range)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTCPInfo(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // An exact-size copy: reads past its end are caught.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
    defer { buffer.deallocate() }
    if size > 0, let data { buffer.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }

    let snapshot = TCPInfoSnapshot(kernelBytes: UnsafeRawBufferPointer(buffer))
    precondition(snapshot.filledBytes == min(size, TCPInfoSnapshot.capacity), "filledBytes \(snapshot.filledBytes) for \(size)")
    precondition(snapshot.isComplete == (size >= TCPInfoSnapshot.capacity))
    withUnsafeBytes(of: snapshot.info) { raw in
        for index in 0 ..< raw.count {
            let expected: UInt8 = index < size ? buffer[index] : 0
            precondition(raw[index] == expected, "byte \(index) of a \(size)-byte reading")
        }
    }
    // Every field the fuzzer checks, the bitfields included.
    check(snapshot, \.tcpi_state)
    check(snapshot, \.tcpi_ca_state)
    check(snapshot, \.tcpi_retransmits)
    check(snapshot, \.tcpi_probes)
    check(snapshot, \.tcpi_backoff)
    check(snapshot, \.tcpi_options)
    check(snapshot, \.tcpi_snd_wscale)
    check(snapshot, \.tcpi_rcv_wscale)
    check(snapshot, \.tcpi_delivery_rate_app_limited)
    check(snapshot, \.tcpi_fastopen_client_fail)
    check(snapshot, \.tcpi_rto)
    check(snapshot, \.tcpi_ato)
    check(snapshot, \.tcpi_snd_mss)
    check(snapshot, \.tcpi_rcv_mss)
    check(snapshot, \.tcpi_rtt)
    check(snapshot, \.tcpi_rttvar)
    check(snapshot, \.tcpi_total_retrans)
    check(snapshot, \.tcpi_pacing_rate)
    check(snapshot, \.tcpi_bytes_acked)
    check(snapshot, \.tcpi_bytes_received)
    check(snapshot, \.tcpi_segs_out)
    check(snapshot, \.tcpi_data_segs_out)
    check(snapshot, \.tcpi_delivery_rate)
    check(snapshot, \.tcpi_bytes_sent)
    check(snapshot, \.tcpi_snd_wnd)
    check(snapshot, \.tcpi_rcv_wnd)
    check(snapshot, \.tcpi_total_rto)
    check(snapshot, \.tcpi_received_ce_bytes)
    check(snapshot, \.tcpi_ecn_mode)
    check(snapshot, \.tcpi_accecn_opt_seen)
    check(snapshot, \.tcpi_accecn_fail_mode)
    check(snapshot, \.tcpi_options2)
    check(snapshot, \.hasSACK)  // not a field: available only when complete
    _ = snapshot.state
    _ = snapshot.info.hasSACK
    _ = snapshot.info.state

    // The same bytes replayed with a claimed length from the input.
    let claimed = size >= 2 ? Int(Int16(bitPattern: UInt16(buffer[0]) | UInt16(buffer[1]) << 8)) : size
    let replay = TCPInfoSnapshot(info: snapshot.info, filledBytes: claimed)
    precondition(replay.filledBytes == max(0, min(claimed, TCPInfoSnapshot.capacity)), "clamping \(claimed)")
    return 0
}
