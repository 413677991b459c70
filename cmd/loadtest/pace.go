package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// paceLua makes every wrk connection wait about connections/rate seconds
// between requests, so that the connections together offer rate requests
// per second (less the response time, which is small at half load). wrk's
// delay is whole milliseconds: the fraction is drawn at random so the
// average is right.
func paceLua(connections int, rate float64) string {
	return fmt.Sprintf(`local pace_ms = %.4f
delay = function()
  local d = math.floor(pace_ms)
  if math.random() < pace_ms - d then d = d + 1 end
  return d
end
`, float64(connections)*1000/rate)
}

// pacedRounds runs every target -rounds times at half the baseline's
// median maximum rate (measured by the rounds just run), alternating, and
// records achieved req/s and latency: the added latency at a load both
// proxies carry without queueing.
func (h *harness) pacedRounds(ctx context.Context, c benchCase, cdir string, targets []*target, common []string, lua string) error {
	half := median(targets[0].rps) / 2
	if half < 1 || math.IsNaN(half) {
		return fmt.Errorf("no baseline rate to pace at")
	}
	script := filepath.Join(cdir, "paced.lua")
	if err := os.WriteFile(script, []byte(lua+paceLua(h.o.connections, half)), 0o600); err != nil {
		return err
	}
	for _, t := range targets {
		// The case's own arguments, with the paced script in place of
		// the case's script (which it includes).
		var args []string
		for i := 0; i < len(t.args); i++ {
			if t.args[i] == "-s" && i+1 < len(t.args) {
				i++
				continue
			}
			args = append(args, t.args[i])
		}
		t.paced = append(args, "-s", script)
	}
	for i := 0; i < h.o.rounds; i++ {
		for _, t := range targets {
			res, err := h.wrkArgs(ctx, t, t.paced, h.o.duration)
			if err != nil {
				return fmt.Errorf("%s paced round %d: %w", t.name, i+1, err)
			}
			t.halfRPS = append(t.halfRPS, res.RPS)
			t.halfP50 = append(t.halfP50, ms(res.P50))
			t.halfP99 = append(t.halfP99, ms(res.P99))
			t.errors += res.Non2xx + res.SockErrs
			fmt.Fprintf(os.Stderr, "  paced %d %-8s %8.0f req/s (offered %.0f) p50 %.2fms p99 %.2fms\n",
				i+1, t.name, res.RPS, half, ms(res.P50), ms(res.P99))
		}
	}
	return nil
}

// printPaced prints the latency table at half the baseline's maximum rate.
func printPaced(w io.Writer, rows []row) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nAt half the baseline's maximum rate (wrk paced by a delay script; medians over rounds)\n\n")
	fmt.Fprintf(w, "| %-34s | %-8s | %8s | %6s | %6s | %12s |\n", "case", "proxy", "req/s", "p50 ms", "p99 ms", "added p99 ms")
	fmt.Fprintln(w, "|------------------------------------|----------|---------:|-------:|-------:|-------------:|")
	for _, r := range rows {
		added := "—"
		if !math.IsNaN(r.addedP99) {
			added = fmt.Sprintf("%+.2f", r.addedP99)
		}
		fmt.Fprintf(w, "| %-34s | %-8s | %8.0f | %6.2f | %6.2f | %12s |\n", r.caseName, r.target, r.halfRPS, r.halfP50, r.halfP99, added)
	}
}
