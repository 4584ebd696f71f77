package mockserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The tools deviations are built from: which operation a request reaches,
// serving it as another user would, and recording a response to change it
// before it goes out. None of them is used by the reference server.

// endpoint names the operation a request reaches.
type endpoint string

const (
	noEndpoint endpoint = ""
	putStatus  endpoint = "PUT status"
	getStatus  endpoint = "GET status"
	postList   endpoint = "POST list"
	getList    endpoint = "GET list"
	getSync    endpoint = "GET sync"
	postFilter endpoint = "POST filter"
	getFilter  endpoint = "GET filter"
	getEvents  endpoint = "GET events"
	getInitial endpoint = "GET initialSync"
)

// reached is where routing takes a request.
type reached struct {
	endpoint endpoint
	api      *apiVersion
	route    *route
	op       *operation // nil for a method the route does not serve
	userID   string     // the decoded {userId}; "" when the path has none
}

func (s *Server) reach(r *http.Request) reached {
	m, found := s.match(r.URL.EscapedPath())
	if !found {
		return reached{}
	}
	at := reached{api: m.api, route: m.route, op: m.route.operation(r.Method)}
	if m.userIDDecoded {
		at.userID = m.userID
	}
	path := strings.Join(m.route.segments, "/")
	switch {
	case path == "presence/"+userIDSegment+"/status" && r.Method == http.MethodPut:
		at.endpoint = putStatus
	case path == "presence/"+userIDSegment+"/status" && r.Method == http.MethodGet:
		at.endpoint = getStatus
	case path == "presence/list/"+userIDSegment && r.Method == http.MethodPost:
		at.endpoint = postList
	case path == "presence/list/"+userIDSegment && r.Method == http.MethodGet:
		at.endpoint = getList
	case r.Method == http.MethodGet || r.Method == http.MethodPost:
		at.endpoint = deliveryEndpoints[r.Method+" "+path]
	}
	return at
}

// serveAs serves r with the reference handler, as if the path's user had
// made it with their own token: how a server that skips a check behaves.
// It reports false, serving nothing, when the path names no local user.
func (s *Server) serveAs(w http.ResponseWriter, r *http.Request, at reached) bool {
	u := s.userByID(at.userID)
	if u == nil || at.op == nil {
		return false
	}
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Access-Control-Allow-Origin"] = allowAnyOrigin
	at.op.handle(w, r, call{api: at.api, viewer: u, userID: at.userID})
	return true
}

// recorder holds a response until a deviation has changed it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header         { return rec.header }
func (rec *recorder) Write(b []byte) (int, error) { return rec.body.Write(b) }
func (rec *recorder) WriteHeader(status int)      { rec.status = status }

// record serves r through next into a recorder.
func record(next http.Handler, r *http.Request) *recorder {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	return rec
}

// sendTo writes the recorded response.
func (rec *recorder) sendTo(w http.ResponseWriter) {
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// editJSON decodes the recorded body, lets edit change it and encodes the
// result; a body that is not JSON is left alone.
func (rec *recorder) editJSON(edit func(v any) any) {
	dec := json.NewDecoder(bytes.NewReader(rec.body.Bytes()))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return
	}
	out, err := json.Marshal(edit(v))
	if err != nil {
		return
	}
	rec.body.Reset()
	rec.body.Write(out)
}

// rewrite serves requests that reach one endpoint through next and lets
// change alter the response; every other request passes untouched.
func rewrite(s *Server, next http.Handler, on endpoint, change func(rec *recorder, r *http.Request, at reached)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := s.reach(r)
		if on != noEndpoint && at.endpoint != on {
			next.ServeHTTP(w, r)
			return
		}
		rec := record(next, r)
		change(rec, r, at)
		rec.sendTo(w)
	})
}

// rewriteAll lets change alter every response.
func rewriteAll(next http.Handler, change func(rec *recorder)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := record(next, r)
		change(rec)
		rec.sendTo(w)
	})
}

// afterPut serves PUT status through next and, when it succeeded, lets
// change alter what was stored; before is the state the PUT replaced.
func afterPut(s *Server, next http.Handler, change func(u *user, before presenceState)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := s.reach(r)
		u := s.userByID(at.userID)
		if at.endpoint != putStatus || u == nil {
			next.ServeHTTP(w, r)
			return
		}
		before := u.state()
		rec := record(next, r)
		if rec.status == http.StatusOK {
			u.mu.Lock()
			change(u, before)
			s.presenceChangedLocked(u, s.clock()) // what syncs deliver is what was stored
			u.mu.Unlock()
			s.presenceWake()
		}
		rec.sendTo(w)
	})
}

// readAll takes the whole request body and puts back a fresh reader, so
// that a deviation can look at the body and still pass the request on.
func readAll(r *http.Request) []byte {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body
}

// withBody passes r on with another body.
func withBody(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return r2
}

// writeRaw answers with a body as given, of any content type.
func writeRaw(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// mapEvents applies edit to each event of a presence list body.
func mapEvents(v any, edit func(event map[string]any) any) any {
	events, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, 0, len(events))
	for _, e := range events {
		if m, ok := e.(map[string]any); ok {
			out = append(out, edit(m))
		}
	}
	return out
}

// content is an event's content object, or an empty one.
func content(event map[string]any) map[string]any {
	c, _ := event["content"].(map[string]any)
	if c == nil {
		c = map[string]any{}
	}
	return c
}
