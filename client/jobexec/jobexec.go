// Package jobexec runs a job under the report client, as "statesrv exec"
// does: it reports START, runs the command with its arguments as given (no
// shell), passes its input and output through while keeping the last lines,
// then reports OK (exit 0) or FAIL with the exit code, the duration and those
// lines. The job matters more than the monitor: a report that cannot be
// delivered is a warning, never a reason to fail or delay the job.
package jobexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv/client"
	"github.com/statesrv/statesrv/textfmt"
)

// DefaultTail is the number of lines of output an end report carries by
// default.
const DefaultTail = 10

// Exit codes and bounds of a job run.
const (
	// outputGrace is how long Run still passes on output after the job
	// exited, while processes the job left behind hold its stdout or
	// stderr open; then it stops reading them and reports.
	outputGrace = 5 * time.Second
	// Exit codes of a job that could not be started, as shells use them.
	codeNotFound      = 127
	codeNotExecutable = 126
)

// Job is one run of a command, reported to the server.
type Job struct {
	// Server is the HOST:PORT of the report port.
	Server string
	// Report names the process: ID, Name and Key. The rest is set per
	// report.
	Report client.Report
	// Retry says how each report is retried while the server is
	// unreachable.
	Retry client.Retry
	// Tail is the number of lines of output the end report carries.
	Tail int
	// Argv is the command and its arguments.
	Argv []string

	// Stdin, Stdout and Stderr are the job's; Stderr also takes the
	// warnings of Run. Stdin may be nil.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Run runs the job and reports on it, and returns the job's exit code: 127
// (126) when the command is not found (not executable), 128+n when signal
// n killed it on Unix. A report that cannot be delivered is a warning on
// Stderr. Signals do not end Run; they are passed to the job, and once the
// job has ended, a signal stops the retries of the end report.
func (j *Job) Run(ctx context.Context) int {
	// One lock for both: they may be one file, and Run's warnings
	// interleave with the job's output.
	var mu sync.Mutex
	stdout := &lockedWriter{mu: &mu, w: j.Stdout}
	stderr := &lockedWriter{mu: &mu, w: j.Stderr}

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, signals()...)
	defer signal.Stop(sigs)
	// The reports outlive ctx, which the first SIGINT or SIGTERM ends
	// while the job may go on for long.
	reportCtx, stopReports := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReports()

	tail := newLineTail(j.Tail)
	cmd := exec.Command(j.Argv[0], j.Argv[1:]...)
	cmd.Stdin = j.Stdin
	cmd.Stdout = tail.tee(stdout)
	if sameDestination(j.Stdout, j.Stderr) {
		// One pipe for both keeps the lines in the order the job wrote
		// them, in the tail as in the output. (os/exec gives the job one
		// pipe when Stdout and Stderr are the same writer.)
		cmd.Stderr = cmd.Stdout
	} else {
		cmd.Stderr = tail.tee(stderr)
	}
	cmd.WaitDelay = outputGrace
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		code := codeNotFound
		if errors.Is(err, os.ErrPermission) {
			code = codeNotExecutable
		}
		fmt.Fprintf(stderr, "statesrv exec: %v\n", err)
		j.send(reportCtx, stderr, "FAIL", &code, fmt.Sprintf("exit %d: cannot start: %v", code, err))
		return code
	}

	started := make(chan struct{})
	go func() {
		defer close(started)
		j.send(reportCtx, stderr, "START", nil, "")
	}()
	exited, forwarded := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case sig := <-sigs:
				select {
				case <-exited:
					stopReports()
					return
				default:
					forward(cmd.Process, sig)
				}
			case <-reportCtx.Done():
				return
			}
		}
	}()

	err := cmd.Wait()
	close(exited)
	took := time.Since(begin)
	if errors.Is(err, exec.ErrWaitDelay) {
		fmt.Fprintf(stderr, "statesrv exec: stopped passing on output %v after the job exited: processes it started still hold it\n", outputGrace)
	}
	code := 1
	if cmd.ProcessState != nil {
		code = exitStatus(cmd.ProcessState)
	} else {
		fmt.Fprintf(stderr, "statesrv exec: %v\n", err)
	}
	state := "OK"
	if code != 0 {
		state = "FAIL"
	}
	// The end report goes after START has been answered or given up on,
	// so that it finds the run START opened.
	<-started
	j.send(reportCtx, stderr, state, &code, endMessage(code, took, tail.lines()))
	stopReports()
	<-forwarded
	return code
}

