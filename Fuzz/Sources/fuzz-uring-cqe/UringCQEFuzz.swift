// io_uring completion handling (issue 12): sequences of synthetic
// completions — bogus user_data kinds, descriptors and buffer ids out of
// range, negative and extreme results, IORING_CQE_F_MORE present or missing,
// completions for operations that are not in flight — interleaved with
// serve, close, listen and end-of-pass, fed to a dry completion engine
// (nothing reaches the kernel). Nothing may trap; after every completion the
// engine's bookkeeping must be consistent (no buffer handed back twice,
// operations in flight never below zero, buffers held matching the send
// queues, the starved FIFO well formed). The layout of an input is
// described in Sources/Sock/IOUring/IOUringEngineReplay.swift.
@_spi(Fuzzing) import Sock

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUringCQE(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // An exact-size copy: reads past its end are caught.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
    defer { buffer.deallocate() }
    if size > 0, let data { buffer.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    if let problem = IOUringEngineReplay.replay(UnsafeRawBufferPointer(buffer)) {
        fatalError("io_uring engine inconsistent: \(problem)")
    }
    return 0
}
