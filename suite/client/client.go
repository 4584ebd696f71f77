package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options tune a Client. The zero value is usable.
type Options struct {
	// Timeout bounds each request, response body included; 0 means 10s.
	Timeout time.Duration
	// Log receives every exchange as it completes; nil logs nothing.
	Log io.Writer
	// OnSchemaViolation is called with each exchange whose body breaks the
	// schema of a status its operation documents.
	OnSchemaViolation func(*Exchange)
	// OnExchange is called with each exchange as it completes, after
	// OnSchemaViolation, so that a failed check can name the response it
	// judged.
	OnExchange func(*Exchange)
	// OnRateLimited is called with each 429 exchange, before any retry.
	OnRateLimited func(*Exchange)
	// Retries429 is how many times a rate-limited request is retried after
	// waiting as the server asks; 0 means 3, negative means never.
	Retries429 int
	// HTTP is the underlying client; nil means one with no timeout of its
	// own (Timeout applies per request through the context).
	HTTP *http.Client
}

// maxRetryWait caps how long a 429 can make the client wait, so a server
// asking for an hour fails the spec instead of stalling the run.
const maxRetryWait = 5 * time.Second

// maxBody caps what is read of a response.
const maxBody = 1 << 20

// Client talks to one homeserver through one version of the API.
type Client struct {
	base *url.URL
	api  API
	opts Options
}