// sameDestination reports whether a and b write to the same place: the
// same writer, or two files on one file, pipe or terminal (a job under
// cron, whose output is mailed, or a terminal). Two pipes read by two
// goroutines cannot tell which of two writes came first, so Run merges
// the job's stdout and stderr into one pipe when they end up in one place
// anyway; output that goes to two places is kept in the order it is read.
func sameDestination(a, b io.Writer) bool {
	fa, okA := a.(*os.File)
	fb, okB := b.(*os.File)
	if !okA || !okB {
		return sameWriter(a, b)
	}
	if fa == fb {
		return true
	}
	ia, errA := fa.Stat()
	ib, errB := fb.Stat()
	return errA == nil && errB == nil && os.SameFile(ia, ib)
}

// sameWriter reports whether a == b, false for writers that cannot be
// compared.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// send delivers one report, with its own mid, retrying while the server is
// unreachable, and warns on stderr when that fails.
func (j *Job) send(ctx context.Context, stderr io.Writer, state string, code *int, msg string) {
	r := j.Report
	r.State, r.Code, r.Msg, r.MID = state, code, msg, uuid.NewString()
	policy := j.Retry
	policy.OnRetry = func(attempt int, err error, _ time.Duration) {
		if attempt == 1 {
			fmt.Fprintf(stderr, "statesrv exec: %s report not delivered yet, retrying for up to %v: %v\n", state, policy.For, err)
		}
	}
	if _, err := client.SendRetry(ctx, j.Server, r, policy); err != nil {
		fmt.Fprintf(stderr, "statesrv exec: warning: %s report not delivered to %s: %v\n", state, j.Server, err)
	}
}

// endMessage is the msg of the end report: "exit 1 after 1m2s: <last
// lines>", the lines joined by " | " and cut at the front so that the whole
// fits in client.MaxMsg characters.
func endMessage(code int, took time.Duration, lines []string) string {
	head := fmt.Sprintf("exit %d after %s", code, textfmt.Elapsed(took))
	if len(lines) == 0 {
		return head
	}
	head += ": "
	body := strings.Join(lines, " | ")
	room := client.MaxMsg - utf8.RuneCountInString(head)
	if n := utf8.RuneCountInString(body); n > room {
		body = "…" + textfmt.Tail(body, room-1)
	}
	return head + body
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// maxTailLine bounds what lineTail keeps of one line (its end): more could
// not be sent.
const maxTailLine = 4 * client.MaxMsg

// lineTail keeps the last lines written to any of its tees, cleaned for a
// report's msg (client.CleanValue) and without blank lines.
type lineTail struct {
	mu    sync.Mutex
	max   int
	ring  []string
	next  int // where the next line goes once ring is full
	parts []*tailTee
}

func newLineTail(max int) *lineTail { return &lineTail{max: max} }

// tee returns a writer that passes everything on to out and keeps its
// lines. A write to out that fails drops the output from then on but not
// the job: the job must not block on a pipe nobody reads.
func (t *lineTail) tee(out io.Writer) io.Writer {
	w := &tailTee{t: t, out: out}
	t.mu.Lock()
	t.parts = append(t.parts, w)
	t.mu.Unlock()
	return w
}

func (t *lineTail) add(line []byte) {
	if t.max == 0 {
		return
	}
	s := cleanLine(line)
	if s == "" {
		return
	}
	if len(t.ring) < t.max {
		t.ring = append(t.ring, s)
		return
	}
	t.ring[t.next] = s
	t.next = (t.next + 1) % t.max
}

// lines returns the kept lines, oldest first, ending with what each tee
// holds of an unfinished last line.
func (t *lineTail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.parts {
		if len(w.partial) > 0 {
			t.add(w.partial)
			w.partial = nil
		}
	}
	return append(append([]string(nil), t.ring[t.next:]...), t.ring[:t.next]...)
}

// cleanLine makes one line of output fit a msg value, cleaned as every
// report value is (client.CleanValue). A CR inside a line (a progress bar
// redrawing itself) keeps what the terminal would show: the text after the
// last CR.
func cleanLine(line []byte) string {
	s := strings.TrimSuffix(string(line), "\r")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > maxTailLine {
		s = s[len(s)-maxTailLine:]
	}
	return strings.TrimSpace(client.CleanValue(s))
}

// tailTee is one output stream of the job.
type tailTee struct {
	t       *lineTail
	out     io.Writer
	outErr  error
	partial []byte // the stream's unfinished line
}

func (w *tailTee) Write(p []byte) (int, error) {
	n := len(p)
	if w.outErr == nil {
		_, w.outErr = w.out.Write(p)
	}
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			if len(w.partial) > 2*maxTailLine {
				w.partial = append(w.partial[:0], w.partial[len(w.partial)-maxTailLine:]...)
			}
			break
		}
		line := p[:i]
		if len(w.partial) > 0 {
			line = append(w.partial, line...)
			w.partial = w.partial[:0]
		}
		w.t.add(line)
		p = p[i+1:]
	}
	return n, nil
}
