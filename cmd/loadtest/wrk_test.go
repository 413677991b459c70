package main

import (
	"math"
	"testing"
	"time"
)

const sampleWrk = `Running 5s test @ http://127.0.0.1:40000/headers
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.21ms    1.02ms  25.10ms   90.12%
    Req/Sec    20.01k     1.10k   22.00k    80.00%
  Latency Distribution
     50%    3.05ms
     75%    3.50ms
     90%    4.10ms
     99%  812.00us
  99612 requests in 5.01s, 20.10MB read
  Socket errors: connect 0, read 2, write 1, timeout 0
  Non-2xx or 3xx responses: 7
Requests/sec:  19882.50
Transfer/sec:      4.01MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(sampleWrk)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 99612 || r.RPS != 19882.50 || r.Non2xx != 7 || r.SockErrs != 3 {
		t.Fatalf("got %+v", r)
	}
	if r.P50 != 3050*time.Microsecond || r.P99 != 812*time.Microsecond {
		t.Fatalf("latencies %v %v", r.P50, r.P99)
	}
}

func TestParseWrkRejectsGarbage(t *testing.T) {
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Fatal("no error")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1.50s": 1500 * time.Millisecond, "2m": 2 * time.Minute, "10.00us": 10 * time.Microsecond,
	} {
		if got, err := parseWrkDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := parseWrkDuration("3x"); err == nil {
		t.Error("3x parsed")
	}
}

func TestMedianRatio(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("odd %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("even %v", m)
	}
	if m := median(nil); m != 0 {
		t.Errorf("empty %v", m)
	}
	if r := ratio(95, 100); r != 0.95 {
		t.Errorf("ratio %v", r)
	}
	if !math.IsNaN(ratio(1, 0)) {
		t.Error("ratio by zero")
	}
}

func TestProcParsers(t *testing.T) {
	stat := "1234 (auth gate) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 1000 200"
	if n, err := cpuTicks(stat); err != nil || n != 300 {
		t.Fatalf("cpuTicks %v %v", n, err)
	}
	status := "Name:\tauthgate\nVmPeak:\t  100 kB\nVmHWM:\t   20480 kB\nVmRSS:\t 10000 kB\n"
	if n, err := vmHWM(status); err != nil || n != 20480*1024 {
		t.Fatalf("vmHWM %v %v", n, err)
	}
}
