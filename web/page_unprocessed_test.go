package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// unprocessedIDs lists the ids of the rows on the unprocessed page.
func unprocessedIDs(t *testing.T, e *env) []string {
	t.Helper()
	return attrs(testid(e.page(t, "/unprocessed"), "unprocessed-row"), "data-id")
}

// flashAfter follows a form's redirect and returns the notice shown.
func flashAfter(t *testing.T, e *env, res *http.Response) string {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, "/unprocessed") {
		t.Fatalf("redirect to %q, want the unprocessed page", loc)
	}
	return testid(e.page(t, loc), "flash").Text()
}

func TestUnprocessedPage(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushProcess(1, "known", 0))
	e.define(t, statesrv.Process{ID: 2, Name: "nightly", Schedule: "0 2 * * *", Enabled: true})
	e.report(t, "#id=99;state=OK;name=stranger job")
	e.report(t, "#id=2;state=OK")
	e.report(t, "this is not a report")
	e.report(t, "#id=98;state=FAIL")

	doc := e.page(t, "/unprocessed")
	if doc.Find("main[data-live]").Length() != 1 {
		t.Error("the unprocessed page is not live")
	}
	rows := testid(doc, "unprocessed-row")
	if rows.Length() != 4 {
		t.Fatalf("%d rows, want 4", rows.Length())
	}
	// Every page's navigation says how many wait.
	for _, path := range []string{"/unprocessed", "/history"} {
		if got := testid(e.page(t, path), "nav-unprocessed").Text(); got != "4" {
			t.Errorf("%s: the navigation counts %q unprocessed messages, want 4", path, got)
		}
	}
	t.Run("NewestFirst", func(t *testing.T) {
		reasons := []string{}
		rows.Each(func(_ int, r *goquery.Selection) {
			reasons = append(reasons, strings.TrimSpace(r.Find("td").Eq(4).Text()))
		})
		want := []string{"unknown process", "malformed", "no open run", "unknown process"}
		for i := range want {
			if !strings.HasPrefix(reasons[i], want[i]) {
				t.Errorf("reasons = %q, want %q", reasons, want)
				break
			}
		}
		last := rows.Eq(3)
		if last.Find("code").Text() != "#id=99;state=OK;name=stranger job" || !strings.Contains(last.Text(), "127.0.0.1:5000") {
			t.Errorf("row of 99 = %q, want its raw line and remote", last.Text())
		}
		if last.Find(`input[type=checkbox][name=id]`).AttrOr("value", "") != last.AttrOr("data-id", "-") {
			t.Error("row's checkbox does not carry its message id")
		}
		if doc.Find(`input[data-check-all="id"]`).Length() != 1 || testid(doc, "dismiss-selected").Length() != 1 || rows.Find(`[data-testid="dismiss"]`).Length() != 4 {
			t.Error("missing select-all, bulk or per-row dismiss buttons")
		}
	})
	t.Run("DefineShortcut", func(t *testing.T) {
		links := testid(doc, "define-process")
		want := []string{"/processes/new?id=98&name=", "/processes/new?id=99&name=stranger+job"}
		if got := attrs(links, "href"); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("define links = %q, want %q", got, want)
		}
		if !strings.Contains(links.Eq(1).Text(), "Define process 99") {
			t.Errorf("link text = %q", links.Eq(1).Text())
		}
	})

	ids := attrs(rows, "data-id")
	t.Run("DismissOne", func(t *testing.T) {
		res := e.postForm(t, "/unprocessed/dismiss", url.Values{"id": {ids[0]}})
		if f := flashAfter(t, e, res); f != "Dismissed 1 message." {
			t.Errorf("flash = %q", f)
		}
		if got := unprocessedIDs(t, e); len(got) != 3 || got[0] != ids[1] {
			t.Errorf("left %q, want %q", got, ids[1:])
		}
		// The audit log names who dismissed it.
		var actor string
		for ev, err := range e.Log.Range(context.Background(), e.Log.LastSeq(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			actor = ev.Actor
		}
		if actor != "admin" {
			t.Errorf("dismissed by %q, want admin", actor)
		}
	})
	t.Run("NoneSelected", func(t *testing.T) {
		res := e.postForm(t, "/unprocessed/dismiss", url.Values{"id": {""}})
		if f := flashAfter(t, e, res); !strings.Contains(f, "Select at least one") {
			t.Errorf("flash = %q", f)
		}
		if n := len(unprocessedIDs(t, e)); n != 3 {
			t.Errorf("%d left, want 3", n)
		}
	})
	t.Run("UnknownIDWithKnown", func(t *testing.T) {
		res := e.postForm(t, "/unprocessed/dismiss", url.Values{"id": {"no-such-message", ids[1], ids[0]}})
		f := flashAfter(t, e, res)
		if !strings.Contains(f, "Dismissed 1 message.") || !strings.Contains(f, "2 messages were not found") {
			t.Errorf("flash = %q", f)
		}
		if got := unprocessedIDs(t, e); len(got) != 2 || got[0] != ids[2] {
			t.Errorf("left %q, want %q", got, ids[2:])
		}
	})
	t.Run("OnlyUnknown", func(t *testing.T) {
		res := e.postForm(t, "/unprocessed/dismiss", url.Values{"id": {"no-such-message"}})
		if f := flashAfter(t, e, res); !strings.HasPrefix(f, "No message was dismissed. 1 message was not found") {
			t.Errorf("flash = %q", f)
		}
	})
	t.Run("TooMany", func(t *testing.T) {
		many := []string{ids[2]}
		for i := range maxDismiss {
			many = append(many, fmt.Sprintf("m%d", i))
		}
		res := e.postForm(t, "/unprocessed/dismiss", url.Values{"id": many})
		if f := flashAfter(t, e, res); !strings.Contains(f, "nothing was dismissed") {
			t.Errorf("flash = %q", f)
		}
		if n := len(unprocessedIDs(t, e)); n != 2 {
			t.Errorf("%d left, want 2", n)
		}
	})
	t.Run("DismissMany", func(t *testing.T) {
		res := e.postForm(t, "/unprocessed/dismiss", url.Values{"id": {ids[2], ids[3]}})
		if f := flashAfter(t, e, res); f != "Dismissed 2 messages." {
			t.Errorf("flash = %q", f)
		}
		doc := e.page(t, "/unprocessed")
		if testid(doc, "unprocessed-row").Length() != 0 || testid(doc, "empty").Length() != 1 {
			t.Error("messages left after dismissing them all")
		}
	})
}

