package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// fqName finds a metric's name in the text of its Desc.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// TestEveryMetricDocumented fails when a statesrv_* metric that New
// registers is missing from the metrics table of docs/SPEC.md.
func TestEveryMetricDocumented(t *testing.T) {
	spec, err := os.ReadFile("../docs/SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(spec), "### Metrics")
	table, _, _ = strings.Cut(table, "\n### ")
	m := New(Config{})
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range m.own {
			c.Describe(ch)
		}
		close(ch)
	}()
	n := 0
	for d := range ch {
		match := fqName.FindStringSubmatch(d.String())
		if match == nil {
			t.Fatalf("no name in %s", d)
		}
		n++
		if !strings.Contains(table, "| `"+match[1]+"` |") {
			t.Errorf("%s is not in the metrics table of docs/SPEC.md", match[1])
		}
	}
	if n < 15 {
		t.Errorf("only %d metrics described", n)
	}
}
