package envflag

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// flags is a flag set with a string, a duration and a bool.
func flags() (*flag.FlagSet, *string, *time.Duration, *bool) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	level := fs.String("log-level", "info", "")
	retry := fs.Duration("retry-for", time.Second, "")
	yes := fs.Bool("yes", false, "")
	return fs, level, retry, yes
}

func TestName(t *testing.T) {
	if got := Name("STATESRV_", "alert-retry-for"); got != "STATESRV_ALERT_RETRY_FOR" {
		t.Errorf("Name = %q", got)
	}
}

func TestParse(t *testing.T) {
	t.Run("FromEnvironment", func(t *testing.T) {
		t.Setenv("T_LOG_LEVEL", "debug")
		t.Setenv("T_YES", "true")
		fs, level, retry, yes := flags()
		if err := Parse(fs, nil, "T_"); err != nil {
			t.Fatal(err)
		}
		if *level != "debug" || *retry != time.Second || !*yes {
			t.Errorf("got %q, %v, %v; want debug, the default 1s, true", *level, *retry, *yes)
		}
	})

	t.Run("GivenWins", func(t *testing.T) {
		t.Setenv("T_LOG_LEVEL", "debug")
		fs, level, _, _ := flags()
		if err := Parse(fs, []string{"--log-level", "warn"}, "T_"); err != nil {
			t.Fatal(err)
		}
		if *level != "warn" {
			t.Errorf("log-level %q, want the flag's warn", *level)
		}
	})

	t.Run("ErrBadValueNamesVariable", func(t *testing.T) {
		t.Setenv("T_RETRY_FOR", "soon")
		fs, _, _, _ := flags()
		err := Parse(fs, nil, "T_")
		if err == nil || !strings.HasPrefix(err.Error(), "T_RETRY_FOR: ") {
			t.Errorf("Parse = %v, want an error naming T_RETRY_FOR", err)
		}
	})

	t.Run("ErrHelp", func(t *testing.T) {
		fs, _, _, _ := flags()
		if err := Parse(fs, []string{"-h"}, "T_"); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Parse -h = %v, want flag.ErrHelp", err)
		}
	})

	t.Run("ErrUnknownFlag", func(t *testing.T) {
		fs, _, _, _ := flags()
		if err := Parse(fs, []string{"--nope"}, "T_"); err == nil {
			t.Error("Parse of an unknown flag succeeded")
		}
	})
}

func TestParseInterspersed(t *testing.T) {
	fs, level, _, yes := flags()
	pos, err := ParseInterspersed(fs, []string{"a", "--yes", "b", "--log-level", "warn", "c"}, "T_")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pos, []string{"a", "b", "c"}) || *level != "warn" || !*yes {
		t.Errorf("got %q, %q, %v", pos, *level, *yes)
	}
}
