// Package schedule evaluates job schedules: at which instants a process's
// scheduled runs are due. It is pure: it keeps no clock and starts nothing; the
// scheduler asks it about instants it chooses, and every instant it returns is
// in UTC.
//
// A schedule is a 5-field cron spec ("0 2 * * *"), a 6-field one whose first
// field is seconds ("*/10 * * * * *"), a descriptor (@yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly) or "@every <duration>".
// Specs are read by github.com/robfig/cron/v3 and evaluated in the process's
// IANA time zone.
//
// # Daylight saving time
//
// A cron schedule fires at every whole second at which the zone's wall clock
// shows a time the spec matches. So when the wall clock jumps:
//
//   - Spring forward skips the times that do not exist. In Europe/Prague on
//     2026-03-29 clocks go from 02:00 to 03:00, and "30 2 * * *" does not fire
//     that day at all; it does not move to 03:00 or 03:30.
//   - Fall back fires a fixed-time schedule once, at the first of the two
//     times the wall clock shows it, as the system cron does. In
//     Europe/Prague on 2026-10-25 02:00–03:00 happens twice, and "30 2 * * *"
//     fires at 02:30 CEST (00:30 UTC) only. A schedule with '*' in its minute
//     or hour ("*/10 2 * * *", "30 * * * *") fires in both hours: they are
//     real time that passes.
//   - Schedules that fire every hour or more often keep firing on every real
//     hour: @hourly fires at 01:00 CET and 03:00 CEST on the spring-forward day,
//     and at 02:00 CEST and 02:00 CET on the fall-back day.
//
// Apart from the fall-back rule, this is what robfig's own Next does in the
// named zone, and the tests check that they agree, with one more difference: robfig's arithmetic across a change of
// offset can skip fire times where the change is by half an hour
// (Australia/Lord_Howe: "0 3 * * *" would go from 2026-04-04 to 2026-04-06) or
// at midnight (Asia/Beirut: "0 23 * * sun" would skip 2020-03-29). So this
// package asks robfig about one stretch of constant offset at a time, in a
// fixed zone with that offset, and moves on to the next stretch when the
// answer lies beyond the change.
//
// # @every
//
// An "@every d" schedule has no phase of its own: it fires d after the instant
// it is asked about, with that instant's fraction of a second dropped. Next(t)
// is t+d, and the fire times Between and Latest report after a given instant
// are after+d, after+2d, and so on. The scheduler keeps such a schedule going
// by passing the previous fire time (or, for the first run, the time the
// process was defined or enabled).
//
// # Counting
//
// Between and Latest also say how many fire times an interval holds. They stop
// counting at CountLimit, so a count equal to CountLimit means "at least that
// many". Counting costs time in proportion to the days in the interval rather
// than the fire times in it: a per-second schedule over a month is counted in
// microseconds, except on days when the zone changes its offset, which are
// stepped through one fire time at a time. Callers pass a real lower bound,
// such as the previous fire time or when the process was defined, rather than
// the zero Time.
package schedule

import (
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/statesrv/statesrv"
)

// CountLimit is where Between and Latest stop counting fire times. A count
// equal to it means at least that many.
const CountLimit = 1_000_000

// parser reads every accepted form: an optional leading seconds field makes
// both 5 and 6 fields valid.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// fieldParser reads a spec with all six fields; it is used to find which field
// of a rejected spec is wrong.
var fieldParser = cron.NewParser(cron.Second | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow)

var fieldNames = [6]string{"second", "minute", "hour", "day of month", "month", "day of week"}

// Schedule is a parsed job schedule evaluated in one IANA time zone. It is
// immutable and safe for concurrent use.
type Schedule struct {
	text string
	loc  *time.Location

	// Exactly one of spec and every is set.
	spec  *cron.SpecSchedule
	every cron.ConstantDelaySchedule
	// day matches, at 00:00:00, the days on which spec fires.
	day *cron.SpecSchedule
	// fixedTime: the spec fires at fixed times of day, once on the night
	// the clocks go back.
	fixedTime bool
}

