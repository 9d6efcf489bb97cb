//go:build !unix

package eventlog

import "errors"

// diskFree is not measured on this platform: HeadRoom lets every write
// through and Badger's own errors stand.
func diskFree(string) (int64, error) { return 0, errors.ErrUnsupported }

// UnflushedWAL is never known on this platform.
func UnflushedWAL(string) bool { return false }
