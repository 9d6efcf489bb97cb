//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyReload sends SIGHUP to c; it reports whether the system has it.
func notifyReload(c chan<- os.Signal) bool {
	signal.Notify(c, syscall.SIGHUP)
	return true
}
