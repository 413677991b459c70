package main

import (
	"bufio"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run reports.
type wrkResult struct {
	Requests  int64         // total requests completed
	RPS       float64       // Requests/sec
	P50, P99  time.Duration // latency percentiles (wrk --latency)
	Non2xx    int64         // "Non-2xx or 3xx responses"
	SockErrs  int64         // connect+read+write+timeout socket errors
	HaveLat   bool
	HaveTotal bool
}

// parseWrk reads wrk's text output (run with --latency).
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	sc := bufio.NewScanner(strings.NewReader(out))
	inLat := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Latency Distribution"):
			inLat = true
		case inLat && len(f) == 2 && strings.HasSuffix(f[0], "%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return r, fmt.Errorf("wrk latency %q: %w", line, err)
			}
			switch f[0] {
			case "50%", "50.000%":
				r.P50 = d
				r.HaveLat = true
			case "99%", "99.000%":
				r.P99 = d
			}
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			inLat = false
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk total %q: %w", line, err)
			}
			r.Requests = n
			r.HaveTotal = true
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk rps %q: %w", line, err)
			}
			r.RPS = v
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:") && len(f) == 5:
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk non-2xx %q: %w", line, err)
			}
			r.Non2xx = n
		case strings.HasPrefix(line, "Socket errors:"):
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for _, part := range strings.Split(strings.TrimPrefix(line, "Socket errors:"), ",") {
				p := strings.Fields(part)
				if len(p) == 2 {
					n, err := strconv.ParseInt(p[1], 10, 64)
					if err == nil {
						r.SockErrs += n
					}
				}
			}
		default:
			if inLat && !strings.HasSuffix(f0(f), "%") {
				inLat = false
			}
		}
	}
	if !r.HaveTotal || r.RPS == 0 || !r.HaveLat {
		return r, fmt.Errorf("wrk output not understood:\n%s", out)
	}
	return r, nil
}

func f0(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// parseWrkDuration parses wrk's units: us, ms, s, m, h.
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(math.Round(v * u.mult)), nil
		}
	}
	return 0, fmt.Errorf("unknown unit in %q", s)
}

// median of xs (mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio of a to b; NaN when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// cpuTicks returns utime+stime (clock ticks) from a /proc/PID/stat line.
func cpuTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no ')'")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields", len(f))
	}
	u, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, err
	}
	s, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, err
	}
	return u + s, nil
}

// vmHWM returns the VmHWM line of /proc/PID/status in bytes.
func vmHWM(status string) (int64, error) { return statusKB(status, "VmHWM") }

// statusKB returns the field (VmHWM, VmRSS) of /proc/PID/status in bytes.
func statusKB(status, field string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) != 3 || f[2] != "kB" {
				return 0, fmt.Errorf("%s: %q", field, line)
			}
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s", field)
}
