package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/federation"
)

// Every request to the target goes to the URL the suite was given: mautrix
// addresses a request to matrix-federation://SERVER_NAME/..., and the
// transport below sends it to Options.Target instead of resolving the
// name. The X-Matrix header still names the target's server name as the
// destination, as the spec requires.

type logKey struct{}

// WithLog makes the requests made with ctx log their exchanges to w (a
// spec's output).
func WithLog(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, logKey{}, w)
}

type targetTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *targetTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = t.base.Scheme, t.base.Host
	out.URL.Path = strings.TrimSuffix(t.base.Path, "/") + r.URL.Path
	if r.URL.RawPath != "" {
		out.URL.RawPath = strings.TrimSuffix(t.base.Path, "/") + r.URL.RawPath
	}
	out.Host = t.base.Host
	var reqBody []byte
	if r.Body != nil {
		reqBody, _ = io.ReadAll(r.Body)
		r.Body.Close()
		out.Body = io.NopCloser(bytes.NewReader(reqBody))
		// mautrix v0.33.0 sends federation bodies with no Content-Type;
		// the spec's bodies are JSON, and Dendrite refuses a PUT without
		// the header (400 "Bad Request").
		if len(reqBody) > 0 && out.Header.Get("Content-Type") == "" {
			out.Header.Set("Content-Type", "application/json")
		}
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(out)
	w, _ := r.Context().Value(logKey{}).(io.Writer)
	if w == nil {
		return resp, err
	}
	fmt.Fprintf(w, "federation → %s %s (%s)\n", r.Method, out.URL.RequestURI(), time.Since(start).Round(time.Microsecond))
	if len(reqBody) > 0 {
		fmt.Fprintf(w, "  request body: %s\n", clip(reqBody))
	}
	if err != nil {
		fmt.Fprintf(w, "  error: %v\n", err)
		return resp, err
	}
	respBody, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if rerr != nil {
		return resp, rerr
	}
	fmt.Fprintf(w, "  ← %d %s\n", resp.StatusCode, clip(respBody))
	return resp, nil
}

func clip(b []byte) string {
	const keep = 2048
	if len(b) > keep {
		return string(b[:keep]) + "..."
	}
	return string(b)
}

func newClient(name string, key *federation.SigningKey, opts Options) *federation.Client {
	base, err := url.Parse(opts.Target)
	if err != nil || base.Host == "" {
		base = &url.URL{Scheme: "http", Host: "invalid.invalid"}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// A test target serves federation over HTTPS with a certificate no
	// authority signed, or over plain HTTP; neither is verified.
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	return &federation.Client{
		HTTP: &http.Client{
			Transport: &targetTransport{base: base, next: tr},
			Timeout:   opts.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		ServerName:        name,
		Key:               key,
		UserAgent:         "mxpresence-remote",
		ResponseSizeLimit: mautrix.DefaultResponseSizeLimit,
	}
}

// Signing says how a request the suite sends is signed.
type Signing int

const (
	// Signed: a valid X-Matrix header from the remote server's key.
	Signed Signing = iota
	// Unsigned: no Authorization header at all.
	Unsigned
	// WrongKey: an X-Matrix header naming the remote server's key ID, with
	// a signature made by another key.
	WrongKey
)

func (sg Signing) String() string {
	switch sg {
	case Unsigned:
		return "unsigned"
	case WrongKey:
		return "signed with the wrong key"
	}
	return "signed"
}

// Response is the target's answer to a request the suite sent.
type Response struct {
	Status  int
	Body    []byte
	ErrCode string
}

// SendTransaction sends a transaction of EDUs to the target as txnID,
// signed as asked; a transport failure is an error, any answer is not.
func (s *Server) SendTransaction(ctx context.Context, txnID string, edus []any, signing Signing) (Response, error) {
	c := s.out
	switch signing {
	case WrongKey:
		other := federation.GenerateSigningKey()
		other.ID = s.key.ID
		cc := *s.out
		cc.Key = other
		c = &cc
	}
	txn := map[string]any{
		"origin":           s.name,
		"origin_server_ts": time.Now().UnixMilli(),
		"pdus":             []any{},
		"edus":             edus,
	}
	body, resp, err := c.MakeFullRequest(ctx, federation.RequestParams{
		ServerName:   s.targetName,
		Method:       http.MethodPut,
		Path:         federation.URLPath{"v1", "send", txnID},
		Authenticate: signing != Unsigned,
		RequestJSON:  txn,
	})
	return response(body, resp, err)
}

func response(body []byte, resp *http.Response, err error) (Response, error) {
	if resp == nil {
		return Response{}, err
	}
	out := Response{Status: resp.StatusCode, Body: body}
	var herr mautrix.HTTPError
	if errors.As(err, &herr) && herr.RespError != nil {
		out.ErrCode = herr.RespError.ErrCode
	}
	return out, nil
}

// PresenceEDU is an m.presence EDU pushing items.
func PresenceEDU(items ...any) map[string]any {
	return map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": items}}
}
