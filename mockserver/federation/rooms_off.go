//go:build !goexperiment.jsonv2 && !go1.27

package federation

import (
	"net/http"
	"sync/atomic"
)

// RoomEventsBuilt says whether this build has the joins: mautrix
// federation/pdu, which hashes, signs and names events, needs
// encoding/json/v2, that is GOEXPERIMENT=jsonv2 before Go 1.27.
const RoomEventsBuilt = false

// roomEvents counts the joins and leaves asked of a build without them, for
// the log.
type roomEvents struct{ asked atomic.Int64 }

// noRoomEvents answers the join and leave endpoints in a build without
// room events, saying how to get them.
func (f *Federation) noRoomEvents(w http.ResponseWriter, r *http.Request) {
	f.logf("federation: a join or leave was asked of a build without room events", "path", r.URL.Path, "asked", f.rooms.asked.Add(1))
	writeError(w, http.StatusNotFound, "M_UNRECOGNIZED",
		"this build of the mock has no room events, so no joins or leaves over federation: build it with GOEXPERIMENT=jsonv2 (mautrix federation/pdu needs encoding/json/v2)")
}

func (f *Federation) makeJoin(w http.ResponseWriter, r *http.Request)  { f.noRoomEvents(w, r) }
func (f *Federation) sendJoin(w http.ResponseWriter, r *http.Request)  { f.noRoomEvents(w, r) }
func (f *Federation) makeLeave(w http.ResponseWriter, r *http.Request) { f.noRoomEvents(w, r) }
func (f *Federation) sendLeave(w http.ResponseWriter, r *http.Request) { f.noRoomEvents(w, r) }
