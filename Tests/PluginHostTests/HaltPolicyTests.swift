// --halt's value: GNU parallel's forms, the errors, and the counting rule.
import PluginHost
import Testing

@Suite("Halt policy")
struct HaltPolicyTests {
    @Test("GNU parallel's forms, long and short")
    func parses() throws {
        #expect(try HaltPolicy.parse("now,fail=1") == HaltPolicy(when: .now, counted: .fail, threshold: .tasks(1)))
        #expect(try HaltPolicy.parse("soon,fail=10%") == HaltPolicy(when: .soon, counted: .fail, threshold: .percent(10)))
        #expect(try HaltPolicy.parse("now,success=3") == HaltPolicy(when: .now, counted: .success, threshold: .tasks(3)))
        #expect(try HaltPolicy.parse("soon,done=100%") == HaltPolicy(when: .soon, counted: .done, threshold: .percent(100)))
        #expect(try HaltPolicy.parse("never") == nil)
        #expect(try HaltPolicy.parse("0") == nil)
        #expect(try HaltPolicy.parse("1")?.description == "soon,fail=1")
        #expect(try HaltPolicy.parse("2")?.description == "now,fail=1")
        #expect(try HaltPolicy.parse("-1")?.description == "soon,success=1")
        #expect(try HaltPolicy.parse("-2")?.description == "now,success=1")
        #expect(try HaltPolicy.parse("5%")?.description == "soon,fail=5%")
    }

    @Test("anything else is one usage error naming the value", arguments: [
        "", "now", "later,fail=1", "now,fail", "now,fail=", "now,fail=0", "now,fail=0%", "now,fail=101%", "now,fail=-1",
        "now,fail=1.5", "now,oops=1", "now,fail=1,x", "now,fail=1%%", "%", "now,fail=99999999999",
    ])
    func refuses(_ text: String) {
        #expect(throws: HostError.self) { try HaltPolicy.parse(text) }
        do { _ = try HaltPolicy.parse(text) } catch {
            #expect(error.description.contains("'\(text)'"), "\(error)")
        }
    }

    @Test("fail counts failed and expired tasks; success done ones; done every end")
    func counts() throws {
        var counts = OutcomeCounts()
        for outcome in [TaskOutcome.done, .done, .failed, .expired, .cancelled, .skipped] { counts.record(outcome) }
        #expect(try HaltPolicy.parse("now,fail=1")?.counted(in: counts) == 2)
        #expect(try HaltPolicy.parse("now,success=1")?.counted(in: counts) == 2)
        #expect(try HaltPolicy.parse("now,done=1")?.counted(in: counts) == 6)
    }

    @Test("N is a count; P % is of the run's tasks, reached when counted * 100 >= tasks * P")
    func thresholds() throws {
        var two = OutcomeCounts()
        two.record(.failed)
        two.record(.failed)
        #expect(try HaltPolicy.parse("now,fail=2")!.isReached(two, tasks: 1_000))
        #expect(try !HaltPolicy.parse("now,fail=3")!.isReached(two, tasks: 3))
        #expect(try HaltPolicy.parse("now,fail=20%")!.isReached(two, tasks: 10))
        #expect(try !HaltPolicy.parse("now,fail=20%")!.isReached(two, tasks: 11))
        #expect(try !HaltPolicy.parse("now,fail=100%")!.isReached(OutcomeCounts(), tasks: 0))
    }
}
