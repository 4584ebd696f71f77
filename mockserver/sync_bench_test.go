package mockserver

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// An initial /sync for a user who shares a room with 1,000 others: every
// one of them in presence.events, the room in rooms.join.
func BenchmarkInitialSync(b *testing.B) {
	srv := benchServer(b, Options{NoRateLimit: true})
	creator, members := roomWithMany(b, srv, v3Prefix, 1000)
	for _, m := range members {
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", statusPathIn(v3Prefix, m.UserID)+"?access_token="+m.AccessToken,
			strings.NewReader(`{"presence":"online","status_msg":"here"}`)))
	}
	req := httptest.NewRequest("GET", v3Prefix+"/sync?set_presence=offline&access_token="+creator.AccessToken, nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if n := bytes.Count(rec.Body.Bytes(), []byte(`"type":"m.presence"`)); n != 1001 {
		b.Fatalf("%d presence events, want 1001", n)
	}
	b.SetBytes(int64(rec.Body.Len()))
	benchServe(b, srv, req, nil)
}

// One presence change wakes 1,000 waiting long-polls, all of which must
// answer carrying it. Each iteration starts the polls, waits until every
// one is blocked, then times from the change to each answer; p99-ms and
// max-ms are over all answers of all iterations; ns/op is from the change
// to the last answer. In-process through
// ServeHTTP, and over loopback HTTP with a connection per poll.
func BenchmarkOneChangeWakesLongPolls(b *testing.B) {
	const waiters = 1000
	b.Run("transport=in-process", func(b *testing.B) {
		benchWake(b, waiters, func(srv *Server) func(target string) (int, []byte) {
			return func(target string) (int, []byte) {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
				return rec.Code, rec.Body.Bytes()
			}
		})
	})
	b.Run("transport=loopback", func(b *testing.B) {
		benchWake(b, waiters, func(srv *Server) func(target string) (int, []byte) {
			ts := httptest.NewServer(srv)
			b.Cleanup(ts.Close)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: waiters, MaxConnsPerHost: 0}}
			b.Cleanup(client.CloseIdleConnections)
			return func(target string) (int, []byte) {
				res, err := client.Get(ts.URL + target)
				if err != nil {
					return 0, []byte(err.Error())
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				return res.StatusCode, body
			}
		})
	})
}

func benchWake(b *testing.B, waiters int, transport func(srv *Server) func(target string) (int, []byte)) {
	srv := benchServer(b, Options{NoRateLimit: true, Clock: time.Now})
	creator, members := roomWithMany(b, srv, v3Prefix, waiters)
	get := transport(srv)
	put := httptest.NewRequest("PUT", statusPathIn(v3Prefix, creator.UserID)+"?access_token="+creator.AccessToken, nil)
	var latencies []time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		since := srv.stream.token(srv.stream.current())
		var wg sync.WaitGroup
		answered := make([]time.Time, waiters)
		failures := make(chan string, waiters)
		for i, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, body := get(v3Prefix + "/sync?" + q("since", since, "timeout", "60000", "set_presence", "offline", "access_token", m.AccessToken))
				answered[i] = time.Now()
				if status != http.StatusOK || !bytes.Contains(body, []byte(creator.UserID)) {
					failures <- string(body)
				}
			}()
		}
		for srv.stream.waiting.Load() < int64(waiters) {
			runtime.Gosched() // setting up, untimed: every poll must be blocked before the change
		}
		b.StartTimer()
		changed := time.Now()
		put.Body = io.NopCloser(strings.NewReader(`{"presence":"online","status_msg":"wake"}`))
		srv.ServeHTTP(&discardWriter{header: http.Header{}}, put)
		wg.Wait()
		b.StopTimer()
		close(failures)
		for f := range failures {
			b.Fatalf("a long-poll answered without the change: %s", f)
		}
		for _, at := range answered {
			latencies = append(latencies, at.Sub(changed))
		}
		b.StartTimer()
	}
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(latencies[len(latencies)/2]), "p50-ms")
	b.ReportMetric(ms(latencies[len(latencies)*99/100]), "p99-ms")
	b.ReportMetric(ms(latencies[len(latencies)-1]), "max-ms")
}
