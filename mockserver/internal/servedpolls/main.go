// Command servedpolls holds thousands of /sync long-polls open against the
// built binary as `mxpresence serve` runs it (its sibling longpolls measures
// the handler alone, in a child process, with the runtime's own figures), from a process of its own
// (each process here may open 20,000 files, and every long-poll is a
// connection at both ends). It measures how long one presence change takes
// to answer -wake waiting long-polls, from just before the PUT is sent to
// each response read in full; the server's resident memory while -hold
// long-polls wait; and that GET status keeps answering meanwhile, and how
// fast. Build the binary first:
//
//	go build -o /tmp/mxpresence ./cmd/mxpresence
//	go run ./mockserver/internal/servedpolls -serve /tmp/mxpresence [-hold 5000] [-wake 1000]
//
// Every request goes to 127.0.0.1, every long-poll carries a timeout, and
// the whole run stops itself after -limit.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mxpresence/mxpresence/mockserver/internal/served"
)

func main() {
	bin := flag.String("serve", "", "the built mxpresence `binary` to start as `mxpresence serve`")
	hold := flag.Int("hold", 5000, "long-polls held open at once for the memory reading")
	wake := flag.Int("wake", 1000, "long-polls one presence change must answer")
	limit := flag.Duration("limit", 4*time.Minute, "the whole run stops after this long")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "servedpolls: -serve is required: go build -o /tmp/mxpresence ./cmd/mxpresence first")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *limit)
	defer cancel()
	if err := run(ctx, *bin, *hold, *wake, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "servedpolls:", err)
		os.Exit(1)
	}
}

// owner is the user whose presence changes; everyone else shares a public
// room with them and waits for it.
const owner = "@owner:localhost"

// pollTimeout is each long-poll's own timeout: far longer than any phase,
// so that a long-poll that returns did so because it was woken.
const pollTimeout = 90 * time.Second

func run(ctx context.Context, bin string, hold, wake int, out io.Writer) error {
	dir, err := os.MkdirTemp("", "servedpolls")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	proc, err := served.Start(bin, filepath.Join(dir, "access.log"), "--user", "owner:longpoll", "--rate-limit", "0")
	if err != nil {
		return err
	}
	defer proc.Stop()
	baseRSS, _, err := proc.ResidentKB()
	if err != nil {
		return err
	}
	c := &client{base: proc.URL, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(hold, wake)}}}
	ownerToken := proc.Accounts[owner]
	var room struct {
		RoomID string `json:"room_id"`
	}
	if err := c.call(ctx, http.MethodPost, "/_matrix/client/v3/createRoom", ownerToken, `{"preset":"public_chat"}`, &room); err != nil {
		return fmt.Errorf("create the room: %w", err)
	}

	n := max(hold, wake)
	start := time.Now()
	tokens, err := c.users(ctx, n, room.RoomID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d users registered, joined to one public room with %s and synced once, in %v\n", n, owner, time.Since(start).Round(time.Millisecond))

	// Wake first, on a quiet server, then hold the larger number.
	lat, err := c.wakeAll(ctx, tokens[:wake], ownerToken, "first wake", nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "one presence change answered %d waiting long-polls: p50 %v  p99 %v  max %v\n",
		wake, pct(lat, 50), pct(lat, 99), pct(lat, 100))

	var statusLat []time.Duration
	var rssNow, rssPeak int
	var rssSeries []string
	measure := func() error {
		statusLat, err = c.readStatus(ctx, ownerToken, 200)
		if err != nil {
			return err
		}
		// Resident memory while the polls wait, over ten seconds: the
		// runtime hands memory freed after the burst of connections back to
		// the OS gradually, so the first reading is the highest.
		for i := range 6 {
			if i > 0 {
				time.Sleep(2 * time.Second)
			}
			if rssNow, rssPeak, err = proc.ResidentKB(); err != nil {
				return err
			}
			rssSeries = append(rssSeries, fmt.Sprintf("%.1f", float64(rssNow)/1024))
		}
		return nil
	}
	lat, err = c.wakeAll(ctx, tokens[:hold], ownerToken, "hold", measure)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d long-polls held at once: server resident %.1f MB after ten seconds (%.1f MB before any user; peak %.1f MB); every two seconds: %s MB\n",
		hold, float64(rssNow)/1024, float64(baseRSS)/1024, float64(rssPeak)/1024, strings.Join(rssSeries, ", "))
	fmt.Fprintf(out, "meanwhile 200 GET status, one at a time, all 200: p50 %v  p99 %v  max %v\n",
		pct(statusLat, 50), pct(statusLat, 99), pct(statusLat, 100))
	fmt.Fprintf(out, "then one presence change answered all %d: p50 %v  p99 %v  max %v\n",
		hold, pct(lat, 50), pct(lat, 99), pct(lat, 100))
	return nil
}

type client struct {
	base string
	http *http.Client
}

// call makes one request and decodes a 200's body into into; any other
// status is an error carrying the body, which says why.
func (c *client) call(ctx context.Context, method, path, token, body string, into any) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	if into == nil {
		return nil
	}
	return json.Unmarshal(data, into)
}

