// Timers of the poller: an indexed binary min-heap on the monotonic clock.
//
// Timer slots live in parallel arrays reused through a free list; the heap
// holds slot numbers and every slot knows its heap position, so cancelling is
// O(log n) removal (no stale entries pile up when deadlines are cancelled far
// more often than they fire, as a read deadline is). The arrays grow only
// when more timers are pending at once than ever before; with capacity
// reserved up front, scheduling, cancelling and firing allocate nothing.

/// An indexed min-heap of timers (deadline, token), not thread-safe (the
/// poller guards it with its lock).
internal struct TimerHeap {
    /// Deadline (monotonic nanoseconds) per slot.
    private var deadlines: [Int64] = []
    /// Caller's token per slot.
    private var tokens: [UInt64] = []
    /// Generation per slot, bumped when the slot is freed.
    private var generations: [UInt32] = []
    /// Heap position per slot, or the next free slot (as −2 − next) when free.
    private var positions: [Int32] = []
    /// Slot numbers, ordered as a binary min-heap by deadline.
    private var heap: [Int32] = []
    /// The first free slot, or −1.
    private var firstFree: Int32 = -1

    init(capacity: Int) {
        deadlines.reserveCapacity(capacity)
        tokens.reserveCapacity(capacity)
        generations.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
        heap.reserveCapacity(capacity)
    }

    /// The number of pending timers.
    var count: Int { heap.count }

    /// The earliest deadline, or nil when no timer is pending.
    var earliest: Int64? { heap.isEmpty ? nil : deadlines[Int(heap[0])] }

    /// Adds a timer.
    mutating func schedule(at deadline: Int64, token: UInt64) -> PollerTimer {
        let slot: Int32
        if firstFree >= 0 {
            slot = firstFree
            firstFree = -2 - positions[Int(slot)]
            deadlines[Int(slot)] = deadline
            tokens[Int(slot)] = token
        } else {
            slot = Int32(deadlines.count)
            deadlines.append(deadline)
            tokens.append(token)
            generations.append(0)
            positions.append(0)
        }
        positions[Int(slot)] = Int32(heap.count)
        heap.append(slot)
        siftUp(heap.count - 1)
        return PollerTimer(slot: slot, generation: generations[Int(slot)])
    }

    /// Removes a pending timer; false when it already fired or was cancelled.
    mutating func cancel(_ timer: PollerTimer) -> Bool {
        let slot = Int(timer.slot)
        guard slot >= 0, slot < generations.count, generations[slot] == timer.generation,
              positions[slot] >= 0 else { return false }
        remove(at: Int(positions[slot]))
        free(slot)
        return true
    }

    /// Removes and returns the token of the earliest timer if it is due at
    /// `now` (its deadline is not after `now`: timers never fire early).
    mutating func popDue(now: Int64) -> UInt64? {
        if heap.isEmpty { return nil }
        let first = Int(heap[0])
        if deadlines[first] > now { return nil }
        let token = tokens[first]
        remove(at: 0)
        free(first)
        return token
    }

    /// Removes every pending timer whose token satisfies `matching`; returns
    /// their tokens.
    mutating func removeAll(where matching: (UInt64) -> Bool) -> [UInt64] {
        let pending = heap  // a snapshot of the slots: removing reorders the heap
        var removed: [UInt64] = []
        for slot in pending where matching(tokens[Int(slot)]) {
            removed.append(tokens[Int(slot)])
            remove(at: Int(positions[Int(slot)]))
            free(Int(slot))
        }
        return removed
    }

    private mutating func free(_ slot: Int) {
        generations[slot] &+= 1
        positions[slot] = -2 - firstFree
        firstFree = Int32(slot)
    }

    private mutating func remove(at index: Int) {
        let last = heap.count - 1
        if index != last {
            swapAt(index, last)
        }
        heap.removeLast()
        if index < heap.count {
            siftDown(index)
            siftUp(index)
        }
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        let slotI = heap[i]
        let slotJ = heap[j]
        heap[i] = slotJ
        heap[j] = slotI
        positions[Int(slotJ)] = Int32(i)
        positions[Int(slotI)] = Int32(j)
    }

    private func less(_ i: Int, _ j: Int) -> Bool {
        let slotI = Int(heap[i])
        let slotJ = Int(heap[j])
        return deadlines[slotI] < deadlines[slotJ]
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count && less(left + 1, left) { smallest = left + 1 }
            guard less(smallest, parent) else { return }
            swapAt(smallest, parent)
            parent = smallest
        }
    }
}
