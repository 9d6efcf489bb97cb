package eventlog_test

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/statesrv/statesrv/eventlog"
)

// ReadTestdata reads a log exported as JSON lines (statesrv replay --json).
func readJSONL(t *testing.T, path string) []eventlog.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []eventlog.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e eventlog.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, e)
	}
	return out
}

// TestVersion1LogStillChains checks that a log written by the first version
// of the envelope still verifies: the hash covers the binary envelope, so
// any change to its encoding breaks this test.
func TestVersion1LogStillChains(t *testing.T) {
	evs := readJSONL(t, "testdata/v1-events.jsonl")
	if len(evs) == 0 {
		t.Fatal("empty testdata")
	}
	var prev [32]byte
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
		if got := e.ChainHash(prev); got != e.Hash {
			t.Fatalf("event %d (%s): hash does not chain: the envelope encoding changed", e.Seq, e.Type)
		}
		prev = e.Hash
	}
}
