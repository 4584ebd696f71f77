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
