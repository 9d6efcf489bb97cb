//go:build unix

package eventlog

import (
	"fmt"
	"syscall"
)

// freeSpace refuses writes when the disk under dir is nearly full: Badger
// memory-maps its files and dies with SIGBUS when they cannot grow, so the
// log keeps head-room instead of finding out.
type freeSpace struct {
	dir string
	min int64 // bytes; <= 0 disables the check
}

// check returns ErrDiskFull when fewer than min bytes are free.
func (f freeSpace) check() error {
	if f.dir == "" || f.min <= 0 {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(f.dir, &st); err != nil {
		return nil // the directory may not exist yet; Badger reports that
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if free < f.min {
		return fmt.Errorf("%w: %d MiB free under %s, %d MiB needed", ErrDiskFull,
			free>>20, f.dir, f.min>>20)
	}
	return nil
}
