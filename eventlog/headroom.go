package eventlog

import "fmt"

// DefaultHeadRoom is the free space below which the log and the views
// refuse writes: Badger memory-maps its files and dies with SIGBUS when
// one cannot grow, so it must never get near the end of the disk. It
// covers a flushed memtable (32 MiB) and the write-ahead log of the
// commits in between.
const DefaultHeadRoom = 64 << 20

// HeadRoom refuses writes when the disk under Dir is nearly full. Every
// write of the log (each commit, and Close) and of the views asks it first.
type HeadRoom struct {
	Dir string
	// Min is the head-room in bytes; <= 0 disables the check.
	Min int64
	// Free returns the bytes free under dir (nil: the file system's count,
	// where the platform has one). Tests put a full disk here.
	Free func(dir string) (int64, error)
}

// Check returns an error wrapping ErrDiskFull when fewer than Min plus
// extra bytes are free. A directory it cannot measure passes (Badger
// reports a missing one).
func (h HeadRoom) Check(extra int64) error {
	if h.Dir == "" || h.Min <= 0 {
		return nil
	}
	probe := h.Free
	if probe == nil {
		probe = diskFree
	}
	free, err := probe(h.Dir)
	if err != nil {
		return nil
	}
	if need := h.Min + extra; free < need {
		return fmt.Errorf("%w: %d MiB free under %s, %d MiB needed", ErrDiskFull,
			free>>20, h.Dir, need>>20)
	}
	return nil
}
