package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// send is a goroutine-safe request helper (no t.Fatal).
func send(s *Server, token, method, path string, body any, hdr ...string) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.GraphURL()+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return res.StatusCode, nil, fmt.Errorf("%s %s: %d, not JSON: %.200s", method, path, res.StatusCode, b)
		}
	}
	return res.StatusCode, m, nil
}

func TestConcurrentRequests(t *testing.T) {
	s := NewServer(t, WithGenerated(GenSpec{Seed: 11, Plans: 2, TasksPerPlan: 300}), WithPageSize(50))
	tok := s.Token()
	pid := s.PlanIDs()[0]
	if !contains(s.Groups()[0].Members, s.Me().ID) {
		pid = firstAccessiblePlan(t, newClient(t, s, tok))
	}
	before := len(s.TaskIDs(pid))
	const workers, perWorker = 8, 12
	var created atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				switch i % 4 {
				case 0:
					st, m, err := send(s, tok, "POST", "/planner/tasks", map[string]any{"planId": pid, "title": fmt.Sprintf("w%d-%d", w, i)})
					if err != nil || st != 201 {
						t.Errorf("create: %d %v %v", st, err, m)
						continue
					}
					created.Add(1)
					tid := m["id"].(string)
					_, d, err := send(s, tok, "GET", "/planner/tasks/"+tid+"/details", nil)
					if err != nil {
						t.Error(err)
						continue
					}
					st, _, err = send(s, tok, "PATCH", "/planner/tasks/"+tid+"/details", map[string]any{"description": "x"}, "If-Match", d["@odata.etag"].(string))
					if err != nil || st != 204 {
						t.Errorf("patch details: %d %v", st, err)
					}
				case 1:
					next := "/planner/plans/" + pid + "/tasks"
					for next != "" {
						st, m, err := send(s, tok, "GET", next, nil)
						if err != nil || st != 200 {
							t.Errorf("list: %d %v", st, err)
							break
						}
						next, _ = m["@odata.nextLink"].(string)
						if next != "" {
							next = next[len(s.GraphURL()):]
						}
					}
				case 2:
					ids := s.TaskIDs(pid)
					var reqs []map[string]any
					for j := 0; j < 5 && j < len(ids); j++ {
						reqs = append(reqs, map[string]any{"id": fmt.Sprint(j), "method": "GET", "url": "/planner/tasks/" + ids[(w+j*7)%len(ids)]})
					}
					if st, _, err := send(s, tok, "POST", "/$batch", map[string]any{"requests": reqs}); err != nil || st != 200 {
						t.Errorf("batch: %d %v", st, err)
					}
				case 3:
					_ = s.Requests()
					_ = s.Count("GET /planner/plans/{id}/tasks")
					_ = s.Groups()
					s.SetLatency(0)
					if st, _, err := send(s, tok, "GET", "/me/planner/tasks", nil); err != nil || st != 200 {
						t.Errorf("my tasks: %d %v", st, err)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	if got := len(s.TaskIDs(pid)); got != before+int(created.Load()) || created.Load() != workers*perWorker/4 {
		t.Errorf("%d tasks after %d creations on %d", got, created.Load(), before)
	}
}

func TestConcurrentPatchesWithOneEtag(t *testing.T) {
	s := NewServer(t)
	c := newClient(t, s, s.Token())
	pid := firstAccessiblePlan(t, c)
	tid := s.TaskIDs(pid)[0]
	etag := etagOf(c.get("/planner/tasks/" + tid))
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st, _, err := send(s, s.Token(), "PATCH", "/planner/tasks/"+tid, map[string]any{"title": fmt.Sprint("racer ", i)}, "If-Match", etag)
			switch {
			case err != nil:
				t.Error(err)
			case st == 204:
				ok.Add(1)
			case st == 409: // the same property changed since the etag
				conflict.Add(1)
			default:
				t.Errorf("status %d", st)
			}
		}(i)
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 9 {
		t.Errorf("%d succeeded and %d got 409; want 1 and 9", ok.Load(), conflict.Load())
	}
}

func TestStandaloneServe(t *testing.T) {
	s, err := New(WithPageSize(10))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	// Serve sets URL() before it serves: once a request to the listener
	// is answered, URL() is set. (The kernel queues the connection until
	// Serve accepts it, so this waits on Serve, not on a clock.)
	resp, err := http.Get("http://" + l.Addr().String() + "/v1.0/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if s.URL() != "http://"+l.Addr().String() {
		t.Fatalf("URL %q, listener %s", s.URL(), l.Addr())
	}
	c := newClient(t, s, s.Token())
	if me := c.get("/me"); me["id"] != s.Me().ID {
		t.Errorf("/me = %v", me)
	}
	if err := s.Serve(l); err == nil {
		t.Error("a second Serve succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve returned %v after Close", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
