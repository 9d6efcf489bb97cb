package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/statesrv/statesrv/client"
)

// BenchmarkPagesUnderIngest measures how long dashboard pages take while
// the server takes reports at full speed: the Runner holds the views' lock
// while it applies a batch, so pages wait for it. One browser-like client
// fetches the overview and the history page in turn, as fast as it can,
// for as long as the load runs.
func BenchmarkPagesUnderIngest(b *testing.B) {
	for b.Loop() {
		m := openLoadServer(b, b.TempDir())
		base := "http://" + m.HTTPAddr
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		res, err := c.PostForm(base+"/login", url.Values{"user": {"admin"}, "password": {"pw"}})
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("login: %v %v", err, res)
		}
		res.Body.Close()

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		pages := []string{"/", "/history"}
		lat := map[string][]time.Duration{}
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ctx.Err() == nil && i < 100_000; i++ {
				p := pages[i%len(pages)]
				start := time.Now()
				res, err := c.Get(base + p)
				if err != nil {
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Errorf("GET %s: status %d", p, res.StatusCode)
					return
				}
				lat[p] = append(lat[p], time.Since(start))
			}
		})
		load, err := client.Load(ctx, client.LoadConfig{Addr: m.TCPAddr, Conns: 50, Reports: benchReports(),
			Window: 16, ID: 1, State: "OK", Duration: 2 * time.Minute})
		cancel()
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		// How far the views were behind the log when the load ended.
		end, caught := time.Now(), m.Log.LastSeq()
		wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
		if err := m.Runner.WaitFor(wctx, caught); err != nil {
			b.Fatal(err)
		}
		wcancel()
		b.ReportMetric(float64(time.Since(end).Microseconds())/1000, "views-lag-ms")
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(load.PerSecond, "reports/s")
		for _, p := range pages {
			d := lat[p]
			if len(d) == 0 {
				b.Fatalf("no answer from %s", p)
			}
			slices.Sort(d)
			name := "overview"
			if p != "/" {
				name = "history"
			}
			b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
			b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, name+"-p99-ms")
			b.ReportMetric(float64(d[len(d)-1].Microseconds())/1000, name+"-max-ms")
			b.ReportMetric(float64(len(d)), name+"-requests")
		}
	}
}
