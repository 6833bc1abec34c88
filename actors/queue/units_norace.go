//go:build !race

package queue

const poisonReleasedUnits = false
