//go:build !unix

package replicate

// processAlive cannot tell on this system: every process is assumed alive,
// so a lease is only taken over once it has expired.
func processAlive(int) bool { return true }

// canProveGone reports whether processAlive can prove a process gone.
const canProveGone = false

// hostIdentity returns what identifies this machine: its host name.
func hostIdentity() string { return hostName() }
