package web

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLiveOutlivesServerTimeouts checks that the event stream stays open
// past the server's read and write timeouts, which end ordinary requests.
func TestLiveOutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushProcess(1, "job", time.Hour))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	srv := &http.Server{Handler: e.Handler, ReadTimeout: timeout, WriteTimeout: timeout, ReadHeaderTimeout: timeout}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/live", nil)
	for _, c := range e.Client.Jar.Cookies(mustURL(t, e.Server.URL)) {
		req.AddCookie(c)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitData := func() string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("the stream ended")
				}
				if d, ok := strings.CutPrefix(l, "data: "); ok {
					return d
				}
			case <-ctx.Done():
				t.Fatal("no event within the timeout")
			}
		}
	}
	first := waitData()
	// Let both server timeouts pass, then make the views advance.
	<-time.After(3 * timeout)
	e.report(t, "#id=1;state=OK")
	if got := waitData(); got == first {
		t.Fatalf("after a report the stream says seq %s again", got)
	}
}
