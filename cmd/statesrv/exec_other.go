//go:build !unix

package main

import "os"

// execSignals are the signals exec takes while its job runs. On Windows
// the job shares exec's console and sees a Ctrl-C itself; exec only has to
// outlive it to report the job's end.
func execSignals() []os.Signal {
	return []os.Signal{os.Interrupt}
}

// forward does nothing: the job got the console's Ctrl-C already.
func forward(*os.Process, os.Signal) {}

// exitStatus is the job's exit code.
func exitStatus(ps *os.ProcessState) int {
	return ps.ExitCode()
}
