package schedule_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zone files

	"github.com/robfig/cron/v3"
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
)

// MustParse parses spec in tz or fails the test.
func MustParse(tb testing.TB, spec, tz string) *schedule.Schedule {
	tb.Helper()
	s, err := schedule.Parse(spec, tz)
	if err != nil {
		tb.Fatalf("Parse(%q, %q): %v", spec, tz, err)
	}
	return s
}

// utc parses an RFC 3339 instant or panics.
func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func utcs(ss ...string) []time.Time {
	ts := make([]time.Time, len(ss))
	for i, s := range ss {
		ts[i] = utc(s)
	}
	return ts
}

func TestParse(t *testing.T) {
	ok := []struct {
		name, spec, tz, want string
	}{
		{"FiveFields", "0 2 * * *", "Europe/Prague", "0 2 * * * (Europe/Prague)"},
		{"SixFields", "*/10 * * * * *", "", "*/10 * * * * * (UTC)"},
		{"NamesAndQuestionMark", "0 30 9 ? jan-jun mon-fri", "America/New_York", "0 30 9 ? jan-jun mon-fri (America/New_York)"},
		{"Yearly", "@yearly", "", "@yearly (UTC)"},
		{"Annually", "@annually", "", "@annually (UTC)"},
		{"Monthly", "@monthly", "", "@monthly (UTC)"},
		{"Weekly", "@weekly", "", "@weekly (UTC)"},
		{"Daily", "@daily", "", "@daily (UTC)"},
		{"Midnight", "@midnight", "", "@midnight (UTC)"},
		{"Hourly", "@hourly", "Asia/Kathmandu", "@hourly (Asia/Kathmandu)"},
		{"Every", "@every 90s", "", "@every 90s (UTC)"},
		{"EveryCompound", "@every 1h30m", "", "@every 1h30m (UTC)"},
		{"WhiteSpaceCollapsed", "  0   2 *\t* *  ", "UTC", "0 2 * * * (UTC)"},
		{"LeapDay", "0 0 29 2 *", "", "0 0 29 2 * (UTC)"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			s := MustParse(t, tc.spec, tc.tz)
			if got := s.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if err := schedule.Validate(tc.spec, tc.tz); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}

	bad := []struct {
		name, spec, tz, want string
	}{
		{"ErrEmpty", "", "", `schedule is empty`},
		{"ErrBlank", "   ", "", `schedule is empty`},
		{"ErrFourFields", "0 2 * *", "", `bad schedule "0 2 * *": expected 5 or 6 fields`},
		{"ErrSevenFields", "0 0 2 * * * 2026", "", `bad schedule "0 0 2 * * * 2026": expected 5 or 6 fields`},
		{"ErrMinuteAboveMaximum", "61 * * * *", "", `bad schedule "61 * * * *": minute field "61": end of range (61) above maximum (59)`},
		{"ErrHourAboveMaximum", "0 25 * * *", "", `bad schedule "0 25 * * *": hour field "25": end of range (25) above maximum (23)`},
		{"ErrSecondNotANumber", "x 0 2 * * *", "", `bad schedule "x 0 2 * * *": second field "x": "x" is not a number`},
		{"ErrDayOfWeekSeven", "0 2 * * 7", "", `bad schedule "0 2 * * 7": day of week field "7": end of range (7) above maximum (6)`},
		{"ErrDayOfMonthZero", "0 2 0 * *", "", `bad schedule "0 2 0 * *": day of month field "0": beginning of range (0) below minimum (1)`},
		{"ErrZeroStep", "*/0 * * * *", "", `bad schedule "*/0 * * * *": minute field "*/0": step of range should be a positive number`},
		{"ErrBackwardRange", "0 2 * 9-3 *", "", `bad schedule "0 2 * 9-3 *": month field "9-3": beginning of range (9) beyond end of range (3)`},
		{"ErrNeverFires", "0 0 30 2 *", "", `bad schedule "0 0 30 2 *": never fires`},
		{"ErrUnknownDescriptor", "@reboot", "", `bad schedule "@reboot": unknown descriptor (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)`},
		{"ErrDescriptorWithExtra", "@daily 2", "", `bad schedule "@daily 2": unknown descriptor (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)`},
		{"ErrEveryWithoutDuration", "@every", "", `bad schedule "@every": @every needs a duration such as 90s`},
		{"ErrEveryBadDuration", "@every soon", "", `bad schedule "@every soon": bad duration "soon"`},
		{"ErrEveryUnderASecond", "@every 500ms", "", `bad schedule "@every 500ms": duration must be at least 1s`},
		{"ErrEveryNegative", "@every -5s", "", `bad schedule "@every -5s": duration must be at least 1s`},
		{"ErrEveryFractionOfSecond", "@every 1.5s", "", `bad schedule "@every 1.5s": duration must be whole seconds`},
		{"ErrCronTZPrefix", "CRON_TZ=Europe/Prague 0 2 * * *", "", `bad schedule "CRON_TZ=Europe/Prague 0 2 * * *": give the time zone in its own field, not in the schedule`},
		{"ErrTZPrefix", "TZ=UTC 0 2 * * *", "", `bad schedule "TZ=UTC 0 2 * * *": give the time zone in its own field, not in the schedule`},
		{"ErrTZPrefixAlone", "TZ=UTC", "", `bad schedule "TZ=UTC": give the time zone in its own field, not in the schedule`},
		{"ErrUnknownZone", "0 2 * * *", "Mars/Base", `unknown time zone "Mars/Base"`},
		{"ErrLocalZone", "0 2 * * *", "Local", `unknown time zone "Local"`},
		{"ErrZonePath", "0 2 * * *", "../../etc/passwd", `unknown time zone "../../etc/passwd"`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			s, err := schedule.Parse(tc.spec, tc.tz)
			if err == nil {
				t.Fatalf("Parse(%q, %q) = %v, want error", tc.spec, tc.tz, s)
			}
			if code := statesrv.ErrorCode(err); code != statesrv.EInvalid {
				t.Errorf("code = %q, want %q (err %v)", code, statesrv.EInvalid, err)
			}
			if msg := statesrv.ErrorMessage(err); msg != tc.want {
				t.Errorf("message:\n got %s\nwant %s", msg, tc.want)
			}
			if verr := schedule.Validate(tc.spec, tc.tz); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Validate = %v, want %v", verr, err)
			}
		})
	}
}

