import SightglassConfig
import Testing

@testable import SightglassGovernance

@Suite struct LimitCalendarTests {
    @Test func monthsStartOnTheFirstAndEndOnTheNextFirst() {
        let dec3 = Int64(1_796_324_400)  // 2026-12-03 19:00 UTC
        let p = LimitCalendar.period(.month, dec3)
        #expect(LimitCalendar.periodStart(.month, p) == 1_796_083_200)  // 2026-12-01
        #expect(LimitCalendar.periodEnd(.month, p) == 1_798_761_600)  // 2027-01-01
    }

    @Test func weeksStartOnMonday() {
        let dec3 = Int64(1_796_324_400)  // a Thursday
        let p = LimitCalendar.period(.week, dec3)
        #expect(LimitCalendar.periodStart(.week, p) == 1_796_083_200 - 86_400)  // Monday 2026-11-30
        #expect(LimitCalendar.periodEnd(.week, p) - LimitCalendar.periodStart(.week, p) == 7 * 86_400)
    }

    @Test func daysAreUTC() {
        #expect(LimitCalendar.periodEnd(.day, LimitCalendar.period(.day, 1_796_324_400)) == 1_796_342_400)
    }

    @Test(arguments: [(0.017, "17ms"), (1.0, "1s"), (0.9999, "1s"), (360.0, "6m0s"), (59.2, "1m0s"), (3723.0, "1h2m3s"), (-1.0, "0ms")])
    func resetDurationsAreWrittenAsOpenAIDoes(seconds: Double, text: String) {
        #expect(LimitCalendar.goDuration(seconds) == text)
    }
}
