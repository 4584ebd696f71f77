package bench

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/mxpresence/mxpresence/suite/client"
)

// driver makes the presence changes: at cfg.Rate a second for
// cfg.Duration, each user in turn, each change a PUT status of online with
// a tagged status_msg. Changes go out on schedule, each on its own
// goroutine (at most maxInFlight at once), so a slow answer does not slow
// the rate.
type driver struct {
	cfg     Config
	users   []*client.Session
	mates   []map[int]bool
	session *client.Client
	tag     *tag

	changes []change // by sequence number
}

// change is one PUT status.
type change struct {
	user     int
	sent     time.Time // when the request went out: latency counts from here
	answered time.Time
	status   int // 0 when no response came
}

const maxInFlight = 256

func (d *driver) run(ctx context.Context, bar *progress) {
	total := max(1, int(d.cfg.Rate*d.cfg.Duration.Seconds()))
	interval := time.Duration(float64(time.Second) / d.cfg.Rate)
	d.changes = make([]change, total)
	bar.phase("changes", 0)
	start := time.Now()
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for seq := range total {
		if wait := time.Until(start.Add(time.Duration(seq) * interval)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				wg.Wait()
				d.changes = d.changes[:seq]
				return
			}
		}
		slots <- struct{}{}
		wg.Add(1)
		c := &d.changes[seq]
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			d.change(ctx, seq, c)
		}()
		bar.step(seq+1, total)
	}
	wg.Wait()
}

func (d *driver) change(ctx context.Context, seq int, c *change) {
	u := seq % len(d.users)
	s := d.session.As(d.users[u].UserID, d.users[u].Token)
	msg := d.tag.msg(seq)
	c.user = u
	c.sent = time.Now()
	ex := s.Do(ctx, client.Request{Method: http.MethodPut, Path: "/presence/" + url.PathEscape(s.UserID) + "/status",
		JSON: client.StatusUpdate{Presence: "online", StatusMsg: &msg}, NoRetry: true})
	c.answered = time.Now()
	c.status = ex.Status()
}