// Parse parses spec in the zone tz (IANA name; "" means UTC). Accepted: 5-field
// cron ("0 2 * * *"), 6-field cron with a leading seconds field
// ("*/10 * * * * *"), descriptors (@yearly @annually @monthly @weekly @daily
// @midnight @hourly) and "@every <duration>" with a duration of whole seconds,
// at least 1s. Runs of white space count as one space.
//
// Errors are *statesrv.Error with Code statesrv.EInvalid: for an empty spec
// (callers treat an empty schedule as push-only before calling), a spec that
// carries its own zone ("CRON_TZ=" or "TZ=": the zone is a separate field), a
// spec that does not parse or never fires, and an unknown zone.
//
// A Schedule is immutable and safe for concurrent use; schedules that
// parsed are cached by spec and zone, since pages evaluate the schedules of
// thousands of processes per view.
func Parse(spec, tz string) (*Schedule, error) {
	k := tz + "\x00" + spec
	parsedMu.Lock()
	s, ok := parsed[k]
	parsedMu.Unlock()
	if ok {
		return s, nil
	}
	s, err := parse(spec, tz)
	if err != nil {
		return nil, err
	}
	parsedMu.Lock()
	if len(parsed) >= maxParsed {
		clear(parsed)
	}
	parsed[k] = s
	parsedMu.Unlock()
	return s, nil
}

// parsed caches the schedules that parsed, by zone and spec; it is cleared
// when it reaches maxParsed entries, which bounds it whatever the
// definitions.
var (
	parsedMu sync.Mutex
	parsed   = map[string]*Schedule{}
)

const maxParsed = 100_000

func parse(spec, tz string) (*Schedule, error) {
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	text := strings.Join(strings.Fields(spec), " ")
	upper := strings.ToUpper(text)
	switch {
	case text == "":
		return nil, statesrv.Errorf(statesrv.EInvalid, "schedule is empty")
	case strings.HasPrefix(upper, "TZ="), strings.HasPrefix(upper, "CRON_TZ="):
		return nil, invalid(text, "give the time zone in its own field, not in the schedule")
	case text == "@every" || strings.HasPrefix(text, "@every "):
		return parseEvery(text, loc)
	case strings.HasPrefix(text, "@"):
		return parseDescriptor(text, loc)
	}
	return parseCron(text, loc)
}

// Validate checks spec and tz without keeping the result. It returns the
// errors Parse returns.
func Validate(spec, tz string) error {
	_, err := Parse(spec, tz)
	return err
}

// loadZone returns the location named tz, UTC for "".
func loadZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	// "Local" is the server's own zone, not an IANA name: a schedule would
	// change meaning with the machine it runs on.
	if tz == "Local" {
		return nil, statesrv.Errorf(statesrv.EInvalid, "unknown time zone %q", tz)
	}
	if loc, ok := zones.Load(tz); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, statesrv.Errorf(statesrv.EInvalid, "unknown time zone %q", tz)
	}
	zones.Store(tz, loc)
	return loc, nil
}

// zones caches the locations loaded, by name: loading one reads the zone
// database, and pages parse the schedules of thousands of processes. Only
// names that loaded are kept, so it holds at most the database's few
// hundred zones.
var zones sync.Map

func invalid(spec, format string, args ...any) error {
	return statesrv.Errorf(statesrv.EInvalid, "bad schedule %q: %s", spec, fmt.Sprintf(format, args...))
}

func parseEvery(text string, loc *time.Location) (*Schedule, error) {
	arg := strings.TrimSpace(strings.TrimPrefix(text, "@every"))
	if arg == "" {
		return nil, invalid(text, "@every needs a duration such as 90s")
	}
	d, err := time.ParseDuration(arg)
	if err != nil {
		return nil, invalid(text, "bad duration %q", arg)
	}
	// robfig would round these silently; an operator should see the
	// schedule they wrote.
	if d < time.Second {
		return nil, invalid(text, "duration must be at least 1s")
	}
	if d%time.Second != 0 {
		return nil, invalid(text, "duration must be whole seconds")
	}
	sched, err := parser.Parse(text)
	if err != nil {
		return nil, invalid(text, "%v", err)
	}
	every, ok := sched.(cron.ConstantDelaySchedule)
	if !ok {
		return nil, fmt.Errorf("schedule: parse %q: unexpected %T", text, sched)
	}
	return &Schedule{text: text, loc: loc, every: every}, nil
}

func parseDescriptor(text string, loc *time.Location) (*Schedule, error) {
	sched, err := parser.Parse(text)
	if err != nil {
		return nil, invalid(text, "unknown descriptor (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)")
	}
	return newCron(text, sched, loc)
}