// New returns a client for the homeserver at baseURL (scheme and host,
// e.g. http://127.0.0.1:8008).
func New(baseURL string, api API, opts Options) (*Client, error) {
	base, err := url.Parse(baseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("target %q is not an absolute http(s) URL", baseURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Retries429 == 0 {
		opts.Retries429 = 3
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{}
	}
	return &Client{base: base, api: api, opts: opts}, nil
}

// Quiet returns a copy of the client that neither logs nor reports
// schema violations or rate limits, for many requests at once from
// goroutines whose exchanges the caller judges itself (Exchange.SchemaErr
// is still set).
func (c *Client) Quiet() *Client {
	q := *c
	q.opts.Log, q.opts.OnSchemaViolation, q.opts.OnRateLimited, q.opts.OnExchange = nil, nil, nil, nil
	return &q
}

// Report treats an exchange made through a Quiet copy as if this client
// had made it: it is logged, and a schema violation reported.
func (c *Client) Report(ex *Exchange) {
	c.log(ex)
	if ex.SchemaErr != nil && c.opts.OnSchemaViolation != nil {
		c.opts.OnSchemaViolation(ex)
	}
}

// API is the version of the API the client speaks.
func (c *Client) API() API { return c.api }

// Request is one request to make. Exactly one of Operation (with UserID)
// and Path names the resource.
type Request struct {
	Operation Operation
	UserID    string // fills {userId}, percent-encoded as a path segment
	// Path is a path relative to the API prefix, used exactly as given:
	// already escaped, for requests the operations cannot express.
	Path string
	// Absolute makes Path relative to the server's root instead, for
	// endpoints outside the client API (/_matrix/client/versions, the
	// admin API).
	Absolute bool
	// Method overrides the operation's method (e.g. OPTIONS, or a method
	// the path does not allow).
	Method string
	Token  string // "" sends none
	// TokenIn overrides where the token goes; TokenDefault follows the API.
	TokenIn TokenPlacement
	Query   url.Values
	Header  http.Header
	// Body is sent as is; when nil, JSON (if not nil) is sent encoded.
	Body []byte
	JSON any
	// NoRetry returns a 429 as it came, for requirements about 429 itself.
	NoRetry bool
}

// Do sends the request, retrying when rate-limited, and returns the last
// exchange. It never fails on its own: the caller asserts on the exchange.
func (c *Client) Do(ctx context.Context, r Request) *Exchange {
	for attempt := 0; ; attempt++ {
		ex := c.once(ctx, r)
		if ex.Status() != http.StatusTooManyRequests {
			return ex
		}
		if c.opts.OnRateLimited != nil {
			c.opts.OnRateLimited(ex)
		}
		if r.NoRetry || attempt >= c.opts.Retries429 {
			return ex
		}
		select {
		case <-ctx.Done():
			return ex
		case <-time.After(retryWait(ex)):
		}
	}
}

func retryWait(ex *Exchange) time.Duration {
	wait := time.Second
	if m, err := ex.MatrixError(); err == nil && m.RetryAfterMS != nil && *m.RetryAfterMS >= 0 {
		wait = time.Duration(*m.RetryAfterMS) * time.Millisecond
	}
	return min(wait, maxRetryWait)
}

func (c *Client) once(ctx context.Context, r Request) *Exchange {
	ex := &Exchange{Operation: r.Operation}
	req, err := c.build(ctx, r)
	if err != nil {
		ex.Err = err
		ex.Request = RecordedRequest{Method: r.Method, URL: &url.URL{Path: r.Path}}
		return ex
	}
	ex.Request = RecordedRequest{Method: req.Method, URL: req.URL, Header: req.Header.Clone(), Body: requestBody(r)}

	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.opts.HTTP.Do(req.WithContext(ctx))
	if err != nil {
		ex.Duration = time.Since(start)
		ex.Err = err
		c.log(ex)
		return ex
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	ex.Duration = time.Since(start)
	ex.Response = &RecordedResponse{Status: resp.StatusCode, Proto: resp.Proto, Header: resp.Header, Body: body}
	if err != nil {
		ex.Err = fmt.Errorf("reading the body: %w", err)
	}
	c.check(ex)
	c.log(ex)
	return ex
}

// check validates the body against the spec when the status is one the
// operation documents.
func (c *Client) check(ex *Exchange) {
	if ex.Operation == (Operation{}) || ex.Err != nil {
		return
	}
	if ex.Operation.Method != ex.Request.Method {
		return
	}
	op, doc := c.api.validatorFor(ex.Operation)
	if op == nil {
		return
	}
	ex.SchemaDoc = doc
	err := op.ValidateResponse(ex.Response.Status, ex.Response.Body)
	if errors.As(err, &ex.Undocumented) {
		return
	}
	if err != nil {
		ex.SchemaErr = err
		if c.opts.OnSchemaViolation != nil {
			c.opts.OnSchemaViolation(ex)
		}
	}
}

func (c *Client) log(ex *Exchange) {
	if c.opts.OnExchange != nil {
		c.opts.OnExchange(ex)
	}
	if c.opts.Log != nil {
		fmt.Fprintln(c.opts.Log, ex.String())
	}
}

func requestBody(r Request) []byte {
	if r.Body != nil || r.JSON == nil {
		return r.Body
	}
	b, err := json.Marshal(r.JSON)
	if err != nil {
		return nil
	}
	return b
}

func (c *Client) build(ctx context.Context, r Request) (*http.Request, error) {
	method := r.Method
	if method == "" {
		method = r.Operation.Method
	}
	path := r.Path
	if path == "" {
		path = strings.ReplaceAll(r.Operation.Path, "{userId}", url.PathEscape(r.UserID))
	}
	if !r.Absolute {
		path = c.api.Prefix + path
	}
	u, err := url.Parse(c.base.String() + path)
	if err != nil {
		return nil, fmt.Errorf("build URL for %s: %w", path, err)
	}
	tokenIn := r.TokenIn
	if tokenIn == TokenDefault {
		tokenIn = c.api.TokenIn
	}
	q := u.Query()
	for k, vs := range r.Query {
		q[k] = vs
	}
	if r.Token != "" && tokenIn == TokenInQuery {
		q.Set("access_token", r.Token)
	}
	u.RawQuery = q.Encode()

	if r.Body == nil && r.JSON != nil {
		if _, err := json.Marshal(r.JSON); err != nil {
			return nil, fmt.Errorf("encode request body: %w", err)
		}
	}
	body := requestBody(r)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" && tokenIn == TokenInHeader {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	return req, nil
}