// TestNext pins successive fire times, daylight saving changes included.
// Europe/Prague: 2026-03-29 02:00 CET → 03:00 CEST, 2026-10-25 03:00 CEST →
// 02:00 CET. America/New_York: 2026-03-08 02:00 EST → 03:00 EDT, 2026-11-01
// 02:00 EDT → 01:00 EST.
func TestNext(t *testing.T) {
	tests := []struct {
		name, spec, tz string
		from           string
		want           []time.Time
	}{
		{"SpringForwardSkipsMissingTime", "30 2 * * *", "Europe/Prague", "2026-03-27T12:00:00Z",
			utcs("2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z")},
		{"FallBackFiresFixedTimeOnce", "30 2 * * *", "Europe/Prague", "2026-10-24T12:00:00Z",
			utcs("2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z")},
		{"FallBackFiresFixedHourOnce", "0 2 * * *", "Europe/Prague", "2026-10-24T12:00:00Z",
			utcs("2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z")},
		{"FallBackFiresWildcardMinuteInBothHours", "*/30 2 * * *", "Europe/Prague", "2026-10-24T12:00:00Z",
			utcs("2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z", "2026-10-26T01:00:00Z")},
		{"FallBackFiresHourlyMinuteInBothHours", "30 * * * *", "Europe/Prague", "2026-10-25T00:00:00Z",
			utcs("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z")},
		{"FallBackTimeOutsideRepeatedHourFiresOnce", "30 3 * * *", "Europe/Prague", "2026-10-24T12:00:00Z",
			utcs("2026-10-25T02:30:00Z", "2026-10-26T02:30:00Z")},
		{"HourlyFiresEveryRealHourInSpringForward", "@hourly", "Europe/Prague", "2026-03-28T23:30:00Z",
			utcs("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z")},
		{"HourlyFiresEveryRealHourInFallBack", "@hourly", "Europe/Prague", "2026-10-24T23:30:00Z",
			utcs("2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z")},
		{"NewYorkSpringForwardSkipsMissingTime", "30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z",
			utcs("2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z")},
		{"NewYorkFallBackFiresFixedTimeOnce", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z",
			utcs("2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z")},
		{"NewYorkWeekdaysKeepWallClockAcrossChange", "0 9 * * mon-fri", "America/New_York", "2026-03-06T00:00:00Z",
			utcs("2026-03-06T14:00:00Z", "2026-03-09T13:00:00Z")},
		{"LordHoweHalfHourFallBackKeepsDailyTime", "0 3 * * *", "Australia/Lord_Howe", "2026-04-03T12:00:00Z",
			utcs("2026-04-03T16:00:00Z", "2026-04-04T16:30:00Z", "2026-04-05T16:30:00Z")},
		{"LordHoweHalfHourFallBackHourlyFollowsWallClock", "@hourly", "Australia/Lord_Howe", "2026-04-04T13:30:00Z",
			utcs("2026-04-04T14:00:00Z", "2026-04-04T15:30:00Z", "2026-04-04T16:30:00Z")},
		{"BeirutMidnightSpringForwardKeepsSunday", "0 23 * * sun", "Asia/Beirut", "2020-03-25T00:00:00Z",
			utcs("2020-03-29T20:00:00Z", "2020-04-05T20:00:00Z")},
		{"BeirutMidnightSpringForwardSkipsMidnight", "0 0 * * *", "Asia/Beirut", "2026-03-27T12:00:00Z",
			utcs("2026-03-27T22:00:00Z", "2026-03-29T21:00:00Z")},
		{"SixFieldsEveryTenSeconds", "*/10 * * * * *", "", "2026-05-01T12:00:05.5Z",
			utcs("2026-05-01T12:00:10Z", "2026-05-01T12:00:20Z", "2026-05-01T12:00:30Z")},
		{"SixFieldsSecondsInZone", "15 30 2 * * *", "Europe/Prague", "2026-03-28T12:00:00Z",
			utcs("2026-03-30T00:30:15Z")},
		{"StrictlyAfterAFireTime", "0 2 * * *", "", "2026-05-01T02:00:00Z",
			utcs("2026-05-02T02:00:00Z")},
		{"JustBeforeAFireTime", "0 2 * * *", "", "2026-05-01T01:59:59.999Z",
			utcs("2026-05-01T02:00:00Z")},
		{"HalfHourZone", "@daily", "Asia/Kolkata", "2026-01-01T00:00:00Z",
			utcs("2026-01-01T18:30:00Z", "2026-01-02T18:30:00Z")},
		{"WeeklyOnSundayMidnight", "@weekly", "", "2026-05-01T00:00:00Z",
			utcs("2026-05-03T00:00:00Z", "2026-05-10T00:00:00Z")},
		{"MonthlyOnTheFirst", "@monthly", "Europe/Prague", "2026-05-15T00:00:00Z",
			utcs("2026-05-31T22:00:00Z", "2026-06-30T22:00:00Z")},
		{"YearlyOnNewYear", "@yearly", "America/New_York", "2026-05-15T00:00:00Z",
			utcs("2027-01-01T05:00:00Z", "2028-01-01T05:00:00Z")},
		{"LeapDayOnlyInLeapYears", "0 0 29 2 *", "", "2026-01-01T00:00:00Z",
			utcs("2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z")},
		{"EveryDropsFractionOfSecond", "@every 90s", "Europe/Prague", "2026-05-01T12:00:00.7Z",
			utcs("2026-05-01T12:01:30Z", "2026-05-01T12:03:00Z", "2026-05-01T12:04:30Z")},
		{"EveryIgnoresSpringForward", "@every 1h", "Europe/Prague", "2026-03-29T00:30:00Z",
			utcs("2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustParse(t, tc.spec, tc.tz)
			at := utc(tc.from)
			for i, want := range tc.want {
				got := s.Next(at)
				if !got.Equal(want) || got.Location() != time.UTC {
					t.Fatalf("fire %d after %s: got %s, want %s", i+1, at, got, want)
				}
				at = got
			}
		})
	}
}

