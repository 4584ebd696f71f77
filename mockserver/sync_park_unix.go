//go:build unix

package mockserver

import (
	"errors"
	"net"
	"syscall"
)

const canSeeHangUps = true

// hungUp reports whether the client closed its end of conn, or conn
// failed, without waiting and without taking what the client sent: a peek
// that finds the end of the stream, or an error other than "nothing yet".
func hungUp(conn net.Conn) bool {
	if rc, ok := conn.(*reusableConn); ok {
		conn = rc.Conn
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	gone := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = (n == 0 && err == nil) || (err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR))
		return true
	})
	return gone || err != nil
}
