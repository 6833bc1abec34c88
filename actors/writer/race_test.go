//go:build race

package writer

// raceEnabled: sync.Pool drops pooled items at random under the race
// detector, so allocation counts of pooled paths mean nothing there.
const raceEnabled = true