func TestNextInputZoneDoesNotMatter(t *testing.T) {
	s := MustParse(t, "30 2 * * *", "Europe/Prague")
	at := utc("2026-10-24T12:00:00Z")
	ny, _ := time.LoadLocation("America/New_York")
	if a, b := s.Next(at), s.Next(at.In(ny)); !a.Equal(b) {
		t.Fatalf("Next from UTC = %s, from New York = %s", a, b)
	}
}

func TestBetween(t *testing.T) {
	tests := []struct {
		name, spec, tz string
		after, until   string
		max            int
		want           []time.Time
		total          int
	}{
		{"AcrossADayInZone", "0 */6 * * *", "Europe/Prague", "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", 10,
			utcs("2026-06-01T04:00:00Z", "2026-06-01T10:00:00Z", "2026-06-01T16:00:00Z", "2026-06-01T22:00:00Z"), 4},
		{"AtMostMaxButCountsAll", "0 */6 * * *", "Europe/Prague", "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", 2,
			utcs("2026-06-01T04:00:00Z", "2026-06-01T10:00:00Z"), 4},
		{"AfterExcludedUntilIncluded", "0 2 * * *", "", "2026-06-01T02:00:00Z", "2026-06-02T02:00:00Z", 10,
			utcs("2026-06-02T02:00:00Z"), 1},
		{"EmptyInterval", "0 2 * * *", "", "2026-06-01T03:00:00Z", "2026-06-01T03:00:00Z", 10, nil, 0},
		{"BackwardInterval", "0 2 * * *", "", "2026-06-02T03:00:00Z", "2026-06-01T03:00:00Z", 10, nil, 0},
		{"NoneInInterval", "0 2 * * *", "", "2026-06-01T03:00:00Z", "2026-06-02T01:59:59Z", 10, nil, 0},
		{"MaxZeroOnlyCounts", "*/10 * * * *", "", "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", 0, nil, 144},
		{"FallBackDayHoldsFixedTimeOnce", "30 2 * * *", "Europe/Prague", "2026-10-24T12:00:00Z", "2026-10-26T00:00:00Z", 10,
			utcs("2026-10-25T00:30:00Z"), 1},
		{"SpringForwardDayHoldsNone", "30 2 * * *", "Europe/Prague", "2026-03-28T12:00:00Z", "2026-03-30T00:00:00Z", 10, nil, 0},
		{"PerSecondOverADay", "* * * * * *", "Europe/Prague", "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", 3,
			utcs("2026-06-01T00:00:01Z", "2026-06-01T00:00:02Z", "2026-06-01T00:00:03Z"), 86400},
		{"PerSecondOverFallBackDay", "* * * * * *", "Europe/Prague", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 1,
			utcs("2026-10-24T22:00:01Z"), 25 * 3600},
		{"PerSecondOverAMonthStopsAtLimit", "* * * * * *", "", "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z", 2,
			utcs("2026-06-01T00:00:01Z", "2026-06-01T00:00:02Z"), schedule.CountLimit},
		{"EveryContinuesFromAfter", "@every 90s", "", "2026-06-01T12:00:00Z", "2026-06-01T12:06:00Z", 10,
			utcs("2026-06-01T12:01:30Z", "2026-06-01T12:03:00Z", "2026-06-01T12:04:30Z", "2026-06-01T12:06:00Z"), 4},
		{"EveryCountsPastMax", "@every 90s", "", "2026-06-01T12:00:00.25Z", "2026-06-01T13:00:00Z", 1,
			utcs("2026-06-01T12:01:30Z"), 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustParse(t, tc.spec, tc.tz)
			got, total := s.Between(utc(tc.after), utc(tc.until), tc.max)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("times:\n got %v\nwant %v", got, tc.want)
			}
			if total != tc.total {
				t.Errorf("total = %d, want %d", total, tc.total)
			}
		})
	}
}

