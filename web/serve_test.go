package web

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// TestServe runs the handler on a real listener, answers a request, and
// stops cleanly (nil error, listener closed) when the context ends.
func TestServe(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, newTestHandler(t, nil), testLogger(t)) }()

	url := "http://" + ln.Addr().String()
	res, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "ok" {
		t.Errorf("healthz over TCP: %d %q", res.StatusCode, b)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v, want nil", err)
	}
	http.DefaultClient.CloseIdleConnections()
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestServeListenerError(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(ln.Addr().String()); err == nil {
		t.Error("second Listen on the same address succeeded")
	}
	ln.Close() // Serve on a closed listener must return its error, not hang
	if err := Serve(context.Background(), ln, http.NotFoundHandler(), nil); err == nil {
		t.Error("Serve on a closed listener returned nil")
	}
}
