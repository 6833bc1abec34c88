// Package sizeclass is the index arithmetic shared by the broker's pools of
// power-of-two size classes (out frames, decoded request frames, frames
// assembled over several reads, the writer's batch buffers, units slices):
// class c holds sizes up to 1 << (MinShift + c).
package sizeclass

import "math/bits"

// Classes describes Count classes, the smallest of 1 << MinShift.
type Classes struct{ MinShift, Count int }

// Max is the size of the largest class.
func (c Classes) Max() int { return 1 << (c.MinShift + c.Count - 1) }

// Size is the size of class k.
func (c Classes) Size(k int) int { return 1 << (c.MinShift + k) }

// For returns the smallest class holding n, or -1 when n is above Max: the
// class to take a buffer of n from.
func (c Classes) For(n int) int {
	if n > c.Max() {
		return -1
	}
	if n <= 1<<c.MinShift {
		return 0
	}
	return bits.Len(uint(n-1)) - c.MinShift
}

// Holding returns the largest class whose size a buffer of capacity n
// covers, or -1 when n is below the smallest class or above Max: the class
// to give the buffer back to, so that a buffer taken from class k always
// has room for Size(k).
func (c Classes) Holding(n int) int {
	if n < 1<<c.MinShift || n > c.Max() {
		return -1
	}
	return bits.Len(uint(n)) - 1 - c.MinShift
}
