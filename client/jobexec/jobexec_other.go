//go:build !unix

package jobexec

import "os"

// signals are the signals Run takes while its job runs. On Windows
// the job shares exec's console and sees a Ctrl-C itself; exec only has to
// outlive it to report the job's end.
func signals() []os.Signal {
	return []os.Signal{os.Interrupt}
}

// forward does nothing: the job got the console's Ctrl-C already.
func forward(*os.Process, os.Signal) {}

// exitStatus is the job's exit code.
func exitStatus(ps *os.ProcessState) int {
	return ps.ExitCode()
}
