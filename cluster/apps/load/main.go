// Command load is a bounded HTTP load generator, run on the host against a
// Service's ClusterIP during a rollout. It stands in for real client traffic:
// requests at a fixed rate, each on a new TCP connection (so each one is
// routed afresh), and one JSON report on stdout of what failed, when and why.
// It exits 0 even when requests failed (the caller judges), 2 on bad flags.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

const maxFailures = 2000 // failures listed one by one in the report

type result struct {
	t       float64 // send time, seconds since start
	done    bool
	cause   string // empty when ok
	version string
}

type second struct {
	Second   int            `json:"second"`
	Sent     int            `json:"sent"`
	OK       int            `json:"ok"`
	Failed   int            `json:"failed"`
	Versions map[string]int `json:"versions"`
}

type failure struct {
	T     float64 `json:"t"`
	Cause string  `json:"cause"`
}

type report struct {
	URL           string         `json:"url"`
	RPS           int            `json:"rps"`
	DurationS     float64        `json:"duration_s"`
	Sent          int            `json:"sent"`
	OK            int            `json:"ok"`
	Failed        int            `json:"failed"`
	BySecond      []second       `json:"by_second"`
	ByCause       map[string]int `json:"by_cause"`
	FirstFailureS *float64       `json:"first_failure_s"`
	LastFailureS  *float64       `json:"last_failure_s"`
	Failures      []failure      `json:"failures"`
}

func main() {
	log.SetFlags(0)
	target := flag.String("url", "", "target URL (required)")
	rps := flag.Int("rps", 100, "requests per second")
	duration := flag.Duration("duration", 30*time.Second, "how long to send requests")
	timeout := flag.Duration("timeout", 5*time.Second, "per-request timeout")
	maxRequests := flag.Int("max-requests", 0, "hard cap on requests sent (0: rps*duration)")
	startFile := flag.String("start-file", "", "write the start time (unix seconds) to this file")
	flag.Parse()
	if u, err := url.Parse(*target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		*rps <= 0 || *rps > 1e6 || *duration <= 0 || *timeout <= 0 || *maxRequests < 0 || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *maxRequests == 0 {
		*maxRequests = int(math.Ceil(float64(*rps) * duration.Seconds()))
	}

	client := &http.Client{
		Timeout: *timeout,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext:       (&net.Dialer{Timeout: *timeout}).DialContext,
		},
	}
	results := make([]result, *maxRequests)
	sent := 0
	var (
		mu       sync.Mutex
		finished bool // results no longer taken
		wg       sync.WaitGroup
	)

	start := time.Now()
	if *startFile != "" {
		unix := float64(start.UnixNano()) / 1e9
		if err := os.WriteFile(*startFile, []byte(fmt.Sprintf("%.6f\n", unix)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	tick := time.NewTicker(time.Second / time.Duration(*rps))
	for {
		i := sent
		results[i].t = time.Since(start).Seconds()
		sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			version, err := get(client, *target)
			mu.Lock()
			defer mu.Unlock()
			if !finished {
				results[i].done = true
				results[i].version = version
				if err != nil {
					results[i].cause = cause(err)
				}
			}
		}()
		if sent == *maxRequests {
			break
		}
		<-tick.C
		if time.Since(start) >= *duration {
			break
		}
	}
	tick.Stop()

	// Wait for outstanding requests, at most timeout after the last send.
	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	select {
	case <-allDone:
	case <-time.After(*timeout):
	}
	mu.Lock()
	finished = true
	mu.Unlock()

	rep := summarize(results[:sent])
	rep.URL, rep.RPS, rep.DurationS = *target, *rps, duration.Seconds()
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		log.Fatal(err)
	}
}

// get fetches url and returns the VERSION word of the answer: the third word
// of the body. It fails unless the status is 200 and the body is complete.
func get(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", statusError(resp.StatusCode)
	}
	if err != nil {
		return "", err
	}
	if f := strings.Fields(string(body)); len(f) >= 3 {
		return f[2], nil
	}
	return "", nil
}

type statusError int

func (e statusError) Error() string { return fmt.Sprintf("status %d", int(e)) }

// cause classifies a failed request.
func cause(err error) string {
	var status statusError
	var netErr net.Error
	switch {
	case errors.As(err, &status):
		return status.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	// The innermost error has the message without addresses and ports.
	for errors.Unwrap(err) != nil {
		err = errors.Unwrap(err)
	}
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return "other: " + msg
}

func summarize(results []result) report {
	rep := report{
		Sent:     len(results),
		ByCause:  map[string]int{},
		Failures: []failure{},
	}
	if n := len(results); n > 0 {
		rep.BySecond = make([]second, int(results[n-1].t)+1)
	}
	for i := range rep.BySecond {
		rep.BySecond[i] = second{Second: i, Versions: map[string]int{}}
	}
	for _, r := range results {
		s := &rep.BySecond[int(r.t)]
		s.Sent++
		if r.done && r.cause == "" {
			rep.OK++
			s.OK++
			if r.version != "" {
				s.Versions[r.version]++
			}
			continue
		}
		c := r.cause
		if !r.done {
			c = "timeout" // still outstanding when we stopped waiting
		}
		rep.Failed++
		s.Failed++
		rep.ByCause[c]++
		t := math.Round(r.t*1000) / 1000
		if rep.FirstFailureS == nil {
			rep.FirstFailureS = &t
		}
		rep.LastFailureS = &t
		if len(rep.Failures) < maxFailures {
			rep.Failures = append(rep.Failures, failure{T: t, Cause: c})
		}
	}
	return rep
}
