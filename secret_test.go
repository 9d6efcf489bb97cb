package statesrv_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

func TestKeyHash(t *testing.T) {
	h := statesrv.HashKey("s3cret")
	t.Run("NotInClear", func(t *testing.T) {
		if strings.Contains(h, "s3cret") || !strings.HasPrefix(h, "sha256:") {
			t.Errorf("hash %q", h)
		}
	})
	t.Run("Matches", func(t *testing.T) {
		if !statesrv.KeyMatches(h, "s3cret") {
			t.Error("the right key does not match")
		}
	})
	t.Run("WrongKeyRefused", func(t *testing.T) {
		for _, k := range []string{"", "s3cre", "s3cret ", "S3cret"} {
			if statesrv.KeyMatches(h, k) {
				t.Errorf("%q matches", k)
			}
		}
	})
	t.Run("Salted", func(t *testing.T) {
		if statesrv.HashKey("s3cret") == h {
			t.Error("two hashes of one key are equal")
		}
	})
	t.Run("MalformedMatchesNothing", func(t *testing.T) {
		for _, bad := range []string{"", "s3cret", "sha256:", "sha256:zz:00", "sha256:00:00"} {
			if statesrv.KeyMatches(bad, "s3cret") || statesrv.KeyMatches(bad, "") {
				t.Errorf("%q matches", bad)
			}
		}
	})
	t.Run("LegacyIsDeterministic", func(t *testing.T) {
		a, b := statesrv.LegacyKeyHash("s3cret", []byte("id")), statesrv.LegacyKeyHash("s3cret", []byte("id"))
		if a != b || !statesrv.KeyMatches(a, "s3cret") || a == statesrv.LegacyKeyHash("s3cret", []byte("other")) {
			t.Errorf("legacy hashes %q %q", a, b)
		}
	})
}

func TestProcessRedacted(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    statesrv.Process
		set  bool
	}{
		{"Hashed", statesrv.Process{ID: 1, KeyHash: statesrv.HashKey("s3cret")}, true},
		{"InClear", statesrv.Process{ID: 1, Key: statesrv.Ptr("s3cret")}, true},
		{"None", statesrv.Process{ID: 1}, false},
		{"Removed", statesrv.Process{ID: 1, Key: statesrv.Ptr("")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(tc.p.Redacted())
			if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "sha256") ||
				strings.Contains(string(b), `"key"`) || strings.Contains(string(b), "key_hash") {
				t.Errorf("shown %s", b)
			}
			if got := strings.Contains(string(b), `"key_set":true`); got != tc.set {
				t.Errorf("shown %s, key_set %v", b, tc.set)
			}
		})
	}
}

func TestFoldLegacyKey(t *testing.T) {
	p := statesrv.Process{ID: 1, Key: statesrv.Ptr("s3cret")}
	p.FoldLegacyKey([]byte("event id"))
	if p.Key != nil || !statesrv.KeyMatches(p.KeyHash, "s3cret") {
		t.Errorf("folded %+v", p)
	}
	q := statesrv.Process{ID: 1, Key: statesrv.Ptr("s3cret")}
	q.FoldLegacyKey([]byte("event id"))
	if q.KeyHash != p.KeyHash {
		t.Error("two folds of one event differ")
	}
}

func TestRedactEvent(t *testing.T) {
	hash := statesrv.HashKey("s3cret")
	for _, tc := range []struct {
		name, typ, data string
		want            string
	}{
		{"DefinitionInClear", statesrv.EventProcessDefined, `{"id":1,"name":"a","key":"s3cret"}`, `{"id":1,"key_set":true,"name":"a"}`},
		{"DefinitionHashed", statesrv.EventProcessDefined, `{"id":1,"key_hash":"` + hash + `"}`, `{"id":1,"key_set":true}`},
		{"DefinitionEscapedName", statesrv.EventProcessDefined, `{"id":1,"k\u0065y":"s3cret"}`, `{"id":1,"key_set":true}`},
		{"DefinitionEmptyKey", statesrv.EventProcessDefined, `{"id":1,"key":""}`, `{"id":1}`},
		{"DefinitionWithoutKeyAsStored", statesrv.EventProcessDefined, `{"name":"b","id":1}`, `{"name":"b","id":1}`},
		{"PasswordHash", statesrv.EventUserPasswordSet, `{"user":"admin","hash":"$argon2id$s3cret"}`, `{"user":"admin"}`},
		{"UserDefinedHash", statesrv.EventUserDefined, `{"user":"ann","role":"viewer","hash":"$argon2id$s3cret"}`, `{"password_set":true,"role":"viewer","user":"ann"}`},
		{"UserDefinedRoleOnly", statesrv.EventUserDefined, `{"user":"ann","role":"admin"}`, `{"user":"ann","role":"admin"}`},
		{"TokenHash", statesrv.EventAPITokenCreated, `{"token_id":"t","user":"ann","name":"ci","role":"viewer","hash":"s3cret"}`, `{"name":"ci","role":"viewer","token_id":"t","user":"ann"}`},
		{"OtherTypeAsStored", statesrv.EventRunStarted, `{"run_id":"s3cret"}`, `{"run_id":"s3cret"}`},
		{"NotAnObject", statesrv.EventProcessDefined, `"s3cret"`, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(statesrv.RedactEvent(tc.typ, time.Time{}, []byte(tc.data))); got != tc.want {
				t.Errorf("RedactEvent = %s, want %s", got, tc.want)
			}
		})
	}
}

// BenchmarkKeyMatches is the cost of checking a report's key.
func BenchmarkKeyMatches(b *testing.B) {
	h := statesrv.HashKey("a-long-random-machine-key-0123456789")
	for b.Loop() {
		statesrv.KeyMatches(h, "a-long-random-machine-key-0123456789")
	}
}