func parseCron(text string, loc *time.Location) (*Schedule, error) {
	fields := strings.Fields(text)
	if len(fields) != 5 && len(fields) != 6 {
		return nil, invalid(text, "expected 5 or 6 fields")
	}
	sched, err := parser.Parse(text)
	if err != nil {
		return nil, invalid(text, "%s", fieldProblem(fields, err))
	}
	s, err := newCron(text, sched, loc)
	if err != nil {
		return nil, err
	}
	// robfig gives up after five years without a fire time; from the start of
	// a leap year that still finds the rarest real schedule (29 February).
	probe := time.Date(2024, time.January, 1, 0, 0, 0, 0, loc)
	if s.Next(probe).IsZero() {
		return nil, invalid(text, "never fires")
	}
	return s, nil
}

func newCron(text string, sched cron.Schedule, loc *time.Location) (*Schedule, error) {
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("schedule: parse %q: unexpected %T", text, sched)
	}
	spec.Location = loc
	day := &cron.SpecSchedule{Second: 1, Minute: 1, Hour: 1,
		Dom: spec.Dom, Month: spec.Month, Dow: spec.Dow, Location: loc}
	return &Schedule{text: text, loc: loc, spec: spec, day: day, fixedTime: fixedTime(text)}, nil
}

// fixedTime reports whether a cron spec names a fixed time of day: neither
// its minute nor its hour field starts with '*' (as the system cron decides
// which jobs to run once when the clocks go back). Of the descriptors, only
// @hourly is not fixed.
func fixedTime(text string) bool {
	if strings.HasPrefix(text, "@") {
		return text != "@hourly"
	}
	f := strings.Fields(text)
	if len(f) == 6 {
		f = f[1:]
	}
	return len(f) >= 2 && !strings.HasPrefix(f[0], "*") && !strings.HasPrefix(f[1], "*")
}

// fieldProblem names the first field of a rejected spec that robfig refuses
// on its own, with robfig's reason; err is the reason for the whole spec.
func fieldProblem(fields []string, err error) string {
	names := fieldNames[6-len(fields):]
	for i, f := range fields {
		probe := []string{"*", "*", "*", "*", "*", "*"}
		probe[i+6-len(fields)] = f
		if _, ferr := fieldParser.Parse(strings.Join(probe, " ")); ferr != nil {
			return fmt.Sprintf("%s field %q: %s", names[i], f, tidy(ferr))
		}
	}
	return err.Error()
}

// tidy shortens a robfig field error: it drops the trailing copy of the
// expression and the strconv detail.
func tidy(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "failed to parse int from "); ok {
		value, _, _ := strings.Cut(rest, ": ")
		return fmt.Sprintf("%q is not a number", value)
	}
	if i := strings.LastIndex(msg, ": "); i > 0 {
		msg = msg[:i]
	}
	return msg
}

// String returns the spec and zone, as in "0 2 * * * (Europe/Prague)".
func (s *Schedule) String() string {
	return fmt.Sprintf("%s (%s)", s.text, s.loc)
}

// Location returns the zone the schedule is evaluated in.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first fire time strictly after t, in UTC, or the zero Time
// if there is none (robfig looks five years ahead). For "@every d" that is t+d
// with t's fraction of a second dropped.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.spec == nil {
		return s.every.Next(t).UTC()
	}
	return s.nextCron(t).UTC()
}

// maxStretches bounds the stretches of constant offset Next looks through:
// enough for a 29 February schedule in a zone that changes four times a year.
const maxStretches = 64

// nextCron returns the first cron fire time after t. It asks robfig one
// stretch of constant offset at a time, in a fixed zone with that offset (see
// the package comment).
func (s *Schedule) nextCron(t time.Time) time.Time {
	at := t // the instant whose offset applies
	for range maxStretches {
		local := at.In(s.loc)
		_, offset := local.Zone()
		_, end := local.ZoneBounds()
		fixed := *s.spec
		fixed.Location = time.FixedZone("", offset)
		n := fixed.Next(t)
		if !n.IsZero() && s.repeated(n) {
			// The wall clock already showed this time before the clocks
			// went back: a fixed-time job runs once (see the package
			// comment). Look on from here, in the same stretch.
			t, at = n, n
			continue
		}
		if n.IsZero() || end.IsZero() || n.Before(end) {
			return n
		}
		// Nothing before the change: look on from its first second.
		t, at = end.Add(-time.Nanosecond), end
	}
	return time.Time{}
}