func TestLatest(t *testing.T) {
	tests := []struct {
		name, spec, tz string
		after, until   string
		want           string // "" when there is none
		count          int
	}{
		{"DailyOverAMonth", "0 2 * * *", "Europe/Prague", "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-07-01T00:00:00Z", 30},
		{"UntilIsAFireTime", "0 2 * * *", "", "2026-06-01T00:00:00Z", "2026-06-03T02:00:00Z", "2026-06-03T02:00:00Z", 3},
		{"AfterIsAFireTime", "0 2 * * *", "", "2026-06-01T02:00:00Z", "2026-06-01T12:00:00Z", "", 0},
		{"NoneInInterval", "0 2 * * *", "", "2026-06-01T03:00:00Z", "2026-06-02T01:00:00Z", "", 0},
		{"EmptyInterval", "0 2 * * *", "", "2026-06-01T03:00:00Z", "2026-06-01T03:00:00Z", "", 0},
		{"FallBackLatestIsFirstPass", "30 2 * * *", "Europe/Prague", "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z", "2026-10-25T00:30:00Z", 1},
		{"SpringForwardLatestIsDayBefore", "30 2 * * *", "Europe/Prague", "2026-03-27T12:00:00Z", "2026-03-29T12:00:00Z", "2026-03-28T01:30:00Z", 1},
		{"PerSecondOverAMonth", "* * * * * *", "Europe/Prague", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00.5Z", "2026-04-01T00:00:00Z", schedule.CountLimit},
		{"PerSecondOverAnHour", "* * * * * *", "Europe/Prague", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T01:30:00Z", 3600},
		{"SparseOverYears", "0 0 29 2 *", "", "2025-01-01T00:00:00Z", "2035-01-01T00:00:00Z", "2032-02-29T00:00:00Z", 2},
		{"FromTheBeginningOfTime", "@yearly", "", "0001-01-01T00:00:00Z", "2026-06-01T00:00:00Z", "2026-01-01T00:00:00Z", 2025},
		{"EveryContinuesFromAfter", "@every 90s", "", "2026-06-01T12:00:00Z", "2026-06-01T12:10:00Z", "2026-06-01T12:09:00Z", 6},
		{"EveryNoneYet", "@every 90s", "", "2026-06-01T12:00:00Z", "2026-06-01T12:01:29Z", "", 0},
		{"EveryOverAYear", "@every 1s", "", "2026-01-01T00:00:00.9Z", "2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z", schedule.CountLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustParse(t, tc.spec, tc.tz)
			got, count, ok := s.Latest(utc(tc.after), utc(tc.until))
			if tc.want == "" {
				if ok || count != 0 || !got.IsZero() {
					t.Fatalf("Latest = %s, %d, %t; want none", got, count, ok)
				}
				return
			}
			if !ok || !got.Equal(utc(tc.want)) || got.Location() != time.UTC {
				t.Errorf("latest = %s (ok %t), want %s", got, ok, tc.want)
			}
			if count != tc.count {
				t.Errorf("count = %d, want %d", count, tc.count)
			}
		})
	}
}

// TestAgreesWithStepping checks the counting shortcuts of Between and Latest
// against stepping through Next, over intervals around changes of offset.
func TestAgreesWithStepping(t *testing.T) {
	specs := []string{
		"* * * * * *", "*/7 * * * * *", "0 * * * * *", "*/5 * * * *", "30 2 * * *", "0 2 * * *",
		"0 0 * * *", "15 1-3 * * *", "0 */2 * * *", "0 23 * * sun", "0 0 1,15 * mon", "7 3 * 3,10 *",
		"@hourly", "@daily", "@weekly", "@every 90s", "@every 7m",
	}
	zones := []string{"UTC", "Europe/Prague", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe",
		"America/Santiago", "America/Havana", "Asia/Beirut", "America/Sao_Paulo"}
	// Days around the changes of offset in these zones: 2026, and 2018–2019
	// for São Paulo, which then moved its clocks at midnight.
	days := []string{"2026-03-07", "2026-03-28", "2026-04-04", "2026-09-05", "2026-10-03",
		"2026-10-24", "2026-10-31", "2026-11-07", "2018-11-03", "2019-02-15"}
	for i, zone := range zones {
		t.Run(strings.ReplaceAll(zone, "/", "_"), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(i), 2))
			for _, spec := range specs {
				s := MustParse(t, spec, zone)
				for _, day := range days {
					after := utc(day + "T00:00:00Z").Add(time.Duration(rng.Int64N(int64(36 * time.Hour))))
					span := 72 * time.Hour
					if strings.Count(spec, " ") == 5 {
						span = 3 * time.Hour // seconds: stepping through them is slow
					}
					until := after.Add(time.Duration(rng.Int64N(int64(span))))
					checkAgainstStepping(t, s, after, until)
				}
			}
		})
	}
}

