//go:build race

package proxy_test

// raceEnabled: the tests run under the race detector.
const raceEnabled = true
