package commands_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// keyOf returns the stored hash of process id's key on the write side.
func keyOf(t *testing.T, s *server, id int64) string {
	t.Helper()
	ps, ok := s.Service.Process(id)
	if !ok {
		t.Fatalf("process %d not defined", id)
	}
	if ps.Key != nil || ps.KeySet {
		t.Fatalf("process %d holds a key in clear: %+v", id, ps.Process)
	}
	return ps.KeyHash
}

// mustAccept fails unless rep is taken.
func mustAccept(t *testing.T, s *server, key string) {
	t.Helper()
	if _, err := s.Report(withKey(report(1, "START"), key)); err != nil {
		t.Fatalf("report with key %q: %v", key, err)
	}
}

// mustRefuse fails unless rep is refused as a bad key.
func mustRefuse(t *testing.T, s *server, key string) {
	t.Helper()
	var se *statesrv.Error
	if _, err := s.Report(withKey(report(1, "START"), key)); !errors.As(err, &se) || se.Message != "bad key" {
		t.Fatalf("report with key %q: %v, want bad key", key, err)
	}
}

// keyedServer returns a new server with process 1 defined as p, whose key
// is key.
func keyedServer(t *testing.T, key string) (*server, statesrv.Process) {
	t.Helper()
	s := newServer(t)
	p := process(1, "")
	p.Key = statesrv.Ptr(key)
	s.MustDefine(p)
	return s, p
}

// mustStoreOnlyHash fails if one of events holds one of keys in clear, or
// unless the hash process 1 stores matches keys[0].
func mustStoreOnlyHash(t *testing.T, s *server, events []eventlog.Event, keys ...string) {
	t.Helper()
	for _, e := range events {
		for _, k := range keys {
			if bytes.Contains(e.Data, []byte(k)) {
				t.Errorf("event %s holds the key %q: %s", e.Type, k, e.Data)
			}
		}
	}
	if h := keyOf(t, s, 1); !statesrv.KeyMatches(h, keys[0]) {
		t.Errorf("stored hash %q does not match the key", h)
	}
}

func TestProcessKey(t *testing.T) {
	t.Run("StoredHashedNeverInClear", func(t *testing.T) {
		s := newServer(t)
		p := process(1, "")
		p.Key = statesrv.Ptr("s3cret-key")
		seq := s.MustDefine(p)
		mustStoreOnlyHash(t, s, s.Events(seq), "s3cret-key")
		mustAccept(t, s, "s3cret-key")
		mustRefuse(t, s, "s3cret-kex")
	})
	t.Run("AppliedStoredHashedNeverInClear", func(t *testing.T) {
		// The other path that writes definitions: apply, many at once.
		s := newServer(t)
		p, q := process(1, ""), process(2, "")
		p.Key, q.Key = statesrv.Ptr("s3cret-key"), statesrv.Ptr("other-key")
		r, _, err := s.Service.ApplyDefinitions([]statesrv.Process{p, q}, nil, statesrv.ActorAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.wait(r); err != nil {
			t.Fatal(err)
		}
		events := s.Events(1)
		if len(events) == 0 {
			t.Fatal("apply appended nothing")
		}
		mustStoreOnlyHash(t, s, events, "s3cret-key", "other-key")
		mustAccept(t, s, "s3cret-key")
		mustRefuse(t, s, "other-key")
	})
	t.Run("LeftOutKeepsIt", func(t *testing.T) {
		s, p := keyedServer(t, "k1")
		h := keyOf(t, s, 1)
		p.Key, p.Description = nil, "changed"
		if seq := s.MustDefine(p); seq == 0 {
			t.Fatal("a changed description appended nothing")
		}
		if keyOf(t, s, 1) != h {
			t.Error("a definition without the key changed it")
		}
		mustAccept(t, s, "k1")
	})
	t.Run("EmptyRemovesIt", func(t *testing.T) {
		s, p := keyedServer(t, "k1")
		p.Key = statesrv.Ptr("")
		if seq := s.MustDefine(p); seq == 0 {
			t.Fatal("removing the key appended nothing")
		}
		if h := keyOf(t, s, 1); h != "" {
			t.Errorf("key hash %q after removal", h)
		}
		mustAccept(t, s, "")
	})
	t.Run("SameKeyAgainAppendsNothing", func(t *testing.T) {
		s, p := keyedServer(t, "k1")
		if seq := s.MustDefine(p); seq != 0 {
			t.Errorf("the same definition again appended seq %d", seq)
		}
	})
	t.Run("HashGivenIsIgnored", func(t *testing.T) {
		s := newServer(t)
		p := process(1, "")
		p.KeyHash, p.KeySet = statesrv.HashKey("mine"), true
		s.MustDefine(p)
		if h := keyOf(t, s, 1); h != "" {
			t.Errorf("a definition set the hash %q", h)
		}
	})
	t.Run("NewKeyReplacesOld", func(t *testing.T) {
		s, p := keyedServer(t, "k1")
		p.Key = statesrv.Ptr("k2")
		s.MustDefine(p)
		mustRefuse(t, s, "k1")
		mustAccept(t, s, "k2")
	})
	t.Run("AcceptedAfterRestartAndRebuild", func(t *testing.T) {
		s, _ := keyedServer(t, "k1")
		s.Restart()
		mustAccept(t, s, "k1")
		mustRefuse(t, s, "k2")
		if _, _, err := s.Runner.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		var h string
		s.Runner.View(func(c *projections.Core) { h = c.Procs[1].KeyHash })
		if !statesrv.KeyMatches(h, "k1") {
			t.Errorf("rebuilt views hold hash %q", h)
		}
		s.Restart()
		mustAccept(t, s, "k1")
	})
	t.Run("ApplyLeftOutKeepsIt", func(t *testing.T) {
		s, p := keyedServer(t, "k1")
		p.Key = nil
		if rc, done, err := s.Service.ApplyDefinitions([]statesrv.Process{p}, nil, statesrv.ActorCLI); err != nil || rc != nil {
			t.Fatalf("apply without the key: %v, %v (changed %v)", rc, err, done)
		}
		mustAccept(t, s, "k1")
	})
}
