//go:build unix

package eventlog

import (
	"path/filepath"
	"syscall"
)

// diskFree returns the bytes an unprivileged writer may still use on the
// file system holding dir.
func diskFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// UnflushedWAL reports whether dir holds a memtable's write-ahead log (a
// *.mem file) not fully allocated on disk. Badger reads past its end while
// opening, and on a full tmpfs even a read of an unallocated page of a
// shared mapping needs a new page: SIGBUS. Such a directory must not be
// opened, even read-only, until there is room.
func UnflushedWAL(dir string) bool {
	mems, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	for _, m := range mems {
		var st syscall.Stat_t
		if syscall.Stat(m, &st) == nil && st.Size > 0 && st.Blocks*512 < st.Size {
			return true
		}
	}
	return false
}
