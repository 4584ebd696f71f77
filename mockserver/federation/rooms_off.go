//go:build !goexperiment.jsonv2 && !go1.27

package federation

import "net/http"

// RoomEventsBuilt says whether this build has the joins: mautrix
// federation/pdu, which hashes, signs and names events, needs
// encoding/json/v2, that is GOEXPERIMENT=jsonv2 before Go 1.27.
const RoomEventsBuilt = false

type roomEvents struct{}

// noRoomEvents answers the join and leave endpoints in a build without
// room events, saying how to get them.
func noRoomEvents(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "M_UNRECOGNIZED",
		"this build of the mock has no room events, so no joins or leaves over federation: build it with GOEXPERIMENT=jsonv2 (mautrix federation/pdu needs encoding/json/v2)")
}

func (f *Federation) makeJoin(w http.ResponseWriter, r *http.Request)  { noRoomEvents(w, r) }
func (f *Federation) sendJoin(w http.ResponseWriter, r *http.Request)  { noRoomEvents(w, r) }
func (f *Federation) makeLeave(w http.ResponseWriter, r *http.Request) { noRoomEvents(w, r) }
func (f *Federation) sendLeave(w http.ResponseWriter, r *http.Request) { noRoomEvents(w, r) }
