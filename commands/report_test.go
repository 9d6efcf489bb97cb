package commands_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

func intp(i int) *int { return &i }

func TestParseLine(t *testing.T) {
	long := strings.Repeat("é", commands.MaxMsg+5)
	tests := []struct {
		name    string
		line    string
		want    commands.Report // Line is filled from line when empty
		wantErr string          // "" for success
	}{
		{name: "OK", line: "#id=25;state=OK;name=JajaBackupData",
			want: commands.Report{ProcessID: 25, State: "OK", Name: "JajaBackupData"}},
		{name: "OKAllKeys", line: "#id=7;state=fail;name=Backup;run=r1;msg=disk full;code=2;key=s3cret;mid=m-1",
			want: commands.Report{ProcessID: 7, State: "FAIL", Name: "Backup", Run: "r1",
				Msg: "disk full", Code: intp(2), Key: "s3cret", MID: "m-1",
				Line: "#id=7;state=fail;name=Backup;run=r1;msg=disk full;code=2;key=***;mid=m-1"}},
		{name: "OKStart", line: "#id=1;state=Start",
			want: commands.Report{ProcessID: 1, State: "START"}},
		{name: "OKKeysCaseInsensitive", line: "#ID=3;State=ok;NAME=x;Msg=Hello World",
			want: commands.Report{ProcessID: 3, State: "OK", Name: "x", Msg: "Hello World"}},
		{name: "OKAnyOrder", line: "#state=OK;name=n;id=9",
			want: commands.Report{ProcessID: 9, State: "OK", Name: "n"}},
		{name: "OKTrimmedLineKeysAndValues", line: " \t#id = 25 ;\tstate= OK ; name = Jaja  Data \t",
			want: commands.Report{ProcessID: 25, State: "OK", Name: "Jaja  Data"}},
		{name: "OKTrailingSemicolon", line: "#id=1;state=OK;",
			want: commands.Report{ProcessID: 1, State: "OK"}},
		{name: "OKEmptyAndBlankSegments", line: "#;;id=1;; \t ;state=OK;;",
			want: commands.Report{ProcessID: 1, State: "OK"}},
		{name: "OKValueKeepsEquals", line: "#id=1;state=OK;msg=a=b==c",
			want: commands.Report{ProcessID: 1, State: "OK", Msg: "a=b==c"}},
		{name: "OKEmptyValues", line: "#id=1;state=OK;name=;msg=;code=",
			want: commands.Report{ProcessID: 1, State: "OK"}},
		{name: "OKNegativeCode", line: "#id=1;state=FAIL;code=-1073741819",
			want: commands.Report{ProcessID: 1, State: "FAIL", Code: intp(-1073741819)}},
		{name: "OKCodeZero", line: "#id=1;state=OK;code=0",
			want: commands.Report{ProcessID: 1, State: "OK", Code: intp(0)}},
		{name: "OKLeadingZeroID", line: "#id=007;state=OK",
			want: commands.Report{ProcessID: 7, State: "OK"}},
		{name: "OKMaxID", line: "#id=9223372036854775807;state=OK",
			want: commands.Report{ProcessID: 9223372036854775807, State: "OK"}},
		{name: "OKExtra", line: "#id=1;state=OK;Host=web1;X-Env=prod",
			want: commands.Report{ProcessID: 1, State: "OK",
				Extra: map[string]string{"host": "web1", "x-env": "prod"}}},
		{name: "OKUnicode", line: "#id=1;state=OK;name=Záloha dat;msg=Příliš žluťoučký kůň",
			want: commands.Report{ProcessID: 1, State: "OK", Name: "Záloha dat", Msg: "Příliš žluťoučký kůň"}},
		{name: "OKMsgTruncated", line: "#id=1;state=OK;msg=" + long,
			want: commands.Report{ProcessID: 1, State: "OK", Msg: strings.Repeat("é", commands.MaxMsg)}},
		{name: "OKMsgExactlyMax", line: "#id=1;state=OK;msg=" + strings.Repeat("a", commands.MaxMsg),
			want: commands.Report{ProcessID: 1, State: "OK", Msg: strings.Repeat("a", commands.MaxMsg)}},
		{name: "OKInvalidUTF8Replaced", line: "#id=1;state=OK;name=a\xffb;msg=\xc3",
			want: commands.Report{ProcessID: 1, State: "OK", Name: "a\uFFFDb", Msg: "\uFFFD",
				Line: "#id=1;state=OK;name=a\uFFFDb;msg=\uFFFD"}},

		{name: "ErrNotAReport", line: "id=25;state=OK", wantErr: "not a report"},
		{name: "ErrNotAReportEmpty", line: "", wantErr: "not a report"},
		{name: "ErrNotAReportBlank", line: " \t ", wantErr: "not a report"},
		{name: "ErrNotAReportInvalidUTF8", line: "\xff#id=1;state=OK", wantErr: "not a report",
			want: commands.Report{Line: "\uFFFD#id=1;state=OK"}},
		{name: "ErrMissingIDHashOnly", line: "#", wantErr: "missing id"},
		{name: "ErrMissingID", line: "#state=OK;name=n;mid=m",
			want: commands.Report{State: "OK", Name: "n", MID: "m"}, wantErr: "missing id"},
		{name: "ErrMissingIDEmptyValue", line: "#id=;state=OK",
			want: commands.Report{State: "OK"}, wantErr: "missing id"},
		{name: "ErrMissingState", line: "#id=4;name=n",
			want: commands.Report{ProcessID: 4, Name: "n"}, wantErr: "missing state"},
		{name: "ErrMissingStateEmptyValue", line: "#id=4;state= ",
			want: commands.Report{ProcessID: 4}, wantErr: "missing state"},
		{name: "ErrMissingIDBeforeMissingState", line: "#name=n", want: commands.Report{Name: "n"},
			wantErr: "missing id"},
		{name: "ErrBadIDZero", line: "#id=0;state=OK", want: commands.Report{State: "OK"}, wantErr: "bad id"},
		{name: "ErrBadIDNegative", line: "#id=-5;state=OK", want: commands.Report{State: "OK"}, wantErr: "bad id"},
		{name: "ErrBadIDPlus", line: "#id=+5;state=OK", want: commands.Report{State: "OK"}, wantErr: "bad id"},
		{name: "ErrBadIDText", line: "#id=abc;state=OK", want: commands.Report{State: "OK"}, wantErr: "bad id"},
		{name: "ErrBadIDInnerSpace", line: "#id=2 5;state=OK", want: commands.Report{State: "OK"}, wantErr: "bad id"},
		{name: "ErrBadIDOverflow", line: "#id=9223372036854775808;state=OK", want: commands.Report{State: "OK"}, wantErr: "bad id"},
		{name: "ErrBadIDHex", line: "#id=0x10;state=OK", want: commands.Report{State: "OK"}, wantErr: "bad id"},
		{name: "ErrBadIDFullwidthDigit", line: "#id=１;state=OK", want: commands.Report{State: "OK"}, wantErr: "bad id"},
		{name: "ErrBadState", line: "#id=1;state=DONE;name=n", want: commands.Report{ProcessID: 1, Name: "n"}, wantErr: "bad state"},
		{name: "ErrBadStateTimeout", line: "#id=1;state=TIMEOUT", want: commands.Report{ProcessID: 1}, wantErr: "bad state"},
		{name: "ErrBadStateRunning", line: "#id=1;state=RUNNING", want: commands.Report{ProcessID: 1}, wantErr: "bad state"},
		{name: "ErrBadStateNonASCIIFold", line: "#id=1;state=ſtart", want: commands.Report{ProcessID: 1}, wantErr: "bad state"},
		{name: "ErrBadCode", line: "#id=1;state=OK;code=x", want: commands.Report{ProcessID: 1, State: "OK"}, wantErr: "bad code"},
		{name: "ErrBadCodeFloat", line: "#id=1;state=OK;code=1.5", want: commands.Report{ProcessID: 1, State: "OK"}, wantErr: "bad code"},
		{name: "ErrBadCodeOverflow", line: "#id=1;state=OK;code=99999999999999999999", want: commands.Report{ProcessID: 1, State: "OK"}, wantErr: "bad code"},
		{name: "ErrBadPair", line: "#id=1;state=OK;oops", want: commands.Report{ProcessID: 1, State: "OK"}, wantErr: "bad pair"},
		{name: "ErrBadPairEmptyKey", line: "#id=1;state=OK;=v", want: commands.Report{ProcessID: 1, State: "OK"}, wantErr: "bad pair"},
		{name: "ErrBadPairBlankKey", line: "#id=1; =v;state=OK", want: commands.Report{ProcessID: 1, State: "OK"}, wantErr: "bad pair"},
		{name: "ErrDuplicateKey", line: "#id=1;state=OK;id=2", want: commands.Report{ProcessID: 1, State: "OK"}, wantErr: "duplicate key"},
		{name: "ErrDuplicateKeyOtherCase", line: "#id=1;state=OK;STATE=FAIL", want: commands.Report{ProcessID: 1, State: "OK"}, wantErr: "duplicate key"},
		{name: "ErrDuplicateKeyEmptyFirst", line: "#id=;id=2;state=OK", want: commands.Report{State: "OK"}, wantErr: "duplicate key"},
		{name: "ErrDuplicateExtraKey", line: "#id=1;state=OK;host=a;Host=b",
			want: commands.Report{ProcessID: 1, State: "OK", Extra: map[string]string{"host": "a"}}, wantErr: "duplicate key"},
		{name: "ErrFirstFaultWins", line: "#id=x;state=NOPE;code=y;junk;id=1",
			want: commands.Report{}, wantErr: "bad id"},
		{name: "ErrFaultBeforeMissing", line: "#state=OK;junk", want: commands.Report{State: "OK"}, wantErr: "bad pair"},
		{name: "ErrFieldsKeptForRecord", line: "#id=12;state=OK;name=Nightly;mid=abc;code=zz",
			want: commands.Report{ProcessID: 12, State: "OK", Name: "Nightly", MID: "abc"}, wantErr: "bad code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want.Line == "" {
				want.Line = tt.line
			}
			got, err := commands.ParseLine(tt.line)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseLine(%q) error = %v", tt.line, err)
				}
			} else {
				var e *statesrv.Error
				if !errors.As(err, &e) {
					t.Fatalf("ParseLine(%q) error = %#v, want *statesrv.Error", tt.line, err)
				}
				if e.Code != statesrv.EInvalid || e.Message != tt.wantErr {
					t.Fatalf("ParseLine(%q) error = %q (%s), want %q (%s)",
						tt.line, e.Message, e.Code, tt.wantErr, statesrv.EInvalid)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseLine(%q)\n got %s\nwant %s", tt.line, show(got), show(want))
			}
		})
	}
}

