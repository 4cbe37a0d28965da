import CSightglassShims
import Foundation
import Testing

/// The event loops ask the scheduler for a short time slice; the kernel's own view of the
/// thread (`/proc/thread-self/sched`) must show it took effect where the kernel supports it.
@Suite struct TimeSliceTests {
    /// `se.slice` of the calling thread in nanoseconds, where the kernel reports it.
    static func currentSlice() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/sched", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("se.slice") {
            return line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }

    @Test func aThreadGetsTheSliceItAsksForAndKeepsItsNiceValue() async throws {
        let result = await withCheckedContinuation {
            (done: CheckedContinuation<(rc: Int32, before: Int?, after: Int?, niceBefore: Int32, niceAfter: Int32), Never>) in
            // Linux keeps the nice value per thread; `who` 0 is the calling one.
            let t = Thread {
                let niceBefore = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
                let before = Self.currentSlice()
                let rc = sg_request_time_slice(250_000)
                done.resume(returning: (rc, before, Self.currentSlice(), niceBefore, getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)))
            }
            t.start()
        }
        #expect(result.niceAfter == result.niceBefore)
        // Kernels before 6.12 (or without se.slice in /proc) keep their default: nothing to check there.
        guard result.rc == 0, let before = result.before, let after = result.after, before != 250_000 else { return }
        #expect(after == 250_000)
    }

    @Test func zeroAsksForNothing() {
        #expect(sg_request_time_slice(0) == 0)
    }
}
