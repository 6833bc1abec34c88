//go:build !race

package remoting

// poisonReleased: normal builds recycle released send and pull requests
// (framepool.go).
const poisonReleased = false
