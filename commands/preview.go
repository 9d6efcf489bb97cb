package commands

import (
	"time"

	"github.com/statesrv/statesrv/commands/schedule"
)

// DescribeSchedule says in words when spec fires ("every day at 02:00"),
// or returns the spec itself for shapes it has no words for.
func DescribeSchedule(spec string) string { return schedule.Describe(spec) }

// PreviewSchedule checks spec in the zone tz and returns its next n fire
// times after from, in UTC. Errors are *statesrv.Error with code EInvalid,
// as Validate gives them.
func PreviewSchedule(spec, tz string, from time.Time, n int) ([]time.Time, error) {
	s, err := schedule.Parse(spec, tz)
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, 0, n)
	t := from
	for range n {
		if t = s.Next(t); t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out, nil
}