func checkAgainstStepping(t *testing.T, s *schedule.Schedule, after, until time.Time) {
	t.Helper()
	stepped := step(t, s, after, until)
	if _, total := s.Between(after, until, 0); total != len(stepped) {
		t.Errorf("%s, (%s, %s]: Between total %d, stepping finds %d", s, after, until, total, len(stepped))
	}
	latest, count, ok := s.Latest(after, until)
	if len(stepped) == 0 {
		if ok {
			t.Errorf("%s, (%s, %s]: Latest = %s, stepping finds none", s, after, until, latest)
		}
		return
	}
	if last := stepped[len(stepped)-1]; !ok || !latest.Equal(last) || count != len(stepped) {
		t.Errorf("%s, (%s, %s]: Latest = %s, %d, %t; stepping finds %s, %d",
			s, after, until, latest, count, ok, last, len(stepped))
	}
}

// TestAgreesWithRobfig checks that evaluating a stretch of constant offset at
// a time gives what robfig's own Next gives in the named zone, in zones where
// robfig's arithmetic across a change of offset holds.
func TestAgreesWithRobfig(t *testing.T) {
	parser := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
		cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	specs := []string{"*/20 * * * * *", "*/5 * * * *", "30 2 * * *", "0 2 * * *", "0 0 * * *",
		"15 1-3 * * *", "0 23 * * sun", "@hourly", "@daily", "@weekly"}
	starts := map[string][]string{
		"Europe/Prague":    {"2026-03-28T12:00:00Z", "2026-10-24T12:00:00Z"},
		"America/New_York": {"2026-03-07T12:00:00Z", "2026-10-31T12:00:00Z"},
		"Asia/Kathmandu":   {"2026-03-28T12:00:00Z"},
	}
	for zone, froms := range starts {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range specs {
			ours := MustParse(t, spec, zone)
			theirs, err := parser.Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, from := range froms {
				a, b := utc(from), utc(from).In(loc)
				for end := a.Add(72 * time.Hour); a.Before(end); {
					a, b = ours.Next(a), theirs.Next(b)
					if !a.Equal(b) && repeatsWallClock(b) {
						// The fall-back rule: a fixed-time schedule does
						// not fire again when the clocks go back.
						b = theirs.Next(b)
					}
					if !a.Equal(b) {
						t.Fatalf("%s after %s: Next = %s, robfig = %s", ours, from, a, b)
					}
				}
			}
		}
	}
}

