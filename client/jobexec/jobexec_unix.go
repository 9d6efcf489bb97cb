//go:build unix

package jobexec

import (
	"os"
	"syscall"
)

// signals are the signals Run passes on to its job.
func signals() []os.Signal {
	return []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}
}

// forward sends sig to the job. A Ctrl-C at a terminal reaches the job
// twice: from the terminal (the job is in exec's process group, so that it
// can still read the terminal) and from exec.
func forward(p *os.Process, sig os.Signal) {
	p.Signal(sig)
}

// exitStatus is the job's exit code as a shell gives it: 128+n when signal
// n killed it (137 for SIGKILL).
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
