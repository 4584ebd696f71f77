package suite

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mxpresence/mxpresence/suite/client"
)

// UserSource provisions the users that specs act as. Every user it hands
// out is one no other spec of the run holds, so specs are independent.
type UserSource interface {
	NewUser(ctx context.Context, c *client.Client) (*client.Session, error)
}

// Registration provisions users by registering fresh accounts. Localparts
// carry a random run ID, so runs against one long-lived server never meet.
type Registration struct {
	runID    string
	password string
	next     atomic.Int64
}

// NewRegistration returns a source that registers users the way c's API
// version does.
func NewRegistration() *Registration {
	return &Registration{runID: strings.ToLower(rand.Text()[:6]), password: rand.Text()}
}

// NewUser registers the next user of the run.
func (r *Registration) NewUser(ctx context.Context, c *client.Client) (*client.Session, error) {
	s, ex, err := c.Register(ctx, r.nextLocalpart(), r.password)
	if err != nil {
		return nil, fmt.Errorf("%w\n\n%s", err, ex)
	}
	return s, nil
}

// SharedSecret provisions users through shared-secret admin registration,
// for servers whose open registration is closed.
type SharedSecret struct {
	secret string
	reg    *Registration // for the run ID and password
}

// NewSharedSecret returns a source that registers users with the secret.
func NewSharedSecret(secret string) *SharedSecret {
	return &SharedSecret{secret: secret, reg: NewRegistration()}
}

// NewUser registers the next user of the run with the shared secret.
func (s *SharedSecret) NewUser(ctx context.Context, c *client.Client) (*client.Session, error) {
	sess, ex, err := c.RegisterWithSharedSecret(ctx, s.secret, s.reg.nextLocalpart(), s.reg.password)
	if err != nil {
		return nil, fmt.Errorf("%w\n\n%s", err, ex)
	}
	return sess, nil
}

func (r *Registration) nextLocalpart() string {
	return fmt.Sprintf("mxp-%s-%d", r.runID, r.next.Add(1))
}

// Pool hands out pre-made users from a file, for servers where the suite
// cannot register. A user may be handed out again once every other has
// been, so the pool resets a user's presence (offline, an empty status_msg)
// and list before handing it out; it must hold at least as many users as
// one spec needs (three). Rooms joined in earlier specs are not left, so
// under r0 and v3 a "stranger" may still share one: registration or a
// shared secret gives cleaner runs.
type Pool struct {
	mu    sync.Mutex
	users []poolUser
	next  int
}

type poolUser struct{ userID, token string }

// ReadPool reads one user per line, "USER_ID ACCESS_TOKEN"; blank lines and
// lines starting with # are ignored.
func ReadPool(r io.Reader) (*Pool, error) {
	p := &Pool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || !strings.HasPrefix(fields[0], "@") {
			return nil, fmt.Errorf("users file line %d: want \"@user:server ACCESS_TOKEN\"", n)
		}
		p.users = append(p.users, poolUser{fields[0], fields[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if len(p.users) < 3 {
		return nil, fmt.Errorf("users file: %d users; a spec needs up to 3", len(p.users))
	}
	return p, nil
}

// Shard keeps the users of one shard of a parallel run, so that shards
// never share a user.
func (p *Pool) Shard(index, total int) (*Pool, error) {
	out := &Pool{}
	for i, u := range p.users {
		if i%total == index {
			out.users = append(out.users, u)
		}
	}
	if len(out.users) < 3 {
		return nil, fmt.Errorf("users file: %d users for %d parallel processes; each needs at least 3", len(p.users), total)
	}
	return out, nil
}

// NewUser hands out the next user, reset to offline with an empty list.
func (p *Pool) NewUser(ctx context.Context, c *client.Client) (*client.Session, error) {
	p.mu.Lock()
	u := p.users[p.next%len(p.users)]
	p.next++
	p.mu.Unlock()

	s := c.As(u.userID, u.token)
	empty := ""
	if ex := s.SetStatus(ctx, u.userID, client.StatusUpdate{Presence: "offline", StatusMsg: &empty}); ex.Status() != http.StatusOK {
		return nil, fmt.Errorf("reset %s: cannot set presence\n\n%s", u.userID, ex)
	}
	if c.API().Has(client.GetList) {
		ex := s.GetList(ctx, u.userID)
		events, err := client.DecodeList(ex)
		if err != nil {
			return nil, fmt.Errorf("reset %s: cannot read the presence list: %v\n\n%s", u.userID, err, ex)
		}
		var drop []string
		for _, e := range events {
			drop = append(drop, e.Content.UserID)
		}
		if len(drop) > 0 {
			if ex := s.ChangeList(ctx, u.userID, client.ListChange{Drop: drop}); ex.Status() != http.StatusOK {
				return nil, fmt.Errorf("reset %s: cannot empty the presence list\n\n%s", u.userID, ex)
			}
		}
	}
	return s, nil
}

// deviceSource is a UserSource that can log a user it made in again, on
// a new device, for the requirements about one user's devices.
type deviceSource interface {
	NewDevice(ctx context.Context, c *client.Client, of *client.Session) (*client.Session, error)
}

// NewDevice logs in as a user this source registered, on a new device.
func (r *Registration) NewDevice(ctx context.Context, c *client.Client, of *client.Session) (*client.Session, error) {
	localpart, _, _ := strings.Cut(strings.TrimPrefix(of.UserID, "@"), ":")
	s, ex, err := c.Login(ctx, localpart, r.password)
	if err != nil {
		return nil, fmt.Errorf("%w\n\n%s", err, ex)
	}
	return s, nil
}

// NewDevice logs in as a user this source registered, on a new device.
func (s *SharedSecret) NewDevice(ctx context.Context, c *client.Client, of *client.Session) (*client.Session, error) {
	return s.reg.NewDevice(ctx, c, of)
}
