// TaskTable: values by task id in a window from the oldest id held (the trace's tasks in flight),
// the same answers as a dictionary whatever order ids come and go in.
@testable import PluginHost
import TestSupport
import Testing

@Suite("Task table")
struct TaskTableTests {
    @Test("random inserts, updates and removals, in order, out of order and far apart: as a dictionary")
    func sameAsADictionary() {
        var generator = SeededGenerator(seed: 16)
        for round in 0..<20 {
            var table = TaskTable<Int>()
            var model: [UInt64: Int] = [:]
            var next: UInt64 = UInt64(round) * 1_000
            for step in 0..<5_000 {
                let id: UInt64
                switch Int.random(in: 0..<10, using: &generator) {
                case 0: id = UInt64.random(in: 0..<UInt64.max, using: &generator)  // Far from the rest.
                case 1: id = next &+ UInt64.random(in: 0..<200_000, using: &generator)  // Past the window's growth.
                case 2...4: id = next; next += 1  // The next task.
                default: id = next - min(next, UInt64.random(in: 0..<64, using: &generator))  // A recent one.
                }
                if Bool.random(using: &generator) {
                    table[id] = step
                    model[id] = step
                } else {
                    #expect(table.removeValue(forKey: id) == model.removeValue(forKey: id))
                }
                let probe = Bool.random(using: &generator) ? id : next - min(next, UInt64.random(in: 0..<128, using: &generator))
                #expect(table[probe] == model[probe], "round \(round) step \(step) id \(probe)")
            }
            for (id, value) in model { #expect(table[id] == value) }
        }
    }
}

extension TaskTableTests {
    @Test("a value never removed does not keep a slot for every later task")
    func sparseWindowGivesItsOldestAway() {
        var table = TaskTable<Int>()
        table[1] = -1  // A task that never ends.
        for id in UInt64(2)..<300_000 {
            table[id] = Int(id)
            #expect(table.removeValue(forKey: id) == Int(id))
        }
        #expect(table[1] == -1)
        #expect(table.windowCount < 2 * TaskTable<Int>.sparseLimit, "window of \(table.windowCount) slots")
    }
}

extension TaskTableTests {
    @Test("a task put back just after its removal moved the window past it takes a slot again, not the dictionary")
    func putBackBeforeTheWindow() {
        var table = TaskTable<Int>()
        for id in UInt64(0)..<1_000 {
            table[id] = Int(id)
            table[id + 1] = Int(id + 1)
            #expect(table.removeValue(forKey: id) == Int(id))
            table[id] = Int(id)  // Kept after all (--results: its worker may still print).
            #expect(table[id] == Int(id) && table[id + 1] == Int(id + 1))
            #expect(table.othersCount == 0, "id \(id)")
            #expect(table.removeValue(forKey: id) == Int(id))
            #expect(table.removeValue(forKey: id + 1) == Int(id + 1))
        }
        table[200_000] = 1
        table[200_000 - TaskTable<Int>.growthLimit - 1] = 2  // Far before the window: the dictionary.
        #expect(table.othersCount == 1)
        #expect(table[200_000] == 1 && table[200_000 - TaskTable<Int>.growthLimit - 1] == 2)
    }
}
