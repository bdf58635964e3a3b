// Synthetic completions for the io_uring engine, decoded from bytes: the
// entry point of the libFuzzer target Fuzz/Sources/fuzz-uring-cqe. Fuzz/ is a
// package of its own, so it cannot see `package` declarations; this one
// enum is SPI (`@_spi(Fuzzing) import Sock`), kept out of the public API, its
// documentation and its symbol graph.
//
// The engine replaying is "dry": it has a ring and a buffer ring of its own
// (so the kernel must allow io_uring), but nothing it prepares is ever
// submitted, and a descriptor it would close with close(2) is left alone —
// the fuzzer's descriptor numbers are made up, and must never turn into
// system calls on the fuzzing process's own descriptors.
//
// Input: an options byte, then 8-byte records (a trailing partial record is
// ignored).
//   options   bit 0: no multishot byte limit (the path of kernels before
//             6.17); bits 1-2: per-connection cap 1...4
//   byte 0    low 4 bits: 0 serve(fd), 1 close(fd), 2 end of pass (publish
//             the buffers, arm the starved receives), 3 listen(on: fd);
//             4...15: a completion whose kind is the high 4 bits (0...15; the
//             engine knows 1...7)
//   byte 1    the descriptor, signed (-128...127; the tables hold 64)
//   byte 2    user_data bits 32-39 (a send's buffer id, a cancellation's target)
//   byte 3    bit 0: the result is -errno from a table indexed by byte 4;
//             bit 1: the data handler consumes the bytes instead of echoing;
//             bit 2: user_data bits 40-47 are all ones;
//             bit 3: the data handler closes its descriptor;
//             bit 4: the result is Int32.min, bit 5: Int32.max
//   bytes 4-5 the result (Int16, little-endian) unless bits 0, 4 or 5
//   byte 6    CQE flags: bit 0 IORING_CQE_F_BUFFER, bit 1 IORING_CQE_F_MORE,
//             bit 2 IORING_CQE_F_SOCK_NONEMPTY; bits 3-7 as they are
//   byte 7    the buffer id in the CQE flags (the ring has 16)
// After every record the engine's bookkeeping must be consistent
// (`IOUringEngine.consistencyProblem()`): operations in flight match what is
// flagged in flight, buffers held match the send queues, the starved FIFO is
// well formed, no buffer was handed back twice. A trap anywhere (an
// underflow, an index out of range) is a crash for the fuzzer.
#if canImport(Glibc)
import Glibc
#endif
import SockBindings

/// Replays synthetic io_uring completions through a dry completion engine
/// (for the fuzzer; not API).
@_spi(Fuzzing)
public enum IOUringEngineReplay {
    /// The descriptors the replaying engine's tables hold.
    public static let descriptorCapacity = 64
    /// The buffers of its provided ring.
    public static let bufferCount: UInt32 = 16
    /// The bytes of each buffer.
    public static let bufferSize = 64

    private static let errnos: [Int32] = [
        SockBindings.ENOBUFS, SockBindings.ECANCELED, SockBindings.ECONNRESET, SockBindings.EPIPE,
        SockBindings.EMFILE, SockBindings.ENFILE, SockBindings.ENOMEM, SockBindings.ENOENT,
        SockBindings.EALREADY, SockBindings.EINVAL, SockBindings.EAGAIN, SockBindings.EBADF,
    ]

    /// Replays `input` (see the file's comment for its layout) through a
    /// new dry engine.
    ///
    /// - Returns: nil when every record left the engine consistent (or
    ///   io_uring is unusable here, so nothing ran); otherwise the record
    ///   and what was inconsistent after it.
    public static func replay(_ input: UnsafeRawBufferPointer) -> String? {
        guard let options = input.first else { return nil }
        let engine: IOUringEngine
        do throws(SockErrno) {
            engine = try IOUringEngine(entries: 8, bufferCount: bufferCount, bufferSize: bufferSize,
                                       perConnectionBuffers: 1 + Int(options >> 1 & 3),
                                       descriptorCapacity: descriptorCapacity, submits: false)
        } catch {
            return nil
        }
        engine.limitsMultishot = options & 1 == 0
        var consume = false
        var closeInHandler = false
        var checksum: UInt8 = 0
        engine.onData = { [unowned engine] fd, bytes in
            // Touch every byte: a length past the buffer is an ASan report.
            for byte in bytes { checksum &+= byte }
            if bytes.count > bufferSize { fatalError("\(bytes.count) bytes handed over from a \(bufferSize)-byte buffer") }
            if closeInHandler { engine.close(fd) }
            return consume ? .consumed : .echo
        }
        var record = 1
        var index = 0
        while input.count - (1 + index * 8) >= 8 {
            let base = 1 + index * 8
            let bytes = (0..<8).map { input[base + $0] }
            index += 1
            let fd = CInt(Int8(bitPattern: bytes[1]))
            let action = bytes[0] & 0x0f
            switch action {
            case 0: engine.serve(fd)
            case 1: engine.close(fd)
            case 2: engine.endPass()
            case 3: engine.listen(on: fd)
            default:
                var result = Int32(Int16(bitPattern: UInt16(bytes[4]) | UInt16(bytes[5]) << 8))
                if bytes[3] & 1 != 0 { result = -errnos[Int(bytes[4]) % errnos.count] }
                if bytes[3] & 16 != 0 { result = .min }
                if bytes[3] & 32 != 0 { result = .max }
                consume = bytes[3] & 2 != 0
                closeInHandler = bytes[3] & 8 != 0
                let extra = UInt64(bytes[2]) | (bytes[3] & 4 != 0 ? 0xff00 : 0)
                let userData = UInt64(bytes[0] >> 4) << 56 | extra << 32 | UInt64(UInt32(bitPattern: fd))
                var flags = UInt32(bytes[6] & 0xf8)
                if bytes[6] & 1 != 0 { flags |= SockBindings.IORING_CQE_F_BUFFER }
                if bytes[6] & 2 != 0 { flags |= SockBindings.IORING_CQE_F_MORE }
                if bytes[6] & 4 != 0 { flags |= SockBindings.IORING_CQE_F_SOCK_NONEMPTY }
                flags |= UInt32(bytes[7]) << UInt32(SockBindings.IORING_CQE_BUFFER_SHIFT)
                engine.complete(userData, result, flags)
            }
            if let problem = engine.consistencyProblem() {
                return "record \(record) \(bytes): \(problem); \(engine.statistics)"
            }
            record += 1
        }
        _ = checksum
        return nil
    }
}
