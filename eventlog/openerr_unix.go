//go:build unix

package eventlog

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lockHeld reports whether another process holds the lock that an open of
// dir takes (exclusive for a writable open, shared for a read-only one):
// Badger flocks the directory.
func lockHeld(dir string, exclusive bool, _ error) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		return err == syscall.EWOULDBLOCK
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// access returns the first of dir and its files that this process may not
// read (or, with write, write), as a *fs.PathError whose Op says which
// ("read", "write") and whose Err says why (permission denied, read-only
// file system); nil when every one is accessible.
func access(dir string, write bool) error {
	paths := []string{dir}
	entries, err := os.ReadDir(dir)
	if err == nil {
		for _, e := range entries {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	for _, p := range paths {
		mode := uint32(4) // R_OK
		if p == dir {
			mode |= 1 // X_OK
		}
		if err := syscall.Access(p, mode); err != nil {
			return &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if write {
			if err := syscall.Access(p, 2); err != nil { // W_OK
				return &fs.PathError{Op: "write", Path: p, Err: err}
			}
		}
	}
	return nil
}
