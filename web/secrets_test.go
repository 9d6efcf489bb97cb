package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// TestSecretsNeverShown defines a process with a key, has an older
// version's definition with its key in clear in the log, and the admin's
// password hash (newEnv sets it), then reads every API reply and page that
// shows definitions or events: none holds a key, a key hash or the
// password hash, and the definitions say "key_set": true.
func TestSecretsNeverShown(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	p := pushOnly(25, "backup")
	p.Key = statesrv.Ptr("s3cret-key")
	e.define(t, p)
	legacy := `{"id":9,"name":"old","description":"","schedule":"","timezone":"UTC","max_runtime":"1h0m0s",` +
		`"enabled":true,"key":"legacy-key","alerts":{"ok":[],"fail":[],"timeout":[],"late":[],"recovered":[]}}`
	evs, err := eventlog.Append(context.Background(), e.Log, eventlog.Record{Type: statesrv.EventProcessDefined,
		Time: e.Clock.Now(), Actor: statesrv.ActorCLI, ProcessID: 9, Data: json.RawMessage(legacy)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Runner.WaitFor(context.Background(), evs[0].Seq); err != nil {
		t.Fatal(err)
	}
	ps, _ := e.Service.Process(25)
	secrets := []string{"s3cret-key", "legacy-key", ps.KeyHash, "key_hash", "sha256:", "$argon2id"}
	for ev, err := range e.Log.Range(context.Background(), 1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == statesrv.EventUserPasswordSet {
			var d statesrv.UserPasswordSetData
			statesrv.DecodePayload(ev.Type, ev.Time, ev.Data, &d)
			secrets = append(secrets, d.Hash)
		}
	}
	last := e.Log.LastSeq()
	paths := []string{"/api/v1/processes", "/api/v1/processes/25", "/api/v1/processes/9", "/api/v1/events",
		"/api/v1/events?type=UserPasswordSet", "/api/v1/events?type=ProcessDefined", "/api/v1/state?seq=" + strconv.FormatUint(last, 10),
		"/events", "/events?type=UserPasswordSet", "/processes", "/processes/25", "/processes/25/edit",
		"/processes/9", "/state?seq=" + strconv.FormatUint(last, 10)}
	for seq := uint64(1); seq <= last; seq++ {
		paths = append(paths, "/events/"+strconv.FormatUint(seq, 10))
	}
	for _, path := range paths {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			var h http.Header
			if strings.HasPrefix(path, "/api/") {
				h = http.Header{"Authorization": {"Bearer test-token"}}
			}
			res := e.do(t, http.MethodGet, path, nil, h)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			for _, s := range secrets {
				if strings.Contains(string(body), s) {
					t.Errorf("%s shows %q", path, s)
				}
			}
		})
	}
	t.Run("DefinitionsSayKeySet", func(t *testing.T) {
		for _, id := range []string{"25", "9"} {
			res := e.do(t, http.MethodGet, "/api/v1/processes/"+id, nil, http.Header{"Authorization": {"Bearer test-token"}})
			body, _ := io.ReadAll(res.Body)
			if !strings.Contains(string(body), `"key_set":true`) {
				t.Errorf("process %s: %s", id, body)
			}
		}
	})
	t.Run("LegacyKeyStillChecked", func(t *testing.T) {
		var h string
		e.Runner.View(func(c *projections.Core) { h = c.Procs[9].KeyHash })
		if !statesrv.KeyMatches(h, "legacy-key") {
			t.Errorf("the views hold %q for the key in clear", h)
		}
	})
}

// TestProcessFormKey: the form never shows the key; an empty key field
// keeps it, a new one replaces it, the checkbox removes it.
func TestProcessFormKey(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	form := processForm()
	save := func(t *testing.T, v url.Values) {
		t.Helper()
		if res := e.postForm(t, "/processes/25", v); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: status %d", res.StatusCode)
		}
	}
	hash := func() string { ps, _ := e.Service.Process(25); return ps.KeyHash }
	if res := e.postForm(t, "/processes", with(form, "key", "form-key")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: status %d", res.StatusCode)
	}
	if !statesrv.KeyMatches(hash(), "form-key") {
		t.Fatal("the key typed is not the key set")
	}
	t.Run("NeverRendered", func(t *testing.T) {
		doc := e.page(t, "/processes/25/edit")
		if v := doc.Find("#f-key").AttrOr("value", ""); v != "" {
			t.Errorf("key input holds %q", v)
		}
		if html, _ := doc.Html(); strings.Contains(html, "form-key") || strings.Contains(html, hash()) {
			t.Error("the edit form shows the key")
		}
		if testid(doc, "remove_key").Length() != 1 {
			t.Error("no remove_key checkbox for a process with a key")
		}
	})
	t.Run("EmptyKeeps", func(t *testing.T) {
		before := hash()
		save(t, with(form, "description", "changed"))
		if hash() != before {
			t.Error("an empty key field changed the key")
		}
	})
	t.Run("NewReplaces", func(t *testing.T) {
		save(t, with(form, "key", "other-key"))
		if !statesrv.KeyMatches(hash(), "other-key") {
			t.Error("the new key was not set")
		}
	})
	t.Run("CheckboxRemoves", func(t *testing.T) {
		save(t, with(form, "remove_key", "on"))
		if hash() != "" {
			t.Error("the key was not removed")
		}
		if testid(e.page(t, "/processes/25/edit"), "remove_key").Length() != 0 {
			t.Error("a remove_key checkbox without a key")
		}
	})
}

// TestAPIKeyOmittedKeepsEmptyRemoves: PUT and PATCH without "key" keep it,
// "key": "" and a patch's null remove it; replies show only key_set.
func TestAPIKeyOmittedKeepsEmptyRemoves(t *testing.T) {
	e := newEnv(t)
	auth := http.Header{"Authorization": {"Bearer test-token"}, "Content-Type": {"application/json"}}
	call := func(t *testing.T, method, body string) string {
		t.Helper()
		res := e.do(t, method, "/api/v1/processes/25", strings.NewReader(body), auth)
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			t.Fatalf("%s %s: status %d: %s", method, body, res.StatusCode, b)
		}
		if strings.Contains(string(b), "k-one") || strings.Contains(string(b), "key_hash") {
			t.Errorf("reply shows the key: %s", b)
		}
		return string(b)
	}
	hash := func() string { ps, _ := e.Service.Process(25); return ps.KeyHash }
	if b := call(t, "PUT", `{"name":"a","key":"k-one"}`); !strings.Contains(b, `"key_set":true`) {
		t.Errorf("PUT reply %s", b)
	}
	set := hash()
	call(t, "PUT", `{"name":"b"}`)
	if hash() != set {
		t.Error("PUT without the key changed it")
	}
	call(t, "PATCH", `{"description":"x"}`)
	if hash() != set {
		t.Error("PATCH without the key changed it")
	}
	if b := call(t, "PUT", `{"name":"b","key":""}`); strings.Contains(b, "key_set") || hash() != "" {
		t.Errorf(`PUT "key": "" kept the key: %s`, b)
	}
	call(t, "PATCH", `{"key":"k-one"}`)
	if !statesrv.KeyMatches(hash(), "k-one") {
		t.Error("PATCH did not set the key")
	}
	call(t, "PATCH", `{"key":null}`)
	if hash() != "" {
		t.Error("PATCH null kept the key")
	}
}
