// Package schtasks reads the XML of the Windows Task Scheduler ("schtasks
// /query /xml") and proposes a process definition for each task whose one
// trigger maps exactly to a cron schedule, as "statesrv import schtasks"
// does. A task it cannot map exactly is a warning, never a guess.
package schtasks

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/crontab"
	"github.com/statesrv/statesrv/textfmt"
)

// Options are the settings of Parse.
type Options struct {
	// Zone is the zone of times that name none ("" means UTC, noted).
	Zone string
	// MaxRuntime is the max_runtime of a task without a time limit.
	MaxRuntime time.Duration
	// Microsoft includes the tasks under \Microsoft\ (Windows' own).
	Microsoft bool
}

// xmlTask is the part of a Task Scheduler task definition (namespace
// http://schemas.microsoft.com/windows/2004/02/mit/task, as "schtasks
// /query /xml" writes it) that an import reads.
type xmlTask struct {
	RegistrationInfo struct {
		URI string
	}
	Triggers struct {
		List []xmlTrigger `xml:",any"`
	}
	Settings struct {
		Enabled            *bool
		ExecutionTimeLimit string
	}
	Actions struct {
		Exec []struct {
			Command   string
			Arguments string
		}
		Other []struct {
			XMLName xml.Name
		} `xml:",any"`
	}
}

// xmlTrigger is any trigger; XMLName says which kind.
type xmlTrigger struct {
	XMLName       xml.Name
	StartBoundary string
	EndBoundary   string
	Enabled       *bool
	RandomDelay   string
	Repetition    *struct {
		Interval string
		Duration string
	}
	ScheduleByDay *struct {
		DaysInterval int
	}
	ScheduleByWeek *struct {
		WeeksInterval int
		DaysOfWeek    struct {
			Days []struct {
				XMLName xml.Name
			} `xml:",any"`
		}
	}
	ScheduleByMonth *struct {
		DaysOfMonth struct {
			Day []string
		}
		Months struct {
			List []struct {
				XMLName xml.Name
			} `xml:",any"`
		}
	}
	ScheduleByMonthDayOfWeek *struct{}
}

// namedTask is a task and its path (from RegistrationInfo/URI or the
// comment schtasks writes before it).
type namedTask struct {
	path string
	xmlTask
}

// readTasks reads one <Task> or a <Tasks> wrapper of several, each
// preceded by a comment with its path. UTF-16 (as schtasks writes it) and
// UTF-8 are read.
func readTasks(raw []byte) ([]namedTask, error) {
	raw = toUTF8(raw)
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-16", "utf-16le", "utf-16be", "unicode", "utf-8", "us-ascii":
			return in, nil // already UTF-8
		}
		return nil, fmt.Errorf("encoding %q not supported: save the file as UTF-8 or UTF-16", label)
	}
	var tasks []namedTask
	comment := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read tasks: %w", err)
		}
		switch t := tok.(type) {
		case xml.Comment:
			comment = strings.TrimSpace(string(t))
		case xml.StartElement:
			if t.Name.Local != "Task" {
				continue
			}
			var x xmlTask
			if err := dec.DecodeElement(&x, &t); err != nil {
				return nil, fmt.Errorf("read tasks: %w", err)
			}
			path := strings.TrimSpace(x.RegistrationInfo.URI)
			if path == "" {
				path = comment
			}
			tasks = append(tasks, namedTask{path: path, xmlTask: x})
			comment = ""
		}
	}
	if len(tasks) == 0 {
		return nil, errors.New("read tasks: no <Task> element")
	}
	return tasks, nil
}

// toUTF8 decodes UTF-16 text (by its byte-order mark, or by the zero
// bytes of its first character) and drops a UTF-8 byte-order mark.
func toUTF8(raw []byte) []byte {
	var be bool
	switch {
	case bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}):
		return raw[3:]
	case bytes.HasPrefix(raw, []byte{0xFF, 0xFE}):
		raw = raw[2:]
	case bytes.HasPrefix(raw, []byte{0xFE, 0xFF}):
		raw, be = raw[2:], true
	case len(raw) >= 2 && raw[0] != 0 && raw[1] == 0:
	case len(raw) >= 2 && raw[0] == 0 && raw[1] != 0:
		be = true
	default:
		return raw
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		if be {
			u[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
		} else {
			u[i] = uint16(raw[2*i+1])<<8 | uint16(raw[2*i])
		}
	}
	return []byte(string(utf16.Decode(u)))
}

