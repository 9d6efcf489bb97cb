package projections_test

import (
	"context"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// TestEveryRegisteredTypeIsInterned checks that reading an event of any
// registered type allocates no string for its type: two reads return the
// same string.
func TestEveryRegisteredTypeIsInterned(t *testing.T) {
	v := newViews(t)
	types := statesrv.EventTypeNames()
	var recs []eventlog.Record
	for _, typ := range types {
		recs = append(recs, rec(t0, typ, 0, struct{}{}))
	}
	v.append(recs...)
	read := func() []string {
		var out []string
		for e, err := range v.log.Range(context.Background(), 1, 0) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e.Type)
		}
		return out
	}
	first, second := read(), read()
	if !slices.Equal(first, types) {
		t.Fatalf("read types %v, want %v", first, types)
	}
	for i, typ := range types {
		if unsafe.StringData(first[i]) != unsafe.StringData(second[i]) {
			t.Errorf("%s is not interned: each read allocates its name", typ)
		}
	}
}

// TestEveryRegisteredTypeDecodes checks that the registry gives each type
// a payload that its data decodes into.
func TestEveryRegisteredTypeDecodes(t *testing.T) {
	seen := map[string]bool{}
	for i, typ := range statesrv.EventTypes() {
		if seen[typ.Name] {
			t.Errorf("%s registered twice", typ.Name)
		}
		seen[typ.Name] = true
		if statesrv.NewPayload(typ.Name) == nil {
			t.Errorf("%s has no payload", typ.Name)
		}
		e := &eventlog.Event{Seq: uint64(i + 1), Type: typ.Name, Data: []byte(`{}`)}
		p, err := projections.Decode(e)
		if err != nil || (p == nil) != (typ.Name == statesrv.EventMessageReceived) {
			t.Errorf("Decode(%s) = %T, %v", typ.Name, p, err)
		}
	}
	if statesrv.NewPayload("NoSuchType") != nil {
		t.Error("an unknown type has a payload")
	}
}

// TestEvents checks the audit log's query against a plain filter of the
// whole log: seq i is at t0 + i-1 minutes, about process i%3, of type
// TestA for odd i and TestB for even i, by actor x below 16 and y after.
func TestEvents(t *testing.T) {
	v := newViews(t)
	var all []eventlog.Event
	for i := 1; i <= 30; i++ {
		typ := "TestB"
		if i%2 == 1 {
			typ = "TestA"
		}
		r := rec(t0.Add(time.Duration(i-1)*time.Minute), typ, int64(i%3), struct{}{})
		if i >= 16 {
			r.Actor = "y"
		} else {
			r.Actor = "x"
		}
		all = append(all, v.append(r)...)
	}
	v.catchUp()
	want := func(f projections.EventFilter, keep func(seq uint64) bool) []uint64 {
		var out []uint64
		for _, e := range all {
			if keep(e.Seq) {
				out = append(out, e.Seq)
			}
		}
		if f.NewestFirst {
			slices.Reverse(out)
		}
		if f.Limit > 0 && len(out) > f.Limit {
			out = out[:f.Limit]
		}
		return out
	}
	tests := []struct {
		name       string
		f          projections.EventFilter
		keep       func(seq uint64) bool
		next, upTo uint64
	}{
		{"All", projections.EventFilter{}, func(uint64) bool { return true }, 0, 0},
		{"TypeAndLimit", projections.EventFilter{Type: "TestA", Limit: 4},
			func(s uint64) bool { return s%2 == 1 }, 7, 0},
		{"ProcessAfter", projections.EventFilter{ProcessID: 2, After: 5, Limit: 3},
			func(s uint64) bool { return s%3 == 2 && s > 5 }, 14, 0},
		{"ActorTimeRange", projections.EventFilter{Actor: "y", From: t0.Add(10 * time.Minute), To: t0.Add(20 * time.Minute)},
			func(s uint64) bool { return s >= 16 && s <= 20 }, 0, 0},
		{"ToBeforeTheFirst", projections.EventFilter{To: t0}, func(uint64) bool { return false }, 0, 0},
		{"NewestFirst", projections.EventFilter{NewestFirst: true, Limit: 5},
			func(uint64) bool { return true }, 26, 0},
		{"NewestFirstLastPage", projections.EventFilter{NewestFirst: true, Limit: 5, Before: 6},
			func(s uint64) bool { return s < 6 }, 0, 0},
		{"NewestFirstProcess", projections.EventFilter{NewestFirst: true, ProcessID: 1, Before: 20, Limit: 2},
			func(s uint64) bool { return s%3 == 1 && s < 20 }, 16, 0},
		{"BudgetForward", projections.EventFilter{Type: "none", Budget: 10},
			func(uint64) bool { return false }, 0, 10},
		{"BudgetNewestFirst", projections.EventFilter{Type: "none", Budget: 10, NewestFirst: true},
			func(uint64) bool { return false }, 0, 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stores := map[string]*projections.Store{"Scan": nil}
			if tt.f.ProcessID != 0 {
				stores["Index"] = v.store
			}
			for how, store := range stores {
				page, err := projections.Events(context.Background(), v.log, store, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []uint64
				for _, e := range page.Events {
					got = append(got, e.Seq)
				}
				if w := want(tt.f, tt.keep); !slices.Equal(got, w) {
					t.Errorf("%s: seqs %v, want %v", how, got, w)
				}
				if page.Next != tt.next || page.SearchedTo != tt.upTo {
					t.Errorf("%s: next %d, searched to %d; want %d, %d", how, page.Next, page.SearchedTo, tt.next, tt.upTo)
				}
			}
		})
	}
}
