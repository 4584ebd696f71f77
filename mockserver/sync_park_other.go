//go:build !unix

package mockserver

import "net"

// Without a peek at the socket a parked long-poll could not see its client
// go, so long-polls wait in their handlers.
const canSeeHangUps = false

func hungUp(net.Conn) bool { return false }
