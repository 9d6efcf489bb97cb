package schtasks

import (
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv/crontab"
)

func TestTriggerSpec(t *testing.T) {
	at := func(kind, start, body string) xmlTrigger {
		var x xmlTask
		raw := `<Task><Triggers><` + kind + `><StartBoundary>` + start + `</StartBoundary>` + body +
			`</` + kind + `></Triggers></Task>`
		tasks, err := readTasks([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		x = tasks[0].xmlTask
		return x.Triggers.List[0]
	}
	daily := "<ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>"
	rep := func(iv, d string) string {
		return "<Repetition><Interval>" + iv + "</Interval><Duration>" + d + "</Duration></Repetition>" + daily
	}
	for _, tc := range []struct {
		name    string
		tr      xmlTrigger
		spec    string
		problem string
	}{
		{"Daily", at("CalendarTrigger", "2020-01-01T07:15:00", daily), "15 7 * * *", ""},
		{"EveryOtherDay", at("CalendarTrigger", "2020-01-01T07:15:00", "<ScheduleByDay><DaysInterval>2</DaysInterval></ScheduleByDay>"),
			"", "every 2 days is not a cron schedule"},
		{"AllWeek", at("CalendarTrigger", "2020-01-01T07:15:00", "<ScheduleByWeek><DaysOfWeek><Sunday/><Monday/><Tuesday/>"+
			"<Wednesday/><Thursday/><Friday/><Saturday/></DaysOfWeek></ScheduleByWeek>"), "15 7 * * *", ""},
		{"EveryOtherWeek", at("CalendarTrigger", "2020-01-01T07:15:00", "<ScheduleByWeek><WeeksInterval>2</WeeksInterval>"+
			"<DaysOfWeek><Monday/></DaysOfWeek></ScheduleByWeek>"), "", "every 2 weeks"},
		{"LastDayOfMonth", at("CalendarTrigger", "2020-01-01T07:15:00", "<ScheduleByMonth><DaysOfMonth><Day>Last</Day></DaysOfMonth>"+
			"<Months><May/></Months></ScheduleByMonth>"), "", `day of month "Last" is not a cron day`},
		{"FirstMonday", at("CalendarTrigger", "2020-01-01T07:15:00", "<ScheduleByMonthDayOfWeek><Weeks><Week>1</Week></Weeks>"+
			"</ScheduleByMonthDayOfWeek>"), "", "a weekday of a week of the month"},
		{"Boot", at("BootTrigger", "2020-01-01T07:15:00", ""), "", "this kind of trigger is not a schedule"},
		{"Seconds", at("CalendarTrigger", "2020-01-01T07:15:30", daily), "", "starts at second 30"},
		{"BadStart", at("CalendarTrigger", "tomorrow", daily), "", `StartBoundary "tomorrow" is not a time`},
		{"HalfHourOffset", at("CalendarTrigger", "2020-01-01T07:15:00+05:30", daily), "", "not whole hours"},
		{"RepeatHourlyAllDay", at("CalendarTrigger", "2020-01-01T07:15:00", rep("PT1H", "P1D")), "15 * * * *", ""},
		{"RepeatTwoHoursNoEnd", at("CalendarTrigger", "2020-01-01T07:15:00", rep("PT2H", "")), "15 1-23/2 * * *", ""},
		{"RepeatFiveMinutes", at("CalendarTrigger", "2020-01-01T00:00:00", rep("PT5M", "P2D")), "*/5 * * * *", ""},
		{"RepeatSevenMinutes", at("CalendarTrigger", "2020-01-01T00:00:00", rep("PT7M", "P1D")), "",
			"repeats every 7m, which does not divide an hour or a day"},
		{"RepeatWeekly", at("CalendarTrigger", "2020-01-01T00:00:00", "<Repetition><Interval>PT5M</Interval></Repetition>"+
			"<ScheduleByWeek><DaysOfWeek><Monday/></DaysOfWeek></ScheduleByWeek>"), "", "only on a daily trigger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res crontab.Result
			spec, _, _, problem := triggerSpec(tc.tr, Options{}, &res)
			if spec != tc.spec || !strings.Contains(problem, tc.problem) || (tc.problem == "") != (problem == "") {
				t.Errorf("got %q, %q; want %q, %q", spec, problem, tc.spec, tc.problem)
			}
		})
	}
}

func TestISODuration(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"PT2H": 2 * time.Hour, "P1D": 24 * time.Hour, "PT1H30M": 90 * time.Minute, "PT45S": 45 * time.Second,
		"P1W": 7 * 24 * time.Hour, "P3DT12H": 84 * time.Hour, "PT0S": 0,
	} {
		if got, err := isoDuration(s); err != nil || got != want {
			t.Errorf("isoDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "P", "PT", "P1M", "P1Y", "2h", "PT1.5H", "P1DT", "P2147483647W", "P15251W"} {
		if _, err := isoDuration(s); err == nil {
			t.Errorf("isoDuration(%q): no error", s)
		}
	}
}