// repeated reports whether n is the second time the zone's wall clock shows
// n's time, after the clocks went back, for a schedule of fixed times of
// day (see fixedTime): such a job runs once, at the first of the two, as the
// system cron does. A schedule with '*' in its minute or hour (every ten
// minutes, @hourly) fires in both hours: they are real hours.
func (s *Schedule) repeated(n time.Time) bool {
	if !s.fixedTime {
		return false
	}
	local := n.In(s.loc)
	start, _ := local.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, after := local.Zone()
	_, before := start.Add(-time.Second).In(s.loc).Zone()
	back := time.Duration(before-after) * time.Second
	return back > 0 && n.Sub(start) < back
}

// Between returns the fire times in (after, until], in UTC: the earliest max
// of them, and how many there are in all, counted up to CountLimit. For
// "@every d" the fire times are after+d, after+2d, ... (see the package
// comment).
func (s *Schedule) Between(after, until time.Time, max int) (times []time.Time, total int) {
	if !until.After(after) {
		return nil, 0
	}
	max = min(max, CountLimit)
	t := after
	for len(times) < max {
		n := s.Next(t)
		if n.IsZero() || n.After(until) || !n.After(t) {
			return times, len(times)
		}
		times = append(times, n)
		t = n
	}
	return times, len(times) + s.count(t, until, CountLimit-len(times))
}

// Latest returns the last fire time in (after, until], in UTC, and how many
// fire times that interval holds, counted up to CountLimit; ok is false when
// it holds none. For "@every d" the fire times are after+d, after+2d, ...
//
// It does not step through the fire times: it narrows a window back from
// until, so finding the last one costs a few dozen calls of Next, and
// counting costs time in proportion to the days (see the package comment).
func (s *Schedule) Latest(after, until time.Time) (latest time.Time, count int, ok bool) {
	if !until.After(after) {
		return time.Time{}, 0, false
	}
	if s.spec == nil {
		return s.latestEvery(after, until)
	}
	latest, ok = s.latestCron(after, until)
	if !ok {
		return time.Time{}, 0, false
	}
	return latest, max(1, s.count(after, until, CountLimit)), true
}

// Previous returns the last fire time before t, if it lies within the
// given span back from t (in UTC); ok is false when none does. For "@every
// d" that is t-d: its fire times count from the last one.
func (s *Schedule) Previous(t time.Time, within time.Duration) (time.Time, bool) {
	if s.spec == nil {
		if s.every.Delay > within {
			return time.Time{}, false
		}
		return t.Add(-s.every.Delay).UTC(), true
	}
	// Cron fire times are whole seconds: the one before t is at most t-1s.
	until := t.Add(-time.Nanosecond)
	prev, ok := s.latestCron(t.Add(-within).Add(-time.Nanosecond), until)
	if !ok {
		return time.Time{}, false
	}
	return prev.UTC(), true
}

// latestEvery computes the last of after+d, after+2d, ... up to until.
func (s *Schedule) latestEvery(after, until time.Time) (time.Time, int, bool) {
	base := after.Add(-time.Duration(after.Nanosecond()))
	k := int64(until.Sub(base) / s.every.Delay)
	if k < 1 {
		return time.Time{}, 0, false
	}
	latest := base.Add(time.Duration(k) * s.every.Delay)
	return latest.UTC(), int(min(k, CountLimit)), true
}

