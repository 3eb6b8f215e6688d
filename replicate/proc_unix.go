//go:build unix

package replicate

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// processAlive reports whether a process with this pid exists on this
// machine (in this pid namespace). A process owned by another user counts.
func processAlive(pid int) bool {
	if pid <= 0 {
		return true // unknown: assume alive
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// canProveGone reports whether processAlive can prove a process gone.
const canProveGone = true

// hostIdentity returns what identifies this machine and process namespace:
// the host name, and on Linux the boot id and the pid namespace, so that a
// container with the same host name but other processes is not taken for
// this one.
func hostIdentity() string {
	parts := []string{hostName()}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		parts = append(parts, strings.TrimSpace(string(b)))
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		parts = append(parts, ns)
	}
	return strings.Join(parts, "|")
}