// ownerOnly keeps each sync to the owner's presence: the measurement is
// of waiting and waking, not of serialising thousands of room-mates.
var ownerOnly = url.QueryEscape(`{"presence":{"senders":["` + owner + `"]},"room":{"rooms":[]}}`)

// syncPath is a /sync that does not itself change presence.
func syncPath(since string, timeout time.Duration) string {
	p := "/_matrix/client/v3/sync?set_presence=offline&filter=" + ownerOnly + fmt.Sprintf("&timeout=%d", timeout.Milliseconds())
	if since != "" {
		p += "&since=" + url.QueryEscape(since)
	}
	return p
}

type syncResponse struct {
	NextBatch string `json:"next_batch"`
	Presence  struct {
		Events []json.RawMessage `json:"events"`
	} `json:"presence"`
}

// pollUser is one waiting user: a token and where their stream stands.
type pollUser struct {
	token, since string
}

// users registers n users (v1's one-step registration), joins each to the
// room and syncs each once, sixteen at a time.
func (c *client) users(ctx context.Context, n int, roomID string) ([]*pollUser, error) {
	us := make([]*pollUser, n)
	errs := make(chan error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range next {
				var reg struct {
					AccessToken string `json:"access_token"`
				}
				body := fmt.Sprintf(`{"type":"m.login.password","user":"lp%05d","password":"longpoll"}`, i)
				if err := c.call(ctx, http.MethodPost, "/_matrix/client/api/v1/register", "", body, &reg); err != nil {
					errs <- err
					continue
				}
				if err := c.call(ctx, http.MethodPost, "/_matrix/client/v3/join/"+url.PathEscape(roomID), reg.AccessToken, "{}", nil); err != nil {
					errs <- err
					continue
				}
				var sr syncResponse
				if err := c.call(ctx, http.MethodGet, syncPath("", 0), reg.AccessToken, "", &sr); err != nil {
					errs <- err
					continue
				}
				us[i] = &pollUser{token: reg.AccessToken, since: sr.NextBatch}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("make the users: %w", err)
	}
	return us, nil
}

// wakeAll starts a long-poll for every user, waits until the server holds
// them all (none answers before the change), runs during (if any), changes
// the owner's presence, and returns how long each long-poll took to answer
// from just before the change was sent. Each answer must carry the change.
func (c *client) wakeAll(ctx context.Context, us []*pollUser, ownerToken, phase string, during func() error) ([]time.Duration, error) {
	if err := c.catchUp(ctx, us); err != nil {
		return nil, fmt.Errorf("%s: %w", phase, err)
	}
	type answer struct {
		at  time.Time
		err error
	}
	answers := make(chan answer, len(us))
	for _, u := range us {
		go func() {
			var sr syncResponse
			err := c.call(ctx, http.MethodGet, syncPath(u.since, pollTimeout), u.token, "", &sr)
			at := time.Now()
			if err == nil && len(sr.Presence.Events) == 0 {
				err = errors.New("a long-poll answered without the owner's presence")
			}
			u.since = sr.NextBatch
			answers <- answer{at, err}
		}()
	}
	// Every request is sent and parked well within this on loopback; one
	// that answers early fails the phase below.
	settle := 2*time.Second + time.Duration(len(us))*time.Millisecond/2
	select {
	case a := <-answers:
		return nil, fmt.Errorf("%s: a long-poll answered before any change: %v", phase, a.err)
	case <-time.After(settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if during != nil {
		if err := during(); err != nil {
			return nil, fmt.Errorf("%s: while the long-polls wait: %w", phase, err)
		}
	}
	changed := time.Now()
	body := fmt.Sprintf(`{"presence":"online","status_msg":"%s %d"}`, phase, changed.UnixNano())
	if err := c.call(ctx, http.MethodPut, "/_matrix/client/v3/presence/"+owner+"/status", ownerToken, body, nil); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, len(us))
	for range us {
		a := <-answers
		if a.err != nil {
			return nil, fmt.Errorf("%s: %w", phase, a.err)
		}
		lat = append(lat, a.at.Sub(changed))
	}
	return lat, nil
}

// catchUp brings every user's token up to now, as a client that keeps
// syncing has it, so that no earlier change answers the coming long-polls.
func (c *client) catchUp(ctx context.Context, us []*pollUser) error {
	next := make(chan *pollUser)
	errs := make(chan error, len(us))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for u := range next {
				var sr syncResponse
				if err := c.call(ctx, http.MethodGet, syncPath(u.since, 0), u.token, "", &sr); err != nil {
					errs <- err
					continue
				}
				u.since = sr.NextBatch
			}
		})
	}
	for _, u := range us {
		next <- u
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	return nil
}

// readStatus reads the owner's status n times, one after another, and
// returns each request's latency.
func (c *client) readStatus(ctx context.Context, token string, n int) ([]time.Duration, error) {
	lat := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if err := c.call(ctx, http.MethodGet, "/_matrix/client/v3/presence/"+owner+"/status", token, "", nil); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// pct is the p-th percentile (nearest rank), rounded for reading.
func pct(xs []time.Duration, p int) time.Duration {
	s := slices.Sorted(slices.Values(xs))
	i := max(0, (p*len(s)+99)/100-1)
	return s[i].Round(10 * time.Microsecond)
}
