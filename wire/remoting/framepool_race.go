//go:build race

package remoting

// poisonReleased: race builds poison released send and pull requests instead of
// recycling them (framepool.go).
const poisonReleased = true
