// actormq: this file is not in upstream gnet (see ACTORMQ.md).

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package io

import "golang.org/x/sys/unix"

// RawRead is unix.Read here: the raw calls are made on Linux only
// (raw_linux.go), the platform actormq runs on.
func RawRead(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

// RawWrite is unix.Write here (see RawRead).
func RawWrite(fd int, p []byte) (int, error) { return unix.Write(fd, p) }

// RawWriteBytesMax is the largest write gnet makes with RawWrite.
const RawWriteBytesMax = 64 << 10
