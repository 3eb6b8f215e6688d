package graphtest

import (
	"net"
	"net/http"
	"testing"
)

// TestStart serves on a listener: URL is set when Start returns, the
// emulator answers, and Close ends the serving goroutine with nil.
func TestStart(t *testing.T) {
	srv, err := New()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done, err := srv.Start(l)
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://" + l.Addr().String(); srv.URL() != want {
		t.Fatalf("URL() = %q right after Start, want %q", srv.URL(), want)
	}
	req, _ := http.NewRequest("GET", srv.GraphURL()+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /me: %s", res.Status)
	}
	if _, err := srv.Start(l); err == nil {
		t.Error("a second Start succeeded")
	}
	srv.Close()
	if err := <-done; err != nil {
		t.Errorf("serving ended with %v, want nil after Close", err)
	}
}
