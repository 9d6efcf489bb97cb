package crontab

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// WrapOptions are the settings of Wrap.
type WrapOptions struct {
	// Bin is the statesrv command as cron should run it ("" means
	// "statesrv").
	Bin string
	// Server is the report port the jobs report to, HOST:PORT ("" leaves
	// exec's default).
	Server string
	// System reads the system crontab format (a user field).
	System bool
}

// Wrap rewrites the crontab raw so that the job on each line named in ids
// (line number, from 1, to process id) runs through "statesrv exec --id N
// --", which reports its start and end. The schedule, the user field and
// the job's input (what follows an unescaped '%') stay as they were, and
// so does every other line, byte for byte. The job's command runs as cron
// ran it: through the shell of the last SHELL= line before it (default
// /bin/sh) with "-c", or, when it is a program path and plain words only,
// directly. It returns an error for a line in ids that is not a job line.
func Wrap(raw []byte, ids map[int]int64, opt WrapOptions) ([]byte, error) {
	bin := opt.Bin
	if bin == "" {
		bin = "statesrv"
	}
	lines := strings.SplitAfter(string(raw), "\n")
	shell := "/bin/sh"
	var b strings.Builder
	for i, line := range lines {
		n := i + 1
		body, end := cutEnd(line)
		if m := envLine.FindStringSubmatch(strings.TrimSpace(body)); m != nil && m[1] == "SHELL" {
			shell = cmp.Or(unquote(strings.TrimSpace(m[2])), "/bin/sh")
		}
		id, ok := ids[n]
		if !ok {
			b.WriteString(line)
			continue
		}
		wrapped, err := wrapLine(body, id, shell, bin, opt)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		b.WriteString(wrapped + end)
	}
	return []byte(b.String()), nil
}

// cutEnd splits a line from its end: "\n", "\r\n" or nothing.
func cutEnd(line string) (body, end string) {
	if s, ok := strings.CutSuffix(line, "\r\n"); ok {
		return s, "\r\n"
	}
	if s, ok := strings.CutSuffix(line, "\n"); ok {
		return s, "\n"
	}
	return line, ""
}

// wrapLine rewrites one job line.
func wrapLine(line string, id int64, shell, bin string, opt WrapOptions) (string, error) {
	if p, _, problem := cronJob(strings.TrimSpace(line), opt.System); problem != "" || p.Schedule == "" {
		return "", fmt.Errorf("not a job line (%s)", problem)
	}
	at := commandAt(line, opt.System)
	head, raw := line[:at], line[at:]
	cmd, input := raw, ""
	if i := inputAt(raw); i >= 0 {
		cmd, input = raw[:i], raw[i:]
	} else {
		cmd = strings.TrimRightFunc(cmd, unicode.IsSpace)
	}
	run := cronCommand(cmd)
	words := shellQuote(bin) + " exec --id " + strconv.FormatInt(id, 10)
	if opt.Server != "" {
		words += " --server " + shellQuote(opt.Server)
	}
	if direct(run) {
		words += " -- " + strings.Join(strings.Fields(run), " ")
	} else {
		words += " -- " + shellQuote(shell) + " -c " + shellQuote(run)
	}
	return head + cronEscape(words) + input, nil
}

// commandAt returns where the command of a job line starts: after the
// schedule (five fields or a descriptor) and, in the system format, the
// user.
func commandAt(line string, system bool) int {
	rest := strings.TrimLeftFunc(line, unicode.IsSpace)
	n := 5
	if strings.HasPrefix(rest, "@") {
		n = 1
	}
	if system {
		n++
	}
	for range n {
		_, rest = nextField(rest)
	}
	return len(line) - len(strings.TrimLeftFunc(rest, unicode.IsSpace))
}

// inputAt returns the index of the '%' that ends the command cron runs
// (see cronCommand), or -1 when there is none.
func inputAt(cmd string) int {
	for i := 0; i < len(cmd); i++ {
		switch {
		case cmd[i] == '\\' && i+1 < len(cmd):
			i++
		case cmd[i] == '%':
			return i
		}
	}
	return -1
}

var plainWords = regexp.MustCompile(`^[A-Za-z0-9_@%+:,./-]+( +[A-Za-z0-9_@%+:,./=-]+)*$`)

// direct reports whether a command can run without a shell: a program
// named by its path (so no builtin, alias or function) and words that no
// shell would expand, quote or split otherwise.
func direct(cmd string) bool {
	cmd = strings.TrimSpace(cmd)
	first, _ := nextField(cmd)
	return plainWords.MatchString(cmd) && strings.Contains(first, "/")
}

// wrappedID returns the process id of a command that already runs through
// "statesrv exec ... --id N ... --" (as Wrap writes it), and false for any
// other.
func wrappedID(cmd string) (int64, bool) {
	words := shellFields(cmd)
	if len(words) < 2 || words[1] != "exec" {
		return 0, false
	}
	// Every flag of exec takes a value: "--name value" or "--name=value".
	var id string
	for i := 2; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			n, err := strconv.ParseInt(id, 10, 64)
			return n, err == nil && n > 0
		}
		if !strings.HasPrefix(w, "-") {
			return 0, false
		}
		name, value, ok := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !ok && i+1 < len(words) {
			i++
			value = words[i]
		}
		if name == "id" {
			id = value
		}
	}
	return 0, false
}

// shellFields splits cmd into words roughly as sh does, enough to read the
// words Wrap writes: blanks separate, single quotes keep everything, a
// backslash keeps the next character, double quotes keep blanks.
func shellFields(cmd string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == '\'':
			w.WriteByte(c)
		case c == '\\' && i+1 < len(cmd):
			i++
			w.WriteByte(cmd[i])
			inWord = true
		case quote != 0:
			w.WriteByte(c)
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}
