// actormq: this file is not in upstream gnet (see ACTORMQ.md).

package io

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// RawRead is unix.Read made as a raw syscall, for non-blocking descriptors
// only: the call never waits, and it copies at most len(p) bytes. It returns
// what unix.Read returns: n (-1 on an error) and the errno as an error, the
// common ones (EAGAIN) boxed once, so it does not allocate. EINTR is returned
// as it is, as unix.Read returns it.
//
// Why not unix.Read: it enters through the runtime's syscall entry, and on
// loopback the kernel runs TCP work inside the call (the ACK or window
// update a read sends is processed inline, and may make the peer transmit),
// so a read can outlast a sysmon tick; while the other P is busy, sysmon
// then hands the reader's P to another thread, which wakes (futex), finds
// the CPUs taken and parks again, and sysmon keeps polling every 20 µs.
// The cost of a raw call: a stop-the-world waits until it returns, which
// is bounded here by the length of p.
//
// Left out: unix.Read's race detector annotations (the netio client's raw
// calls leave them out too).
func RawRead(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	} else {
		ptr = unsafe.Pointer(&zero)
	}
	r0, _, e1 := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e1 != 0 {
		return int(r0), errnoErr(e1)
	}
	return int(r0), nil
}

// RawWrite is unix.Write made as a raw syscall, for non-blocking
// descriptors only, with RawRead's conventions and reasons. The caller
// bounds len(p) (RawWriteBytesMax): the call copies all it can of p, and a
// page of p that is not in memory (a mapped file) is read from disk inside
// the call.
func RawWrite(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	} else {
		ptr = unsafe.Pointer(&zero)
	}
	r0, _, e1 := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e1 != 0 {
		return int(r0), errnoErr(e1)
	}
	return int(r0), nil
}

// RawWriteBytesMax is the largest write gnet makes with RawWrite, as netio's
// own raw writes (rawWritevBytesMax): 64 KiB, a few µs of copying. Larger
// writes go through unix.Write.
const RawWriteBytesMax = 64 << 10

var zero uintptr

var errEAGAIN error = unix.EAGAIN

// errnoErr boxes EAGAIN once, as x/sys/unix does. Other errnos are small
// integers, which the runtime boxes without allocating.
func errnoErr(e unix.Errno) error {
	if e == unix.EAGAIN {
		return errEAGAIN
	}
	return e
}
