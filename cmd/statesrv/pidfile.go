package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// writePIDFile writes this process's pid to path (serve --pid-file). It
// refuses when the file names another process that is still running; a
// file left by a process that is gone (a crash, a kill -9) is replaced.
func writePIDFile(path string) error {
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
		if pid, ok := readPIDFile(path); ok && pid != os.Getpid() && processRunning(pid) {
			return fmt.Errorf("pid file %s: process %d is still running", path, pid)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pid file: remove stale: %w", err)
		}
	}
	return fmt.Errorf("pid file %s: another process keeps creating it", path)
}

// readPIDFile returns the pid the file at path names.
func readPIDFile(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

// removePIDFile removes the pid file if it still names this process.
func removePIDFile(path string) error {
	if pid, ok := readPIDFile(path); !ok || pid != os.Getpid() {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}
