package mockserver

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// The log and the walk over every mate are two ways to the same answer:
// after random presence changes, room creations, joins and leaves, every
// user's incremental sync from every earlier position must come out the
// same both ways.
func TestLogAndWalkAgree(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			h := newHarness(t)
			var accts []Account
			for i := range 6 {
				accts = append(accts, h.register(fmt.Sprintf("u%d", i)))
			}
			var rooms []string
			for range 60 {
				a := accts[rng.IntN(len(accts))]
				switch op := rng.IntN(10); {
				case op < 5:
					h.putPresence(r0Prefix, a, fmt.Sprintf(`{"presence":"%s"}`, []string{"online", "unavailable", "offline"}[rng.IntN(3)]))
				case op < 6 || len(rooms) == 0:
					var invite []string
					for _, o := range accts {
						if o != a && rng.IntN(2) == 0 {
							invite = append(invite, o.UserID)
						}
					}
					rooms = append(rooms, h.createRoom(r0Prefix, a, invite...))
				case op < 9:
					h.joinRoom(r0Prefix, a, rooms[rng.IntN(len(rooms))]) // refused when not invited: fine
				default:
					h.as(a.AccessToken, "POST", r0Prefix+"/rooms/"+url.PathEscape(rooms[rng.IntN(len(rooms))])+"/leave", `{}`)
				}
			}
			api := h.srv.mounts[1].api
			if api.name != "r0" {
				t.Fatalf("mount 1 is %s", api.name)
			}
			current := h.srv.stream.current()
			for _, a := range accts {
				viewer := h.srv.userByID(a.UserID)
				for since := range current + 1 {
					entries, upTo, ok := h.srv.stream.since(since)
					if !ok {
						t.Fatal("the log does not reach back")
					}
					fromLog, logRooms, logUpTo := h.srv.collectFromLog(api, viewer, since, entries, upTo)
					mates, walkRooms := h.srv.audience(api, viewer)
					fromWalk, walkUpTo := h.srv.collectFromMates(mates, since, false)
					walkRooms = slices.DeleteFunc(walkRooms, func(jr joinedRoom) bool { return jr.joinedAt <= since || jr.joinedAt > walkUpTo })
					if logUpTo != walkUpTo || describe(fromLog, logRooms) != describe(fromWalk, walkRooms) {
						t.Fatalf("%s since %d:\nlog  %d %s\nwalk %d %s", a.UserID, since, logUpTo, describe(fromLog, logRooms), walkUpTo, describe(fromWalk, walkRooms))
					}
				}
			}
		})
	}
}

func describe(ds []delivery, rooms []joinedRoom) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%s@%d", d.u.id, d.at))
	}
	var rs []string
	for _, r := range rooms {
		rs = append(rs, fmt.Sprintf("%s@%d", r.id, r.joinedAt))
	}
	slices.Sort(rs)
	return strings.Join(parts, " ") + " | " + strings.Join(rs, " ")
}

// Across chunk boundaries, and past the log's reach, incremental syncs
// still bring each change once.
func TestLogChunksAndItsReach(t *testing.T) {
	h := newHarness(t)
	a, b := h.register("alice"), h.register("bob")
	mustOK(t, h.joinRoom(r0Prefix, b, h.createRoom(r0Prefix, a, b.UserID)))
	tok := h.syncAs(r0Prefix, b, "set_presence=offline").NextBatch
	var tokens []string
	for i := range 3 * logChunk {
		h.putPresence(r0Prefix, a, fmt.Sprintf(`{"presence":"online","status_msg":"%d"}`, i))
		if i%(logChunk/2) == 0 {
			tokens = append(tokens, h.syncAs(r0Prefix, b, "set_presence=offline").NextBatch)
		}
	}
	for _, from := range append(tokens, tok) {
		s := h.syncAs(r0Prefix, b, q("since", from, "set_presence", "offline"))
		if ev := s.eventFrom(a.UserID); len(s.Presence.Events) != 1 || ev == nil || *ev.Content.StatusMsg != fmt.Sprint(3*logChunk-1) {
			t.Errorf("since %s: %v", from, s.senders())
		}
	}
	// Fill the log until the first token is out of its reach: the walk
	// over every mate answers instead, with the same result.
	viewer := h.srv.userByID(b.UserID)
	for range logChunk * maxLogChunks {
		h.srv.stream.record(viewer, nil) // positions without a change of state
	}
	pos, _ := h.srv.stream.parseToken(tok)
	if _, _, ok := h.srv.stream.since(pos); ok {
		t.Fatal("the log still reaches the first token")
	}
	// The log holds bob's positions, but his state never changed: the
	// walk, which reads the state, brings alice alone.
	s := h.syncAs(r0Prefix, b, q("since", tok, "set_presence", "offline"))
	if !slices.Equal(s.senders(), []string{a.UserID}) {
		t.Errorf("past the log's reach: %v", s.senders())
	}
}
