package cli

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// setParentDeathSignal asks Linux to send SIGTERM when the parent process ends.
func setParentDeathSignal() {
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
}
