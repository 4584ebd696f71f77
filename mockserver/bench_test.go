package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// discardWriter keeps nothing, so that benchmarks measure the server and
// not a recorder.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// benchServe serves req b.N times, failing on any status but 200. body,
// when not nil, is replayed on every request.
func benchServe(b *testing.B, srv *Server, req *http.Request, body []byte) {
	b.Helper()
	w := &discardWriter{header: http.Header{}}
	var rd bytes.Reader
	if body != nil {
		req.Body = io.NopCloser(&rd)
		req.ContentLength = int64(len(body))
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.status = http.StatusOK
		rd.Reset(body)
		srv.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

func benchServer(b *testing.B, opts Options) *Server {
	b.Helper()
	clock := newFakeClock()
	if opts.Clock == nil {
		opts.Clock = clock.Now
	}
	return New(opts)
}

func mustRegister(b *testing.B, srv *Server, localpart string) Account {
	b.Helper()
	a, err := srv.Register(localpart, "pw")
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func BenchmarkGetStatus(b *testing.B) {
	for _, limiter := range []struct {
		name string
		opts Options
	}{
		{"limiter=off", Options{NoRateLimit: true}},
		// A rate nobody reaches: the bucket's lock and arithmetic, never a 429.
		{"limiter=on", Options{RateLimit: 1e15}},
	} {
		b.Run(limiter.name, func(b *testing.B) {
			srv := benchServer(b, limiter.opts)
			a := mustRegister(b, srv, "alice")
			srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", statusPath(a.UserID)+"?access_token="+a.AccessToken,
				strings.NewReader(`{"presence":"online","status_msg":"Busy \"coding\""}`)))
			benchServe(b, srv, httptest.NewRequest("GET", statusPath(a.UserID)+"?access_token="+a.AccessToken, nil), nil)
		})
	}
}

func BenchmarkPutStatus(b *testing.B) {
	srv := benchServer(b, Options{NoRateLimit: true})
	a := mustRegister(b, srv, "alice")
	req := httptest.NewRequest("PUT", statusPath(a.UserID)+"?access_token="+a.AccessToken, nil)
	benchServe(b, srv, req, []byte(`{"presence":"online","status_msg":"I am here."}`))
}

func BenchmarkGetList(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			srv := benchServer(b, Options{NoRateLimit: true})
			a := mustRegister(b, srv, "alice")
			var invite []string
			for i := range n {
				u := mustRegister(b, srv, fmt.Sprintf("friend%d", i))
				if i%2 == 0 { // half of them with a message
					srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", statusPath(u.UserID)+"?access_token="+u.AccessToken,
						strings.NewReader(`{"presence":"unavailable","status_msg":"away"}`)))
				}
				invite = append(invite, `"`+u.UserID+`"`)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("POST", listPath(a.UserID)+"?access_token="+a.AccessToken,
				strings.NewReader(`{"invite":[`+strings.Join(invite, ",")+`]}`)))
			if rec.Code != http.StatusOK {
				b.Fatalf("invite: %d %s", rec.Code, rec.Body)
			}
			benchServe(b, srv, httptest.NewRequest("GET", listPath(a.UserID)+"?access_token="+a.AccessToken, nil), nil)
		})
	}
}

// GET status must cost the same however many users the server holds: the
// token and user lookups are hash lookups, and no lock spans users.
func BenchmarkGetStatusUsers(b *testing.B) {
	for _, n := range []int{1, 100_000} {
		srv := benchServer(b, Options{NoRateLimit: true})
		var accts []Account
		for i := range n {
			accts = append(accts, mustRegister(b, srv, fmt.Sprintf("user%d", i)))
		}
		viewer := accts[len(accts)/2]
		b.Run(fmt.Sprintf("users=%d/own", n), func(b *testing.B) {
			benchServe(b, srv, httptest.NewRequest("GET", statusPath(viewer.UserID)+"?access_token="+viewer.AccessToken, nil), nil)
		})
		friend := mustRegister(b, srv, "friend")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("POST", listPath(viewer.UserID)+"?access_token="+viewer.AccessToken,
			strings.NewReader(`{"invite":["`+friend.UserID+`"]}`)))
		b.Run(fmt.Sprintf("users=%d/listed", n+1), func(b *testing.B) {
			benchServe(b, srv, httptest.NewRequest("GET", statusPath(friend.UserID)+"?access_token="+viewer.AccessToken, nil), nil)
		})
	}
}

// Many users at once: with per-user locks, throughput grows with cores.
func BenchmarkGetStatusParallel(b *testing.B) {
	srv := benchServer(b, Options{NoRateLimit: true})
	var reqs []*http.Request
	for i := range 256 {
		a := mustRegister(b, srv, fmt.Sprintf("user%d", i))
		reqs = append(reqs, httptest.NewRequest("GET", statusPath(a.UserID)+"?access_token="+a.AccessToken, nil))
	}
	b.ReportAllocs()
	var next atomic.Int64 // each goroutine starts on a different user
	b.RunParallel(func(pb *testing.PB) {
		start := next.Add(37)
		w := &discardWriter{header: http.Header{}}
		for i := start; pb.Next(); i++ {
			clear(w.header)
			w.status = http.StatusOK
			srv.ServeHTTP(w, reqs[i%int64(len(reqs))])
			if w.status != http.StatusOK {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
}

// GET status under r0: your own touches no room; another user's is a small
// intersection of joined rooms, one user's lock at a time.
func BenchmarkGetStatusR0(b *testing.B) {
	srv := benchServer(b, Options{NoRateLimit: true})
	alice := mustRegister(b, srv, "alice")
	bob := mustRegister(b, srv, "bob")
	serve := func(method, target, body string) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body)
		}
	}
	serve("PUT", r0Prefix+"/presence/"+bob.UserID+"/status?access_token="+bob.AccessToken, `{"presence":"online","status_msg":"hi"}`)
	// Each is in a few rooms of their own, and shares the last one made.
	for range 4 {
		serve("POST", r0Prefix+"/createRoom?access_token="+alice.AccessToken, `{}`)
		serve("POST", r0Prefix+"/createRoom?access_token="+bob.AccessToken, `{}`)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", r0Prefix+"/createRoom?access_token="+alice.AccessToken, strings.NewReader(`{"invite":["`+bob.UserID+`"]}`)))
	var created struct {
		RoomID string `json:"room_id"`
	}
	json.Unmarshal(rec.Body.Bytes(), &created)
	serve("POST", r0Prefix+"/join/"+created.RoomID+"?access_token="+bob.AccessToken, ``)
	b.Run("own", func(b *testing.B) {
		benchServe(b, srv, httptest.NewRequest("GET", r0Prefix+"/presence/"+alice.UserID+"/status?access_token="+alice.AccessToken, nil), nil)
	})
	b.Run("shared-room", func(b *testing.B) {
		benchServe(b, srv, httptest.NewRequest("GET", r0Prefix+"/presence/"+bob.UserID+"/status?access_token="+alice.AccessToken, nil), nil)
	})
}