// step lists the fire times in (after, until] by calling Next.
func step(t *testing.T, s *schedule.Schedule, after, until time.Time) []time.Time {
	t.Helper()
	var times []time.Time
	for n := s.Next(after); !n.IsZero() && !n.After(until); n = s.Next(n) {
		if len(times) > 0 && !n.After(times[len(times)-1]) {
			t.Fatalf("%s: Next went back from %s to %s", s, times[len(times)-1], n)
		}
		times = append(times, n)
	}
	return times
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"0 2 * * *", "*/10 * * * * *", "@every 90s", "@hourly", "TZ=UTC",
		"1-5/2 3,4 ? jan sun", "@every 1h30m", "0 0 31 2 *"} {
		f.Add(seed, "Europe/Prague")
	}
	f.Fuzz(func(t *testing.T, spec, tz string) {
		s, err := schedule.Parse(spec, tz)
		if err != nil {
			if statesrv.ErrorCode(err) != statesrv.EInvalid {
				t.Fatalf("Parse(%q, %q): error %v is not EInvalid", spec, tz, err)
			}
			return
		}
		at := time.Date(2026, 10, 24, 23, 59, 59, 0, time.UTC)
		n := s.Next(at)
		if n.IsZero() || !n.After(at) {
			t.Fatalf("%s: Next(%s) = %s", s, at, n)
		}
	})
}

func BenchmarkNext(b *testing.B) {
	for _, bc := range []struct{ spec, tz string }{
		{"* * * * * *", "UTC"},
		{"0 2 * * *", "Europe/Prague"},
		{"0 9 * * mon-fri", "America/New_York"},
		{"@every 90s", "UTC"},
	} {
		b.Run(bc.spec, func(b *testing.B) {
			s := MustParse(b, bc.spec, bc.tz)
			t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			for b.Loop() {
				t = s.Next(t)
			}
		})
	}
}

func BenchmarkLatest(b *testing.B) {
	s := MustParse(b, "* * * * * *", "Europe/Prague")
	after := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		s.Latest(after, until)
	}
}

// repeatsWallClock reports whether the wall clock showed t's time an hour
// (or the size of the change) earlier, before the clocks went back.
func repeatsWallClock(t time.Time) bool {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, after := t.Zone()
	_, before := start.Add(-time.Second).In(t.Location()).Zone()
	back := time.Duration(before-after) * time.Second
	return back > 0 && t.Sub(start) < back
}
