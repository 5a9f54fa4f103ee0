// Command proxy is a TCP sidecar that stands in for cloud-sql-proxy v2 run
// without --max-sigterm-delay: the app reaches its database through it, and
// on SIGTERM (or SIGINT) it closes its listener and every open connection at
// once and exits 0, so requests still going through it fail.
//
// Configuration (environment):
//
//	LISTEN            listen address (default "127.0.0.1:15432")
//	UPSTREAM          upstream host:port; if unset:
//	UPSTREAM_SERVICE  Kubernetes service NAME; the upstream is
//	                  $NAME_SERVICE_HOST:$NAME_SERVICE_PORT, with NAME
//	                  upper-cased and '-' replaced by '_'
package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	upstream, err := upstreamAddr()
	if err != nil {
		log.Fatal(err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	ln, err := net.Listen("tcp", cmp.Or(os.Getenv("LISTEN"), "127.0.0.1:15432"))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("proxying %s -> %s", ln.Addr(), upstream)
	conns := &tracker{open: make(map[net.Conn]struct{})}
	go serve(ln, upstream, conns)

	sig := <-sigs
	log.Printf("received %v: closing listener and all connections", sig)
	ln.Close()
	n := conns.closeAll()
	log.Printf("closed %d connections, exiting", n)
}

func upstreamAddr() (string, error) {
	if addr := os.Getenv("UPSTREAM"); addr != "" {
		return addr, nil
	}
	name := os.Getenv("UPSTREAM_SERVICE")
	if name == "" {
		return "", errors.New("set UPSTREAM or UPSTREAM_SERVICE")
	}
	prefix := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	host, port := os.Getenv(prefix+"_SERVICE_HOST"), os.Getenv(prefix+"_SERVICE_PORT")
	if host == "" || port == "" {
		return "", fmt.Errorf("UPSTREAM_SERVICE=%s: %s_SERVICE_HOST or %[2]s_SERVICE_PORT is not set", name, prefix)
	}
	return net.JoinHostPort(host, port), nil
}

func serve(ln net.Listener, upstream string, conns *tracker) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			log.Printf("accept: %v", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go proxy(c, upstream, conns)
	}
}

// proxy copies bytes both ways between client and a new upstream connection.
func proxy(client net.Conn, upstream string, conns *tracker) {
	defer client.Close()
	if !conns.add(client) {
		return
	}
	defer conns.remove(client)

	server, err := net.DialTimeout("tcp", upstream, 10*time.Second)
	if err != nil {
		log.Printf("dial upstream: %v", err)
		return
	}
	defer server.Close()
	if !conns.add(server) {
		return
	}
	defer conns.remove(server)

	done := make(chan struct{})
	go func() {
		copyHalf(server, client)
		close(done)
	}()
	copyHalf(client, server)
	<-done
}

// copyHalf copies src to dst, then passes the end of stream on to dst.
func copyHalf(dst, src net.Conn) {
	io.Copy(dst, src)
	if c, ok := dst.(interface{ CloseWrite() error }); ok {
		c.CloseWrite()
	} else {
		dst.Close()
	}
}

// tracker keeps the open connections so that they can all be closed at once.
type tracker struct {
	mu     sync.Mutex
	open   map[net.Conn]struct{}
	closed bool
}

// add records c; it reports false if the tracker is already closed.
func (t *tracker) add(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.open[c] = struct{}{}
	return true
}

func (t *tracker) remove(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.open, c)
}

// closeAll closes every open connection and refuses new ones.
func (t *tracker) closeAll() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	n := len(t.open)
	for c := range t.open {
		c.Close()
	}
	clear(t.open)
	return n
}
