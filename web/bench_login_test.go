package web

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkParallelWrongLogins sends 100 wrong passwords for admin at once,
// from one address and from 100 addresses, and reports the peak of the heap
// in use while they are answered (sampled every millisecond; base-heap-MiB
// is the heap of the server's parts before the burst), how many were
// refused with 429, and the time until the last answer.
func BenchmarkParallelWrongLogins(b *testing.B) {
	for _, addrs := range []int{1, 100} {
		b.Run(fmt.Sprintf("addresses=%d", addrs), func(b *testing.B) {
			var base, peak, refused uint64
			for range b.N {
				b.StopTimer()
				e := newEnv(b)
				clients := make([]*http.Client, addrs)
				for i := range clients {
					clients[i] = e.clientFrom(fmt.Sprintf("127.0.0.%d", 10+i))
				}
				runtime.GC()
				base = max(base, heapInUse())
				stop := make(chan struct{})
				sampled := make(chan uint64)
				go func() { sampled <- samplePeakHeap(stop) }()
				b.StartTimer()
				var wg sync.WaitGroup
				var n429 atomic.Uint64
				for i := range 100 {
					wg.Go(func() {
						status, _, err := e.tryLogin(context.Background(), clients[i%addrs], "admin", "wrong")
						if err != nil {
							b.Error(err)
						}
						if status == http.StatusTooManyRequests {
							n429.Add(1)
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				close(stop)
				peak = max(peak, <-sampled)
				refused += n429.Load()
			}
			b.ReportMetric(float64(base)/(1<<20), "base-heap-MiB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(refused)/float64(b.N), "429s/op")
		})
	}
}

// heapInUse returns the bytes of heap objects, live or not yet swept.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// samplePeakHeap returns the largest heap in use seen until stop closes.
func samplePeakHeap(stop <-chan struct{}) uint64 {
	var peak uint64
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		peak = max(peak, heapInUse())
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}
