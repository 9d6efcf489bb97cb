// Package pidfile writes the file that names a running server's process
// (serve --pid-file) and removes it at the end: a file left by a process
// that is gone is replaced, one that names a running process is refused.
package pidfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Write writes this process's pid to path. It returns an error when the
// file names another process that is still running, or cannot be written;
// a file left by a process that is gone (a crash, a kill -9) is replaced.
func Write(path string) error {
	for range 3 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d\n", os.Getpid())
			if err := errors.Join(werr, f.Close()); err != nil {
				os.Remove(path)
				return fmt.Errorf("pid file: %w", err)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("pid file: %w", err)
		}
		if pid, ok := Read(path); ok && pid != os.Getpid() && processRunning(pid) {
			return fmt.Errorf("pid file %s: process %d is still running", path, pid)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pid file: remove stale: %w", err)
		}
	}
	return fmt.Errorf("pid file %s: another process keeps creating it", path)
}

// Read returns the pid the file at path names, and false when it names
// none (no file, no number).
func Read(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

// Remove removes the file at path if it still names this process; a file
// that names another, or none, is left alone.
func Remove(path string) error {
	if pid, ok := Read(path); !ok || pid != os.Getpid() {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}
