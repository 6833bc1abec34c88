//go:build race

package queue

// poisonReleasedUnits: race builds poison released units slices instead of
// recycling them (units.go).
const poisonReleasedUnits = true
