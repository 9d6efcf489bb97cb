//go:build !unix

package main

import "os"

// notifyReload does nothing: this system has no SIGHUP.
func notifyReload(chan<- os.Signal) bool { return false }
