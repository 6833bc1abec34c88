//go:build race

package requestreply

// raceEnabled: race builds poison released pooled requests (remoting's
// framepool_race.go), which makes a release observable.
const raceEnabled = true