// Parse maps each task to a proposal: its one enabled trigger to a cron
// schedule, ExecutionTimeLimit to max_runtime (opt.MaxRuntime when it has
// none), Settings/Enabled to enabled, its Exec actions to the description,
// the last part of its path to the name ("task N", the Nth in raw, when
// that leaves no name). A task whose trigger cannot be mapped exactly, or that has no trigger or
// several, gets a warning instead. Tasks under \Microsoft\ are Windows' own
// and skipped unless opt.Microsoft is set. The error says why raw is not
// task XML.
func Parse(raw []byte, opt Options) (crontab.Result, error) {
	var res crontab.Result
	tasks, err := readTasks(raw)
	if err != nil {
		return res, err
	}
	windows := 0
	for i, t := range tasks {
		about := t.path
		if about == "" {
			about = fmt.Sprintf("task %d", i+1)
		}
		if !opt.Microsoft && strings.HasPrefix(strings.ToLower(t.path), `\microsoft\`) {
			windows++
			continue
		}
		p, ok := taskProposal(t, about, opt, &res)
		if !ok {
			continue
		}
		if p.Name == "" { // a path of only ';' and control characters
			p.Name = fmt.Sprintf("task %d", i+1)
		}
		res.Proposals = append(res.Proposals, p)
	}
	if windows > 0 {
		res.Warn(`tasks under \Microsoft\ (Windows' own) skipped: %d; --microsoft includes them`, windows)
	}
	return res, nil
}

// taskProposal maps one task, or warns why it cannot.
func taskProposal(t namedTask, about string, opt Options, res *crontab.Result) (crontab.Proposal, bool) {
	maxRuntime := opt.MaxRuntime
	p := crontab.Proposal{From: "task " + textfmt.OneLine(about)}
	var specs, problems []string
	var zone string
	for _, tr := range t.Triggers.List {
		kind := tr.XMLName.Local
		if tr.Enabled != nil && !*tr.Enabled {
			res.Warn("%s: %s is disabled, ignored", about, kind)
			continue
		}
		spec, z, notes, problem := triggerSpec(tr, opt, res)
		if problem != "" {
			problems = append(problems, kind+": "+problem)
			continue
		}
		for _, n := range notes {
			res.Warn("%s: %s: %s", about, kind, n)
		}
		specs = append(specs, spec)
		zone = z
	}
	switch {
	case len(problems) > 0:
		res.Warn("%s: not mapped, %s; task skipped", about, strings.Join(problems, "; "))
		return p, false
	case len(specs) == 0:
		res.Warn("%s: not mapped, no enabled trigger (it runs only when started by hand); task skipped", about)
		return p, false
	case len(specs) > 1:
		res.Warn("%s: not mapped, %d triggers (%s) but a process has one schedule; task skipped: define it by hand",
			about, len(specs), strings.Join(specs, "; "))
		return p, false
	}
	p.Schedule, p.Timezone = specs[0], zone
	name := about
	if i := strings.LastIndex(name, `\`); i >= 0 {
		name = name[i+1:]
	}
	p.Name = crontab.Name(name)
	if p.Name == "" {
		p.Name = crontab.Name(about)
	}
	p.Enabled = t.Settings.Enabled == nil || *t.Settings.Enabled
	p.MaxRuntime = statesrv.Duration(maxRuntime)
	switch limit := strings.TrimSpace(t.Settings.ExecutionTimeLimit); limit {
	case "":
	case "PT0S":
		res.Warn("%s: no execution time limit; max_runtime %s", about, textfmt.GoDuration(maxRuntime))
	default:
		d, err := isoDuration(limit)
		if err != nil {
			res.Warn("%s: ExecutionTimeLimit %q: %v; max_runtime %s", about, limit, err, textfmt.GoDuration(maxRuntime))
		} else {
			p.MaxRuntime = statesrv.Duration(d)
		}
	}
	var cmds []string
	for _, e := range t.Actions.Exec {
		cmds = append(cmds, strings.TrimSpace(strings.TrimSpace(e.Command)+" "+strings.TrimSpace(e.Arguments)))
	}
	for _, o := range t.Actions.Other {
		res.Warn("%s: action %s is not a command; not in the description", about, o.XMLName.Local)
	}
	p.Description = crontab.Description(strings.Join(cmds, "; "))
	return p, true
}

var dayNames = map[string]int{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3,
	"thursday": 4, "friday": 5, "saturday": 6}

var monthNames = map[string]int{"january": 1, "february": 2, "march": 3, "april": 4, "may": 5,
	"june": 6, "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12}

// triggerSpec maps a trigger to a 5-field cron spec in a zone, or says why
// it cannot (problem). Only CalendarTrigger maps: daily (every day),
// weekly (every week), monthly on days of the month; a repetition only
// where it repeats all day long on a daily trigger.
func triggerSpec(tr xmlTrigger, opt Options, res *crontab.Result) (spec, zone string, notes []string, problem string) {
	switch tr.XMLName.Local {
	case "CalendarTrigger":
	case "TimeTrigger":
		return "", "", nil, "a one-time trigger is not a schedule"
	default:
		return "", "", nil, "this kind of trigger is not a schedule"
	}
	start, offset, err := startBoundary(tr.StartBoundary)
	if err != nil {
		return "", "", nil, err.Error()
	}
	if start.Second() != 0 {
		return "", "", nil, fmt.Sprintf("starts at second %d of a minute", start.Second())
	}
	zone, note, problem := boundaryZone(offset, opt, res)
	if problem != "" {
		return "", "", nil, problem
	}
	if note != "" {
		notes = append(notes, note)
	}
	minute, hour := strconv.Itoa(start.Minute()), strconv.Itoa(start.Hour())
	dom, month, dow := "*", "*", "*"
	switch {
	case tr.ScheduleByDay != nil:
		if n := tr.ScheduleByDay.DaysInterval; n > 1 {
			return "", "", nil, fmt.Sprintf("every %d days is not a cron schedule", n)
		}
	case tr.ScheduleByWeek != nil:
		if n := tr.ScheduleByWeek.WeeksInterval; n > 1 {
			return "", "", nil, fmt.Sprintf("every %d weeks is not a cron schedule", n)
		}
		var days []int
		for _, d := range tr.ScheduleByWeek.DaysOfWeek.Days {
			n, ok := dayNames[strings.ToLower(d.XMLName.Local)]
			if !ok {
				return "", "", nil, fmt.Sprintf("unknown day %q", d.XMLName.Local)
			}
			days = append(days, n)
		}
		if dow, problem = cronList(days, 7, []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}); problem != "" {
			return "", "", nil, "days of week: " + problem
		}
	case tr.ScheduleByMonth != nil:
		var days, months []int
		for _, d := range tr.ScheduleByMonth.DaysOfMonth.Day {
			n, err := strconv.Atoi(strings.TrimSpace(d))
			if err != nil || n < 1 || n > 31 {
				return "", "", nil, fmt.Sprintf("day of month %q is not a cron day (1–31)", strings.TrimSpace(d))
			}
			days = append(days, n)
		}
		for _, m := range tr.ScheduleByMonth.Months.List {
			n, ok := monthNames[strings.ToLower(m.XMLName.Local)]
			if !ok {
				return "", "", nil, fmt.Sprintf("unknown month %q", m.XMLName.Local)
			}
			months = append(months, n)
		}
		if dom, problem = cronList(days, 31, nil); problem != "" {
			return "", "", nil, "days of month: " + problem
		}
		if month, problem = cronList(months, 12, nil); problem != "" {
			return "", "", nil, "months: " + problem
		}
	case tr.ScheduleByMonthDayOfWeek != nil:
		return "", "", nil, "a weekday of a week of the month (such as the first Monday) is not a cron schedule"
	default:
		return "", "", nil, "no ScheduleByDay, ScheduleByWeek or ScheduleByMonth"
	}
	if r := tr.Repetition; r != nil && strings.TrimSpace(r.Interval) != "" {
		if tr.ScheduleByDay == nil {
			return "", "", nil, "a repetition is mapped only on a daily trigger"
		}
		if minute, hour, problem = repetition(r.Interval, r.Duration, start); problem != "" {
			return "", "", nil, problem
		}
	}
	if tr.EndBoundary != "" {
		notes = append(notes, fmt.Sprintf("ends at %s, a process does not: disable it then", tr.EndBoundary))
	}
	if tr.RandomDelay != "" && tr.RandomDelay != "PT0S" {
		notes = append(notes, fmt.Sprintf("random delay %s not kept: runs are expected at the exact time", tr.RandomDelay))
	}
	spec = strings.Join([]string{minute, hour, dom, month, dow}, " ")
	if err := schedule.Validate(spec, zone); err != nil {
		return "", "", nil, fmt.Sprintf("%q: %s", spec, err)
	}
	return spec, zone, notes, ""
}

var boundaryLayout = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:\d\d)?$`)

// startBoundary reads a StartBoundary ("2026-01-01T02:00:00", with an
// offset when the trigger is synchronized across time zones). offset is
// "" when there is none.
func startBoundary(s string) (t time.Time, offset string, err error) {
	m := boundaryLayout.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return t, "", fmt.Errorf("StartBoundary %q is not a time", s)
	}
	t, err = time.Parse("2006-01-02T15:04:05.999999999", m[1])
	if err != nil {
		return t, "", fmt.Errorf("StartBoundary %q is not a time", s)
	}
	return t, m[2], nil
}

// boundaryZone returns the zone a trigger's times are read in. Without an
// offset they are the machine's wall clock (opt's zone). With one, the
// trigger fires at a fixed UTC offset, which a zone Etc/GMT±N expresses
// for whole hours; --timezone overrides it, with a note.
func boundaryZone(offset string, opt Options, res *crontab.Result) (zone, note, problem string) {
	switch {
	case offset == "":
		return res.ZoneOr(opt.Zone), "", ""
	case opt.Zone != "":
		return opt.Zone, fmt.Sprintf("StartBoundary has offset %s; times read in --timezone %s", offset, opt.Zone), ""
	case offset == "Z" || offset == "+00:00" || offset == "-00:00":
		return "UTC", "", ""
	}
	h, _ := strconv.Atoi(offset[1:3])
	if offset[4:] != "00" {
		return "", "", fmt.Sprintf("StartBoundary offset %s is not whole hours: give --timezone", offset)
	}
	// Etc/GMT zones count the other way: Etc/GMT-1 is UTC+01:00.
	sign := "-"
	if offset[0] == '-' {
		sign = "+"
	}
	zone = fmt.Sprintf("Etc/GMT%s%d", sign, h)
	return zone, fmt.Sprintf("StartBoundary has offset %s (a fixed UTC offset, no daylight saving): zone %s; "+
		"--timezone reads it in a named zone", offset, zone), ""
}

// cronList writes values (of 0..max-1 or 1..max) as a cron list: "*" when
// all are there, names when given.
func cronList(values []int, all int, names []string) (string, string) {
	slices.Sort(values)
	values = slices.Compact(values)
	switch {
	case len(values) == 0:
		return "", "none given"
	case len(values) == all:
		return "*", ""
	}
	var parts []string
	for _, v := range values {
		if names != nil {
			parts = append(parts, names[v])
		} else {
			parts = append(parts, strconv.Itoa(v))
		}
	}
	return strings.Join(parts, ","), ""
}

// repetition maps a daily trigger's repetition to cron's minute and hour
// fields. It maps only when the pattern lasts a whole day or more (or
// without end), so that the runs go round the clock and cron's "every N
// minutes (hours)" is exact: an interval that divides an hour, or whole
// hours that divide a day.
func repetition(interval, duration string, start time.Time) (minute, hour, problem string) {
	iv, err := isoDuration(interval)
	if err != nil {
		return "", "", fmt.Sprintf("repetition interval %q: %v", interval, err)
	}
	if strings.TrimSpace(duration) != "" {
		d, err := isoDuration(duration)
		if err != nil {
			return "", "", fmt.Sprintf("repetition duration %q: %v", duration, err)
		}
		if d < 24*time.Hour {
			return "", "", fmt.Sprintf("repeats every %s for %s only, which cron cannot express exactly",
				textfmt.GoDuration(iv), textfmt.GoDuration(d))
		}
	}
	step := func(at, n, top int) string {
		switch {
		case n == 1:
			return "*"
		case at%n == 0:
			return fmt.Sprintf("*/%d", n)
		}
		return fmt.Sprintf("%d-%d/%d", at%n, top, n)
	}
	switch {
	case iv >= time.Minute && iv < time.Hour && iv%time.Minute == 0 && time.Hour%iv == 0:
		return step(start.Minute(), int(iv/time.Minute), 59), "*", ""
	case iv >= time.Hour && iv%time.Hour == 0 && 24*time.Hour%iv == 0:
		return strconv.Itoa(start.Minute()), step(start.Hour(), int(iv/time.Hour), 23), ""
	}
	return "", "", fmt.Sprintf("repeats every %s, which does not divide an hour or a day", textfmt.GoDuration(iv))
}

var isoLayout = regexp.MustCompile(`^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// isoDuration reads the ISO 8601 durations Task Scheduler writes
// ("PT2H", "P1D", "PT1H30M"). Years and months are refused: their length
// varies.
func isoDuration(s string) (time.Duration, error) {
	m := isoLayout.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, errors.New("not a duration in days, hours, minutes and seconds")
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 32)
		// Beyond math.MaxInt64 nanoseconds (292 years) a duration would
		// wrap round to a negative one.
		if err != nil || time.Duration(n) > (math.MaxInt64-d)/unit {
			return 0, errors.New("too long")
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}
