#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import Testing

extension RuntimeCoreTests {
    @Suite("Backoff: iox.Backoff semantics")
    struct BackoffTests {
        /// Jitter bounds of the reference: d + d × (r − 128) / 1024, r ∈ 0...255.
        static func bounds(_ d: Int64) -> ClosedRange<Int64> {
            (d - d * 128 / 1024)...(d + d * 127 / 1024)
        }

        @Test("the zero value uses 500 µs and 100 ms and starts in block 1")
        func zeroValue() {
            let backoff = Backoff()
            #expect(backoff.block == 1)
            #expect(backoff.duration == .microseconds(500))
            #expect(backoff.base == Backoff.defaultBase)
            #expect(backoff.max == Backoff.defaultMax)
            #expect(Backoff.defaultBase == .microseconds(500))
            #expect(Backoff.defaultMax == .milliseconds(100))
        }

        @Test("block n does n sleeps of min(n × base, max), capped from block 200 on")
        func schedule() {
            var backoff = Backoff()
            for block in 1...202 {
                let expected = Duration.nanoseconds(min(Int64(block) * 500_000, 100_000_000))
                for sleep in 0..<block {
                    #expect(backoff.block == block, "block \(block), sleep \(sleep)")
                    #expect(backoff.duration == expected, "block \(block), sleep \(sleep)")
                    let delay = backoff.nextDelay().saturatingNanoseconds
                    #expect(Self.bounds(expected.saturatingNanoseconds).contains(delay))
                }
            }
            #expect(backoff.block == 203)
            #expect(backoff.duration == .milliseconds(100))
        }

        @Test("the first blocks run 0.5 ms ×1, 1 ms ×2, 1.5 ms ×3")
        func firstBlocks() {
            var backoff = Backoff()
            var durations: [Duration] = []
            for _ in 0..<6 {
                durations.append(backoff.duration)
                _ = backoff.nextDelay()
            }
            #expect(durations == [
                .microseconds(500),
                .milliseconds(1), .milliseconds(1),
                .microseconds(1500), .microseconds(1500), .microseconds(1500),
            ])
        }

        @Test("jitter stays within -12.5 % ... +12.4 % and covers both sides")
        func jitterBounds() {
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            var below = false
            var above = false
            for d: Int64 in [500_000, 1_000_000, 1_500_000, 100_000_000, 1_023, 7] {
                for _ in 0..<2_000 {
                    let jittered = Backoff.jitter(d, state: &state)
                    #expect(Self.bounds(d).contains(jittered))
                    if jittered < d { below = true }
                    if jittered > d { above = true }
                }
            }
            #expect(below && above)
        }

        @Test("jitter follows the reference's xorshift64 formula")
        func jitterFormula() {
            // From state 1 one xorshift step gives 1_082_269_761 < 2^32, so
            // r = 0 and the factor is -128/1024: exactly -12.5 %.
            var state: UInt64 = 1
            #expect(Backoff.jitter(1_000_000, state: &state) == 875_000)
            #expect(state == 1_082_269_761)
            // Same state twice, same jitter: the sequence is deterministic.
            var a: UInt64 = 12345, b: UInt64 = 12345
            for _ in 0..<100 {
                #expect(Backoff.jitter(777_777, state: &a) == Backoff.jitter(777_777, state: &b))
            }
        }

        @Test("a custom base and maximum apply; zero or negative selects the defaults")
        func configuration() {
            var backoff = Backoff(base: .milliseconds(10), max: .milliseconds(15))
            #expect(backoff.duration == .milliseconds(10))
            _ = backoff.nextDelay()  // ends block 1
            #expect(backoff.duration == .milliseconds(15))  // 20 ms capped

            var capped = Backoff()
            capped.base = .milliseconds(50)
            _ = capped.nextDelay()
            #expect(capped.duration == .milliseconds(100))
            _ = capped.nextDelay()
            _ = capped.nextDelay()
            #expect(capped.duration == Backoff.defaultMax)

            var defaults = Backoff()
            defaults.base = .zero
            #expect(defaults.duration == Backoff.defaultBase)
            defaults.base = .seconds(-1)
            #expect(defaults.base == Backoff.defaultBase)
            defaults.max = .zero
            #expect(defaults.max == Backoff.defaultMax)
        }

        @Test("reset returns to block 1 and keeps the configuration")
        func reset() {
            var backoff = Backoff()
            backoff.base = .milliseconds(1)
            _ = backoff.nextDelay()
            _ = backoff.nextDelay()
            #expect(backoff.block == 2)
            backoff.reset()
            #expect(backoff.block == 1)
            #expect(backoff.duration == .milliseconds(1))
        }

        @Test("wait sleeps the jittered duration")
        func waitSleeps() {
            var backoff = Backoff()
            let start = now()
            backoff.wait()
            let elapsed = now() - start
            #expect(elapsed >= 500_000 * 7 / 8)
            #expect(elapsed < lateBound)  // slept, did not hang
            #expect(backoff.block == 2)
        }
    }
}
