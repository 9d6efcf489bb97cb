//go:build !unix

package eventlog

import "strings"

// lockHeld reports whether Badger refused to open because another process
// has the directory open; on this platform only Badger's message says so.
func lockHeld(_ string, _ bool, err error) bool {
	return strings.Contains(err.Error(), "Another process is using this Badger database")
}

// access is not checked on this platform; Badger's own errors stand.
func access(string, bool) error { return nil }