func TestUnprocessedPaged(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	for i := range unprocessedPerPage + 2 {
		e.report(t, fmt.Sprintf("#id=%d;state=OK", 1000+i))
	}
	res := e.do(t, http.MethodGet, "/unprocessed", nil, nil)
	body, _ := io.ReadAll(res.Body)
	if len(body) > 100<<10 {
		t.Errorf("a page of %d messages is %d bytes, want at most 100 KB", unprocessedPerPage, len(body))
	}
	t.Logf("a page of %d messages: %d bytes", unprocessedPerPage, len(body))
	doc := e.page(t, "/unprocessed")
	if n := testid(doc, "unprocessed-row").Length(); n != unprocessedPerPage {
		t.Fatalf("first page: %d rows", n)
	}
	next, ok := testid(doc, "next-page").Attr("href")
	if !ok {
		t.Fatal("no next page")
	}
	doc = e.page(t, next)
	rows := testid(doc, "unprocessed-row")
	if rows.Length() != 2 || !strings.Contains(rows.Eq(1).Text(), "#id=1000;") {
		t.Errorf("second page: %d rows, want the 2 oldest", rows.Length())
	}
	// A dismissal from the second page comes back to it.
	before := strings.TrimPrefix(next, "/unprocessed?before=")
	res = e.postForm(t, "/unprocessed/dismiss", url.Values{"id": {rows.Eq(0).AttrOr("data-id", "")}, "before": {before}})
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, next+"&flash=") {
		t.Errorf("redirect to %q, want back to %q", loc, next)
	}
	t.Run("BadCursor", func(t *testing.T) {
		res, doc := e.get(t, "/unprocessed?before=x")
		if res.StatusCode != http.StatusBadRequest || testid(doc, "error-before").Length() != 1 {
			t.Errorf("status %d, want 400 with an inline error", res.StatusCode)
		}
	})
}

// TestUnprocessedRateCountsPings sends one address's rate of unprocessed
// TCP lines, then a ping from the same address: it is answered as usual
// but only counted, and the page says so once the minute is over.
func TestUnprocessedRateCountsPings(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	var last *commands.Receipt
	for i := range commands.DefaultUnprocessedRate {
		rep, _ := commands.ParseLine(fmt.Sprintf("#id=%d;state=OK", 1000+i))
		rep.Remote, rep.Transport = "127.0.0.1:5000", "tcp"
		last = e.Service.Report(rep)
	}
	e.wait(t, last)
	before := e.Log.LastSeq()
	res := e.do(t, http.MethodGet, "/ping/77/OK", nil, nil)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "ACK ") {
		t.Fatalf("ping past the rate: %d %q, want 200 ACK", res.StatusCode, body)
	}
	if e.Log.LastSeq() != before {
		t.Fatalf("the ping past the rate was stored (seq %d → %d)", before, e.Log.LastSeq())
	}
	e.tick(t, time.Minute)
	if err := e.Runner.WaitFor(context.Background(), e.Log.LastSeq()); err != nil {
		t.Fatal(err)
	}
	if got := testid(e.page(t, "/unprocessed"), "dropped").Text(); !strings.Contains(got, "1 line from 127.0.0.1") {
		t.Fatalf("the page says %q, want 1 line from 127.0.0.1 dropped", got)
	}
}
