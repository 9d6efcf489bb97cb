package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv/textfmt"
)

// Describe says in words when spec fires, for the common shapes: every N
// minutes, hourly at :MM, every N hours, daily at HH:MM, on weekdays or on
// given days of the week at HH:MM, monthly on day N, the descriptors and
// "@every". Anything else is returned as the cron text itself (with runs of
// white space made single), so the result is always safe to show. Describe
// does not validate: pass a spec that Parse accepts.
func Describe(spec string) string {
	text := strings.Join(strings.Fields(spec), " ")
	if words, ok := describe(text); ok {
		return words
	}
	return text
}

func describe(text string) (string, bool) {
	switch strings.ToLower(text) {
	case "@hourly":
		return "every hour", true
	case "@daily", "@midnight":
		return "every day at 00:00", true
	case "@weekly":
		return "every Sunday at 00:00", true
	case "@monthly":
		return "on day 1 of every month at 00:00", true
	case "@yearly", "@annually":
		return "every year on 1 January at 00:00", true
	}
	if arg, ok := strings.CutPrefix(text, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(arg))
		if err != nil {
			return "", false
		}
		return "every " + textfmt.GoDuration(d), true
	}
	f := strings.Fields(text)
	if len(f) == 6 {
		if f[0] != "0" {
			return "", false
		}
		f = f[1:]
	}
	if len(f) != 5 {
		return "", false
	}
	minute, hour, dom, month, dow := f[0], f[1], f[2], f[3], f[4]
	if month != "*" || (dom != "*" && dom != "?" && dow != "*" && dow != "?") {
		return "", false
	}
	anyDay := (dom == "*" || dom == "?") && (dow == "*" || dow == "?")
	if anyDay {
		switch {
		case minute == "*" && hour == "*":
			return "every minute", true
		case strings.HasPrefix(minute, "*/") && hour == "*":
			if n, ok := number(minute[2:], 1, 59); ok {
				return plural(n, "minute"), true
			}
			return "", false
		case hour == "*":
			if m, ok := number(minute, 0, 59); ok {
				return fmt.Sprintf("every hour at :%02d", m), true
			}
			return "", false
		case strings.HasPrefix(hour, "*/"):
			n, ok1 := number(hour[2:], 1, 23)
			m, ok2 := number(minute, 0, 59)
			if ok1 && ok2 {
				return fmt.Sprintf("%s at :%02d", plural(n, "hour"), m), true
			}
			return "", false
		}
	}
	at, ok := timesOfDay(minute, hour)
	if !ok {
		return "", false
	}
	switch {
	case anyDay:
		return "every day at " + at, true
	case dom != "*" && dom != "?":
		d, ok := number(dom, 1, 31)
		if !ok {
			return "", false
		}
		return fmt.Sprintf("on day %d of every month at %s", d, at), true
	}
	days, ok := weekdays(dow)
	if !ok {
		return "", false
	}
	return "on " + days + " at " + at, true
}

// timesOfDay describes a fixed minute and one or more fixed hours:
// "02:30", "08:00 and 17:00".
func timesOfDay(minute, hour string) (string, bool) {
	m, ok := number(minute, 0, 59)
	if !ok {
		return "", false
	}
	var times []string
	for _, h := range strings.Split(hour, ",") {
		n, ok := number(h, 0, 23)
		if !ok {
			return "", false
		}
		times = append(times, fmt.Sprintf("%02d:%02d", n, m))
	}
	return join(times), true
}

var dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// weekdays describes a day-of-week field of numbers, names, ranges and
// lists: "weekdays", "weekends", "Monday and Thursday".
func weekdays(field string) (string, bool) {
	var set [7]bool
	for _, part := range strings.Split(field, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, ok := dayNumber(lo)
		if !ok {
			return "", false
		}
		b := a
		if isRange {
			if b, ok = dayNumber(hi); !ok || b < a {
				return "", false
			}
		}
		for d := a; d <= b; d++ {
			set[d%7] = true
		}
	}
	switch set {
	case [7]bool{false, true, true, true, true, true, false}:
		return "weekdays", true
	case [7]bool{true, false, false, false, false, false, true}:
		return "weekends", true
	}
	var names []string
	// Monday first, Sunday last, as people list a week.
	for i := 1; i <= 7; i++ {
		if set[i%7] {
			names = append(names, dayNames[i%7])
		}
	}
	if len(names) == 7 {
		return "every day", true
	}
	return join(names), true
}

// dayNumber reads a day of the week as cron does: 0–7 (0 and 7 are Sunday)
// or the first three letters of its English name.
func dayNumber(s string) (int, bool) {
	if n, ok := number(s, 0, 7); ok {
		return n, true
	}
	for i, name := range dayNames {
		if strings.EqualFold(s, name[:3]) {
			return i, true
		}
	}
	return 0, false
}

func number(s string, lo, hi int) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

func plural(n int, unit string) string {
	if n == 1 {
		return "every " + unit
	}
	return fmt.Sprintf("every %d %ss", n, unit)
}

func join(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
