//go:build !race

package requestreply

const raceEnabled = false
