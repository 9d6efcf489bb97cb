//go:build unix

package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFloodOfUnknownLinesBoundsDataDir sends, from one address, 20,000
// lines of 4 KB for processes that do not exist (SPEC §10): every line is
// answered, and the data directory grows by at most 32 MiB.
func TestFloodOfUnknownLinesBoundsDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 80 MB of reports")
	}
	const lines, limit = 20_000, 32 << 20
	s := MustOpenServer(t)
	before := diskUsage(t, s.dir)
	conn, err := net.DialTimeout("tcp", s.TCPAddr, ioWait)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pad := strings.Repeat("x", 4000)
	sent := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(conn)
		for i := range lines {
			fmt.Fprintf(w, "#id=%d;state=OK;pad=%s\n", 100000+i, pad)
		}
		sent <- w.Flush()
	}()
	rd := bufio.NewReader(conn)
	for i := range lines {
		conn.SetReadDeadline(time.Now().Add(ioWait))
		reply, err := rd.ReadString('\n')
		if err != nil || !strings.HasPrefix(reply, "ACK ") {
			t.Fatalf("line %d: %q, %v", i+1, reply, err)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	s.MustClose() // the stores flush their memtables
	grew := diskUsage(t, s.dir) - before
	t.Logf("%d lines of 4 KB: the data directory grew by %.1f MiB", lines, float64(grew)/(1<<20))
	if grew > limit {
		t.Fatalf("the data directory grew by %d bytes, more than %d", grew, limit)
	}
}

// diskUsage is the space the files under dir take on disk, as du counts
// it (preallocated but unwritten parts of a file take none).
func diskUsage(tb testing.TB, dir string) int64 {
	tb.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += int64(st.Blocks) * 512
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
