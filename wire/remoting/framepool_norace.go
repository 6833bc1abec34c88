//go:build !race

package remoting

// poisonReleased: normal builds recycle released send requests
// (framepool.go).
const poisonReleased = false