// latestCron finds the last cron fire time in (after, until]. Cron fire times
// are whole seconds and Next(x) <= until exactly when x is before that last
// fire time, so it widens a window back from until until the window holds a
// fire time and then halves it down to one second.
func (s *Schedule) latestCron(after, until time.Time) (time.Time, bool) {
	fires := func(x time.Time) bool {
		n := s.Next(x)
		return !n.IsZero() && !n.After(until)
	}
	span := until.Sub(after) // saturates for intervals over 292 years
	hi, lo := until, time.Time{}
	for w := time.Second; ; {
		if w >= span {
			lo = after
		} else {
			lo = until.Add(-w)
		}
		if fires(lo) {
			break
		}
		if lo.Equal(after) {
			return time.Time{}, false
		}
		hi = lo
		if w > span/2 {
			w = span
		} else {
			w *= 2
		}
	}
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if fires(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return s.Next(lo), true
}

// count returns how many fire times (after, until] holds, at most limit.
func (s *Schedule) count(after, until time.Time, limit int) int {
	if !until.After(after) || limit <= 0 {
		return 0
	}
	if s.spec == nil {
		base := after.Add(-time.Duration(after.Nanosecond()))
		return int(min(int64(until.Sub(base)/s.every.Delay), int64(limit)))
	}
	return s.countCron(after.In(s.loc), until.In(s.loc), limit)
}

// countCron counts cron fire times in (after, until], at most limit, a day of
// the zone at a time. A plain day (see dayOf) is counted from the schedule's
// bit sets, and a run of plain days it does not fire on is skipped at once;
// any other day is stepped through with Next, so that it counts exactly the
// fire times the scheduler will see.
func (s *Schedule) countCron(after, until time.Time, limit int) int {
	n := 0
	// Fire times are whole seconds: the first one after "after" is at lo or later.
	lo := after.Truncate(time.Second).Add(time.Second)
	for !lo.After(until) && n < limit {
		start, end, plain := s.dayOf(lo)
		if !plain {
			stop := until
			if !until.Before(end) {
				stop = end.Add(-time.Nanosecond)
			}
			n += s.step(lo.Add(-time.Second), stop, limit-n)
			lo = end
			continue
		}
		if !s.day.Next(start.Add(-time.Second)).Equal(start) {
			lo = s.nextFiringDay(start, end)
			continue
		}
		upTo := secondsPerDay
		if until.Before(end) {
			upTo = int(until.Sub(start)/time.Second) + 1
		}
		n += s.firesBefore(upTo) - s.firesBefore(int(lo.Sub(start)/time.Second))
		lo = end
	}
	return min(n, limit)
}

const secondsPerDay = 24 * 60 * 60

// dayOf returns the day of the zone that holds t, as [start, end), and whether
// it is plain: it begins at 00:00:00, lasts 24 hours and keeps one offset, so
// that its wall clock runs evenly from start.
func (s *Schedule) dayOf(t time.Time) (start, end time.Time, plain bool) {
	y, m, d := t.Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, s.loc)
	end = time.Date(y, m, d+1, 0, 0, 0, 0, s.loc)
	if !end.After(t) {
		// Midnight may not exist in zones that change offset at midnight;
		// any later cut will do for a day that is stepped through.
		return start, t.Add(time.Hour), false
	}
	_, zoneEnd := start.ZoneBounds()
	plain = start.Hour() == 0 && start.Minute() == 0 && start.Second() == 0 &&
		!start.After(t) && end.Sub(start) == secondsPerDay*time.Second &&
		(zoneEnd.IsZero() || !zoneEnd.Before(end))
	return start, end, plain
}

// nextFiringDay returns the start of the next day the schedule fires on after
// the plain day [start, end), or end if a change of offset comes first: the
// days up to a change of offset are plain too, and the schedule does not fire
// on any of them.
func (s *Schedule) nextFiringDay(start, end time.Time) time.Time {
	next := s.day.Next(start)
	_, zoneEnd := start.ZoneBounds()
	if next.IsZero() || !next.After(end) || (!zoneEnd.IsZero() && !next.Before(zoneEnd)) {
		return end
	}
	return next
}

// firesBefore counts the fire times of a day the schedule fires on that come
// before second k of the day (0 <= k <= secondsPerDay), counting seconds from
// 00:00:00 as a plain day's wall clock does.
func (s *Schedule) firesBefore(k int) int {
	const sixty = 1<<60 - 1 // robfig keeps a flag in bit 63
	hours, mins, secs := s.spec.Hour&(1<<24-1), s.spec.Minute&sixty, s.spec.Second&sixty
	if k >= secondsPerDay {
		return ones(hours) * ones(mins) * ones(secs)
	}
	h, m, x := k/3600, k/60%60, k%60
	n := ones(below(hours, h)) * ones(mins) * ones(secs)
	if has(hours, h) {
		n += ones(below(mins, m)) * ones(secs)
		if has(mins, m) {
			n += ones(below(secs, x))
		}
	}
	return n
}

func ones(b uint64) int            { return bits.OnesCount64(b) }
func below(b uint64, v int) uint64 { return b & (1<<v - 1) }
func has(b uint64, v int) bool     { return b&(1<<v) != 0 }

// step counts the fire times in (cur, stop] one by one, at most limit.
func (s *Schedule) step(cur, stop time.Time, limit int) int {
	n := 0
	for n < limit {
		next := s.nextCron(cur)
		if next.IsZero() || next.After(stop) || !next.After(cur) {
			break
		}
		n++
		cur = next
	}
	return n
}
