package schedule_test

import (
	"testing"

	"github.com/statesrv/statesrv/commands/schedule"
)

func TestDescribe(t *testing.T) {
	for _, c := range []struct{ name, spec, want string }{
		{"EveryMinute", "* * * * *", "every minute"},
		{"EveryNMinutes", "*/15 * * * *", "every 15 minutes"},
		{"EveryOneMinute", "*/1 * * * *", "every minute"},
		{"Hourly", "5 * * * *", "every hour at :05"},
		{"EveryNHours", "30 */6 * * *", "every 6 hours at :30"},
		{"Daily", "0 2 * * *", "every day at 02:00"},
		{"DailyTwice", "0 8,17 * * *", "every day at 08:00 and 17:00"},
		{"DailySeconds", "0 30 9 * * *", "every day at 09:30"},
		{"Weekdays", "30 9 * * 1-5", "on weekdays at 09:30"},
		{"WeekdayNames", "30 9 ? * MON-FRI", "on weekdays at 09:30"},
		{"Weekends", "0 10 * * 6,0", "on weekends at 10:00"},
		{"SomeDays", "0 7 * * 1,4", "on Monday and Thursday at 07:00"},
		{"SundaySeven", "0 7 * * 7", "on Sunday at 07:00"},
		{"Monthly", "0 3 1 * *", "on day 1 of every month at 03:00"},
		{"MonthlyDay15", "15 4 15 * *", "on day 15 of every month at 04:15"},
		{"AtHourly", "@hourly", "every hour"},
		{"AtDaily", "@daily", "every day at 00:00"},
		{"AtMidnight", "@midnight", "every day at 00:00"},
		{"AtWeekly", "@weekly", "every Sunday at 00:00"},
		{"AtMonthly", "@monthly", "on day 1 of every month at 00:00"},
		{"AtYearly", "@yearly", "every year on 1 January at 00:00"},
		{"AtEvery", "@every 90s", "every 1m30s"},
		{"AtEveryHours", "@every 2h", "every 2h"},
		{"FallbackMonth", "0 0 29 2 *", "0 0 29 2 *"},
		{"FallbackSeconds", "*/10 * * * * *", "*/10 * * * * *"},
		{"FallbackRange", "0-30 * * * *", "0-30 * * * *"},
		{"FallbackSteppedDays", "0 2 * * */2", "0 2 * * */2"},
		{"FallbackSpaces", "  0-30   * * * * ", "0-30 * * * *"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := schedule.Describe(c.spec); got != c.want {
				t.Errorf("Describe(%q) = %q, want %q", c.spec, got, c.want)
			}
		})
	}
}
