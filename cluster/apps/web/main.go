// Command web is the application container of every rolling-update scenario.
// It stands in for a real HTTP service: it can answer slowly (so requests are
// in flight during a rollout), reach its database through a sidecar proxy,
// drain or drop connections on shutdown like nginx, start slowly, and stall
// under load like an app hit by GC pauses or a saturated pool.
//
// Configuration (environment):
//
//	ADDR            listen address (default ":8080")
//	VERSION         echoed in answers to /
//	DELAY_MS        time each request to / takes before answering
//	UPSTREAM        host:port; / answers with the body of GET http://UPSTREAM/
//	                (new connection per request), or 502 if that fails
//	DRAIN_SIGNAL    SIGTERM (default) or SIGQUIT: stop accepting, finish
//	                in-flight requests (up to 60s) and exit 0; any other of
//	                SIGTERM, SIGQUIT and SIGINT exits 0 at once, dropping them
//	START_DELAY_MS  time to sleep before listening
//	STALL_EVERY_S   while under load, stall once per this period (0: never)
//	STALL_FOR_MS    length of a stall; every request waits until it ends
//	STALL_MIN_RPS   requests to / in the last full second that count as load
//	                (default 5)
//	STALL_SLOT_S    when > 0, stalls follow the wall clock instead of a random
//	                offset: the pod whose hostname ends in -N (a StatefulSet
//	                ordinal) stalls at the seconds where (unix time - N x slot)
//	                is a multiple of STALL_EVERY_S, so replicas take turns
//
// GET / answers "ok <hostname> <VERSION>\n"; GET /healthz answers "ok".
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const shutdownTimeout = 60 * time.Second

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	addr := cmp.Or(os.Getenv("ADDR"), ":8080")
	drain := drainSignal()
	hostname, _ := os.Hostname()
	a := &app{
		hostname: hostname,
		version:  os.Getenv("VERSION"),
		delay:    envMillis("DELAY_MS"),
		upstream: os.Getenv("UPSTREAM"),
		client: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{DisableKeepAlives: true},
		},
	}
	st := &staller{
		every:  time.Duration(envInt("STALL_EVERY_S", 0)) * time.Second,
		length: envMillis("STALL_FOR_MS"),
		minRPS: int64(envInt("STALL_MIN_RPS", 5)),
		slot:   time.Duration(envInt("STALL_SLOT_S", 0)) * time.Second,
		index:  ordinal(hostname),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.root)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	srv := &http.Server{Addr: addr, Handler: st.wrap(mux)}

	// Handle signals from the start, so one sent during a slow start is
	// obeyed too (Shutdown before Serve makes Serve return at once).
	drained := make(chan struct{})
	go handleSignals(srv, a, drain, drained)

	if d := envMillis("START_DELAY_MS"); d > 0 {
		log.Printf("starting in %v", d)
		time.Sleep(d)
	}
	if st.every > 0 {
		go st.run()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s, version %q, drain signal %s", ln.Addr(), a.version, sigName(drain))
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		log.Fatal(err)
	}
	<-drained
	log.Print("drained, exiting")
}

type app struct {
	hostname, version string
	delay             time.Duration
	upstream          string
	client            *http.Client
	inFlight          atomic.Int64 // requests to / being answered
}

func (a *app) root(w http.ResponseWriter, r *http.Request) {
	a.inFlight.Add(1)
	defer a.inFlight.Add(-1)

	time.Sleep(a.delay)
	if a.upstream == "" {
		fmt.Fprintf(w, "ok %s %s\n", a.hostname, a.version)
		return
	}
	body, err := a.fetch()
	if err != nil {
		log.Printf("upstream: %v", err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Write(body)
}

// fetch returns the body of GET http://UPSTREAM/.
func (a *app) fetch() ([]byte, error) {
	resp, err := a.client.Get("http://" + a.upstream + "/")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("upstream answered %s", resp.Status)
	}
	return body, nil
}

// handleSignals drains the server on the drain signal and exits at once on
// the other shutdown signals. It closes drained when draining is over.
func handleSignals(srv *http.Server, a *app, drain os.Signal, drained chan<- struct{}) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGINT)
	draining := false
	for sig := range sigs {
		switch {
		case sig != drain:
			log.Printf("received %s: fast shutdown, exiting now (%d requests in flight dropped)", sigName(sig), a.inFlight.Load())
			os.Exit(0)
		case draining:
			log.Printf("received %s: already draining", sigName(sig))
		default:
			draining = true
			log.Printf("received %s: draining, %d requests in flight", sigName(sig), a.inFlight.Load())
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil {
					log.Printf("shutdown: %v", err)
				}
				close(drained)
			}()
		}
	}
}

// staller makes the server stall now and then while it is under load.
type staller struct {
	every, length time.Duration
	minRPS        int64
	slot          time.Duration // > 0: stalls on the wall clock, replica `index` in slot `index`
	index         int

	requests atomic.Int64 // requests to / in the current second
	lastRPS  atomic.Int64 // requests to / in the last full second

	mu  sync.Mutex
	end chan struct{} // closed when the current stall ends; nil if none
}

// wrap counts requests to / and holds every request while a stall lasts.
func (s *staller) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			s.requests.Add(1)
		}
		s.mu.Lock()
		end := s.end
		s.mu.Unlock()
		if end != nil {
			<-end
		}
		next.ServeHTTP(w, r)
	})
}

// run measures the load and stalls once per period while under load, the
// first time at a random offset so that replicas do not stall together.
func (s *staller) run() {
	go func() {
		for range time.Tick(time.Second) {
			s.lastRPS.Store(s.requests.Swap(0))
		}
	}()
	if s.slot > 0 {
		phase := time.Duration(s.index) * s.slot
		since := time.Since(time.Unix(0, 0).Add(phase)) % s.every
		time.Sleep(s.every - since)
	} else {
		time.Sleep(rand.N(s.every))
	}
	tick := time.NewTicker(s.every)
	for {
		if rps := s.lastRPS.Load(); rps >= s.minRPS {
			s.stall(rps)
		}
		<-tick.C
	}
}

func (s *staller) stall(rps int64) {
	log.Printf("stall start: %d req/s, stalling for %v", rps, s.length)
	end := make(chan struct{})
	s.mu.Lock()
	s.end = end
	s.mu.Unlock()

	time.Sleep(s.length)

	s.mu.Lock()
	s.end = nil
	s.mu.Unlock()
	close(end)
	log.Print("stall end")
}

// ordinal is the number after the last '-' of a StatefulSet pod's hostname (0 otherwise).
func ordinal(hostname string) int {
	i := strings.LastIndex(hostname, "-")
	n, err := strconv.Atoi(hostname[i+1:])
	if i < 0 || err != nil {
		return 0
	}
	return n
}

func drainSignal() os.Signal {
	switch v := os.Getenv("DRAIN_SIGNAL"); strings.ToUpper(v) {
	case "", "SIGTERM", "TERM":
		return syscall.SIGTERM
	case "SIGQUIT", "QUIT":
		return syscall.SIGQUIT
	default:
		log.Fatalf("DRAIN_SIGNAL=%q: want SIGTERM or SIGQUIT", v)
		return nil
	}
}

func sigName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}

func envInt(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		log.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

func envMillis(name string) time.Duration {
	return time.Duration(envInt(name, 0)) * time.Millisecond
}