// TestParseLineCallerFields checks that the fields the caller sets stay empty.
func TestParseLineCallerFields(t *testing.T) {
	r, err := commands.ParseLine("#id=1;state=OK;transport=x;remote=y")
	if err != nil {
		t.Fatal(err)
	}
	if r.Transport != "" || r.Remote != "" {
		t.Errorf("Transport, Remote = %q, %q; want empty", r.Transport, r.Remote)
	}
	if r.Extra["transport"] != "x" || r.Extra["remote"] != "y" {
		t.Errorf("Extra = %v", r.Extra)
	}
}

func show(r commands.Report) string {
	code := "nil"
	if r.Code != nil {
		code = fmt.Sprint(*r.Code)
	}
	c := r
	c.Code = nil
	return fmt.Sprintf("%+v Code=%s", c, code)
}

// checkReport asserts what ParseLine promises for any input.
func checkReport(t *testing.T, line string, r commands.Report, err error) {
	t.Helper()
	for _, s := range []string{r.Line, r.State, r.Name, r.Run, r.Msg, r.Key, r.MID} {
		if !utf8.ValidString(s) {
			t.Fatalf("ParseLine(%q): invalid UTF-8 in %q", line, s)
		}
	}
	for k, v := range r.Extra {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			t.Fatalf("ParseLine(%q): invalid UTF-8 in extra %q=%q", line, k, v)
		}
		if k == "" || strings.Trim(k, " \t") != k || strings.ContainsAny(k, "=;ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Fatalf("ParseLine(%q): bad extra name %q", line, k)
		}
	}
	if r.Extra != nil && len(r.Extra) == 0 {
		t.Fatalf("ParseLine(%q): Extra is empty but not nil", line)
	}
	if !strings.Contains(strings.ToLower(line), "key") && r.Line != strings.ToValidUTF8(line, "\uFFFD") {
		t.Fatalf("ParseLine(%q): Line = %q", line, r.Line)
	}
	for _, seg := range strings.Split(r.Line, ";") {
		k, v, ok := strings.Cut(seg, "=")
		k = strings.Trim(strings.TrimLeft(strings.Trim(k, " \t"), "#"), " \t")
		// ASCII folding only, as the parser does: a Kelvin sign is no K.
		if ok && len(k) == 3 && strings.EqualFold(k, "key") && k[0] < 0x80 && v != "***" {
			t.Fatalf("ParseLine(%q): a key value is left in Line %q", line, r.Line)
		}
	}
	if n := utf8.RuneCountInString(r.Msg); n > commands.MaxMsg {
		t.Fatalf("ParseLine(%q): msg has %d characters", line, n)
	}
	if r.ProcessID < 0 {
		t.Fatalf("ParseLine(%q): ProcessID = %d", line, r.ProcessID)
	}
	switch r.State {
	case "", statesrv.StateOK, statesrv.StateFail, statesrv.StateStart:
	default:
		t.Fatalf("ParseLine(%q): State = %q", line, r.State)
	}
	if err != nil {
		var e *statesrv.Error
		if !errors.As(err, &e) || e.Code != statesrv.EInvalid {
			t.Fatalf("ParseLine(%q): error %#v is not an invalid *statesrv.Error", line, err)
		}
		switch e.Message {
		case "not a report", "missing id", "bad id", "missing state", "bad state",
			"bad code", "bad pair", "duplicate key":
		default:
			t.Fatalf("ParseLine(%q): unexpected message %q", line, e.Message)
		}
		return
	}
	if r.ProcessID <= 0 || r.State == "" {
		t.Fatalf("ParseLine(%q) succeeded with id %d, state %q", line, r.ProcessID, r.State)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"#id=25;state=OK;name=JajaBackupData",
		"#id=7;state=fail;name=Backup;run=r1;msg=disk full;code=2;key=s3cret;mid=m-1",
		" #ID = 3 ; State=start ;",
		"#id=1;state=OK;msg=" + strings.Repeat("ž", 1100),
		"#id=1;state=OK;id=2;junk;=x",
		"#id=1;state=OK;name=a\xffb\xc3",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := commands.ParseLine(line)
		checkReport(t, line, r, err)
		// A report that parsed, written back out, parses to the same fields.
		if err != nil || r.Msg != "" && utf8.RuneCountInString(r.Msg) == commands.MaxMsg {
			return
		}
		again, err := commands.ParseLine(format(r))
		if err != nil {
			t.Fatalf("ParseLine(%q) ok, but its re-formatting %q: %v", line, format(r), err)
		}
		again.Line, r.Line = "", ""
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("ParseLine(%q) = %s\nre-formatted: %s", line, show(r), show(again))
		}
	})
}

// format writes a report back as a line, the fields in a fixed order.
func format(r commands.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#id=%d;state=%s", r.ProcessID, r.State)
	add := func(k, v string) {
		if v != "" {
			b.WriteString(";" + k + "=" + v)
		}
	}
	add("name", r.Name)
	add("run", r.Run)
	add("msg", r.Msg)
	if r.Code != nil {
		add("code", fmt.Sprint(*r.Code))
	}
	add("key", r.Key)
	add("mid", r.MID)
	for k, v := range r.Extra {
		b.WriteString(";" + k + "=" + v)
	}
	return b.String()
}

func BenchmarkParseLine(b *testing.B) {
	for _, bb := range []struct{ name, line string }{
		{"Short", "#id=25;state=OK;name=JajaBackupData"},
		{"AllKeys", "#id=7;state=FAIL;name=Backup;run=r1;msg=disk full on /var;code=2;key=s3cret;mid=m-1;host=web1"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.line)))
			for b.Loop() {
				if _, err := commands.ParseLine(bb.line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
