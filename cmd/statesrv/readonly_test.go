package main

import (
	"github.com/statesrv/statesrv/eventlog/logtest"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
)

// TestReadOnlyAudit audits a copy of a stopped server's data directory
// that cannot be written: verify, replay, state and backup work and change
// no file; a command that must write names what it may not write.
func TestReadOnlyAudit(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(statesrv.Process{ID: 26, Name: "NightlyExport", Enabled: true})
	c := s.MustDial()
	c.MustAck("#id=26;state=OK;mid=a")
	c.MustAck("#id=26;state=FAIL;msg=disk full")
	last := s.Log.LastSeq()
	s.MustClose()

	// audit runs the read-only commands on data and checks their answers.
	audit := func(t *testing.T, data string) {
		t.Helper()
		if res := runCLI("verify", "--data", data); res.code != 0 || !strings.HasPrefix(res.stdout, "ok: ") {
			t.Errorf("verify: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
		res := runCLI("replay", "--data", data, "--json")
		if res.code != 0 || strings.Count(res.stdout, "\n") != int(last) || !strings.Contains(res.stdout, "disk full") {
			t.Errorf("replay: exit %d, %d lines (want %d), stderr %q", res.code, strings.Count(res.stdout, "\n"), last, res.stderr)
		}
		if res := runCLI("state", "--data", data, "--seq", "1"); res.code != 0 {
			t.Errorf("state: exit %d, stderr %q", res.code, res.stderr)
		}
		if res := runCLI("backup", "--data", data); res.code != 0 || !strings.Contains(res.stdout, "disk full") {
			t.Errorf("backup: exit %d, stderr %q", res.code, res.stderr)
		}
	}

	t.Run("Chmod", func(t *testing.T) {
		data := copyData(t, s.dir)
		chmodTree(t, data, 0o444, 0o555)
		t.Cleanup(func() { chmodTree(t, data, 0o644, 0o755) })
		// As root the permission bits stop nothing: that no file changed
		// is what shows the log was opened read-only.
		before := logtest.Files(t, data)
		audit(t, data)
		logtest.SameFiles(t, before, logtest.Files(t, data))
		if os.Geteuid() == 0 {
			return
		}
		res := runCLI("rebuild", "--data", data)
		if res.code != 1 || !strings.Contains(res.stderr, "permission denied") || strings.Contains(res.stderr, "server") {
			t.Errorf("rebuild of a read-only copy: exit %d, stderr %q; want permission denied on a path", res.code, res.stderr)
		}
	})

	t.Run("ReadOnlyMount", func(t *testing.T) {
		data := mountReadOnly(t, copyData(t, s.dir))
		before := logtest.Files(t, data)
		audit(t, data)
		logtest.SameFiles(t, before, logtest.Files(t, data))
		logDir := filepath.Join(data, "log")
		want := "write " + logDir + ": read-only file system"
		for _, args := range [][]string{{"rebuild", "--data", data}, {"user", "reset-password", "admin", "--data", data}} {
			res := runCLI(args...)
			if res.code != 1 || !strings.Contains(res.stderr, want) || strings.Contains(res.stderr, "server") {
				t.Errorf("%s on a read-only mount: exit %d, stderr %q; want %q", args[0], res.code, res.stderr, want)
			}
		}
	})
}

// copyData copies the data directory src into a new directory.
func copyData(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// chmodTree gives every file under dir the mode file and every directory
// the mode dirMode.
func chmodTree(t *testing.T, dir string, file, dirMode fs.FileMode) {
	t.Helper()
	var paths []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		paths = append(paths, path)
		return err
	})
	for _, p := range paths {
		mode := file
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			mode = dirMode
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// mountReadOnly bind-mounts dir read-only and returns the mount point, or
// skips the test saying why it cannot.
func mountReadOnly(t *testing.T, dir string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("read-only bind mounts are tested on Linux only")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "--bind", dir, mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot bind-mount here (needs root or CAP_SYS_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only here: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(mnt, "probe"), nil, 0o644); err == nil {
		t.Fatal("the read-only mount took a write: the test would prove nothing")
	}
	return mnt
}
