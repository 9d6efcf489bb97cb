package pidfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mustOwnPID fails the test unless the file at path names this process.
func mustOwnPID(t *testing.T, path string) {
	t.Helper()
	if pid, ok := Read(path); !ok || pid != os.Getpid() {
		b, _ := os.ReadFile(path)
		t.Fatalf("pid file holds %q, want %d", b, os.Getpid())
	}
}

func TestWrite(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "statesrv.pid")
		if err := Write(path); err != nil {
			t.Fatal(err)
		}
		mustOwnPID(t, path)
		if err := Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pid file after Remove: %v, want it gone", err)
		}
	})

	t.Run("ErrRunning", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "statesrv.pid")
		running := strconv.Itoa(os.Getppid()) + "\n" // the go command that runs the tests
		os.WriteFile(path, []byte(running), 0o644)
		if err := Write(path); err == nil || !strings.Contains(err.Error(), "still running") {
			t.Errorf("Write = %v, want an error that says the process is still running", err)
		}
		if b, _ := os.ReadFile(path); string(b) != running {
			t.Errorf("pid file changed to %q", b)
		}
	})

	for name, content := range map[string]string{
		"StaleReplaced":   strconv.Itoa(1<<30) + "\n", // above any system's pid limit
		"OwnPIDReplaced":  strconv.Itoa(os.Getpid()),  // a container's pid 1 again
		"GarbageReplaced": "not a pid",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "statesrv.pid")
			os.WriteFile(path, []byte(content), 0o644)
			if err := Write(path); err != nil {
				t.Fatal(err)
			}
			mustOwnPID(t, path)
		})
	}
}

func TestRemove(t *testing.T) {
	t.Run("NotRemovedWhenAnotherOwnsIt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "statesrv.pid")
		os.WriteFile(path, []byte(strconv.Itoa(os.Getpid()+1)), 0o644)
		if err := Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("another process's pid file was removed: %v", err)
		}
	})
	t.Run("NoFile", func(t *testing.T) {
		if err := Remove(filepath.Join(t.TempDir(), "none.pid")); err != nil {
			t.Errorf("Remove of a missing file = %v, want nil", err)
		}
	})
}
