//go:build goexperiment.jsonv2 || go1.27

package federation

import (
	"context"
	"encoding/json/jsontext"
	"encoding/json/v2"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix/federation/pdu"
	"maunium.net/go/mautrix/id"
)

// The joins and leaves. A mock room is its members and nothing else, so
// over federation it gets the least event graph a join needs, made when a
// remote server first asks: m.room.create, the creator's join,
// m.room.power_levels and m.room.join_rules, each signed by this server,
// then a member event for each local member, and the remote users' own
// join and leave events as they send them. Hashes, signatures and event IDs
// are mautrix federation/pdu's. One room version: 10.

// RoomEventsBuilt says whether this build has the joins (it needs
// encoding/json/v2 for mautrix federation/pdu).
const RoomEventsBuilt = true

const roomVersion = id.RoomVersion(RoomVersion)

type roomEvents struct {
	mu     sync.Mutex
	graphs map[string]*roomGraph
}

// A roomGraph is one room's events, each by ID, and where state stands.
type roomGraph struct {
	id          string
	events      map[id.EventID]*pdu.PDU
	create      id.EventID
	powerLevels id.EventID
	joinRules   id.EventID
	members     map[string]id.EventID // each user's latest member event
	joined      map[string]bool
	latest      id.EventID
	depth       int64
}

// graph returns the room's graph, made on first use, with its local
// members brought up to date; the caller holds rooms.mu.
func (f *Federation) graph(roomID string, info RoomInfo) (*roomGraph, error) {
	if f.rooms.graphs == nil {
		f.rooms.graphs = map[string]*roomGraph{}
	}
	g := f.rooms.graphs[roomID]
	if g == nil {
		g = &roomGraph{id: roomID, events: map[id.EventID]*pdu.PDU{}, members: map[string]id.EventID{}, joined: map[string]bool{}}
		var err error
		if g.create, err = f.addEvent(g, "m.room.create", "", info.Creator, map[string]any{"creator": info.Creator, "room_version": RoomVersion}, nil); err != nil {
			return nil, err
		}
		if _, err = f.addMember(g, info.Creator, "join"); err != nil {
			return nil, err
		}
		if g.powerLevels, err = f.addEvent(g, "m.room.power_levels", "", info.Creator, map[string]any{"users": map[string]int{info.Creator: 100}}, nil); err != nil {
			return nil, err
		}
		rule := "invite"
		if info.Public {
			rule = "public"
		}
		if g.joinRules, err = f.addEvent(g, "m.room.join_rules", "", info.Creator, map[string]any{"join_rule": rule}, nil); err != nil {
			return nil, err
		}
		f.rooms.graphs[roomID] = g
	}
	// Local members join and leave through the client API, which makes no
	// events: the graph catches up here.
	for _, m := range info.Members {
		if f.isLocal(m) && !g.joined[m] {
			if _, err := f.addMember(g, m, "join"); err != nil {
				return nil, err
			}
		}
	}
	for m := range g.joined {
		if f.isLocal(m) && !slices.Contains(info.Members, m) {
			if _, err := f.addMember(g, m, "leave"); err != nil {
				return nil, err
			}
		}
	}
	return g, nil
}

func (f *Federation) isLocal(userID string) bool {
	_, server, err := id.UserID(userID).Parse()
	return err == nil && server == f.name
}

// authFor is the auth events of a member event of user: create, power
// levels, the join rules for a join, and the user's own latest membership.
func (g *roomGraph) authFor(userID, membership string) []id.EventID {
	auth := []id.EventID{g.create}
	if g.powerLevels != "" {
		auth = append(auth, g.powerLevels)
	}
	if membership == "join" && g.joinRules != "" {
		auth = append(auth, g.joinRules)
	}
	if prev, ok := g.members[userID]; ok {
		auth = append(auth, prev)
	}
	return auth
}

func (f *Federation) addMember(g *roomGraph, userID, membership string) (id.EventID, error) {
	return f.addEvent(g, "m.room.member", userID, userID, map[string]any{"membership": membership}, g.authFor(userID, membership))
}

// addEvent makes, signs and appends one event of this server's.
func (f *Federation) addEvent(g *roomGraph, typ, stateKey, sender string, content any, auth []id.EventID) (id.EventID, error) {
	raw, err := json.Marshal(content)
	if err != nil {
		return "", err
	}
	p := g.template(typ, stateKey, sender, raw, auth)
	if err := p.Sign(roomVersion, f.name, f.key.ID, f.key.Priv); err != nil {
		return "", err
	}
	return g.append(p)
}

// template is an unsigned event on top of the graph.
func (g *roomGraph) template(typ, stateKey, sender string, content jsontext.Value, auth []id.EventID) *pdu.PDU {
	p := &pdu.PDU{
		AuthEvents:     auth,
		Content:        content,
		Depth:          g.depth + 1,
		OriginServerTS: time.Now().UnixMilli(),
		PrevEvents:     []id.EventID{},
		RoomID:         id.RoomID(g.id),
		Sender:         id.UserID(sender),
		Type:           typ,
	}
	if p.AuthEvents == nil {
		p.AuthEvents = []id.EventID{}
	}
	if g.latest != "" {
		p.PrevEvents = []id.EventID{g.latest}
	}
	if typ != "m.room.message" {
		p.StateKey = &stateKey
	}
	return p
}

// append adds a signed event to the graph as its latest.
func (g *roomGraph) append(p *pdu.PDU) (id.EventID, error) {
	eid, err := p.GetEventID(roomVersion)
	if err != nil {
		return "", err
	}
	g.events[eid] = p
	g.latest = eid
	g.depth = max(g.depth, p.Depth)
	if p.Type == "m.room.member" && p.StateKey != nil {
		g.members[*p.StateKey] = eid
		g.joined[*p.StateKey] = memberContent(p) == "join"
	}
	return eid, nil
}

func memberContent(p *pdu.PDU) string {
	var c struct {
		Membership string `json:"membership"`
	}
	json.Unmarshal(p.Content, &c)
	return c.Membership
}

// state is the room's current state events; authChain the events they
// are authorised by, which in these rooms is the room's first four.
func (g *roomGraph) state() []jsontext.Value {
	ids := []id.EventID{g.create, g.powerLevels, g.joinRules}
	for _, eid := range g.members {
		ids = append(ids, eid)
	}
	return g.encode(ids)
}

func (g *roomGraph) authChain() []jsontext.Value {
	ids := []id.EventID{g.create, g.powerLevels, g.joinRules}
	creator := string(g.events[g.create].Sender)
	for eid, p := range g.events {
		if p.Type == "m.room.member" && string(p.Sender) == creator && len(p.PrevEvents) == 1 && p.PrevEvents[0] == g.create {
			ids = append(ids, eid)
		}
	}
	return g.encode(ids)
}

func (g *roomGraph) encode(ids []id.EventID) []jsontext.Value {
	out := make([]jsontext.Value, 0, len(ids))
	for _, eid := range ids {
		if raw, err := json.Marshal(g.events[eid]); err == nil {
			out = append(out, raw)
		}
	}
	return out
}

// makeJoin serves GET /v1/make_join/{roomId}/{userId}: a join template
// for a user of the asking server, into a public local room, if the
// server supports room version 10.
func (f *Federation) makeJoin(w http.ResponseWriter, r *http.Request) {
	f.makeMembership(w, r, "join")
}

// makeLeave serves GET /v1/make_leave/{roomId}/{userId}: a leave template
// for a joined user of the asking server.
func (f *Federation) makeLeave(w http.ResponseWriter, r *http.Request) {
	f.makeMembership(w, r, "leave")
}

func (f *Federation) makeMembership(w http.ResponseWriter, r *http.Request, membership string) {
	roomID, userID := r.PathValue("roomId"), r.PathValue("userId")
	if !f.ownUser(r, userID) {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "a server may ask to "+membership+" for its own users only, not "+quote(userID))
		return
	}
	if membership == "join" && !slices.Contains(r.URL.Query()["ver"], RoomVersion) {
		body, _ := json.Marshal(map[string]string{"errcode": "M_INCOMPATIBLE_ROOM_VERSION", "error": "the room's version is 10, which the ver parameters do not list", "room_version": RoomVersion})
		writeJSON(w, http.StatusBadRequest, body)
		return
	}
	info, ok := f.roomFor(w, roomID, membership, userID)
	if !ok {
		return
	}
	f.rooms.mu.Lock()
	defer f.rooms.mu.Unlock()
	g, err := f.graph(roomID, info)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "M_UNKNOWN", "the room's events could not be made: "+err.Error())
		return
	}
	content, _ := json.Marshal(map[string]string{"membership": membership})
	t := g.template("m.room.member", userID, userID, content, g.authFor(userID, membership))
	writeEvents(w, map[string]any{"room_version": RoomVersion, "event": t})
}

// ownUser says whether userID is a user of the server that signed r.
// roomFor finds the room a server asks to join or leave, and refuses what
// the mock's rooms do not allow: a join of a room that is not public (no
// invites over federation), a leave by a user who is not in it.
func (f *Federation) roomFor(w http.ResponseWriter, roomID, membership, userID string) (RoomInfo, bool) {
	info, ok := f.home.Room(roomID)
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "there is no room "+quote(roomID)+" on this server")
	case membership == "join" && !info.Public:
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "the room is not public and this server has no invites over federation")
	case membership == "leave" && !slices.Contains(info.Members, userID):
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", quote(userID)+" is not in the room")
	default:
		return info, true
	}
	return info, false
}

func (f *Federation) ownUser(r *http.Request, userID string) bool {
	_, server, err := id.UserID(userID).ParseAndValidateRelaxed()
	return err == nil && userID != "" && userID[0] == '@' && server == Origin(r)
}

// sendJoin serves PUT /v2/send_join/{roomId}/{eventId}: the asking
// server's signed join; its user becomes a member, and the answer is the
// room's state and auth chain.
func (f *Federation) sendJoin(w http.ResponseWriter, r *http.Request) {
	f.sendMembership(w, r, "join")
}

// sendLeave serves PUT /v2/send_leave/{roomId}/{eventId}: the asking
// server's signed leave; its user is a member no longer.
func (f *Federation) sendLeave(w http.ResponseWriter, r *http.Request) {
	f.sendMembership(w, r, "leave")
}

// sendMembership checks a signed member event before anything changes:
// its form, that it is the path's room and event, a member event of the
// asking server's user about themself with the expected membership, that
// its content hash and the origin's signature verify, and that it is built
// on this room's events.
func (f *Federation) sendMembership(w http.ResponseWriter, r *http.Request, membership string) {
	roomID, eventID := r.PathValue("roomId"), id.EventID(r.PathValue("eventId"))
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the body could not be read")
		return
	}
	var p pdu.PDU
	if err := json.Unmarshal(body, &p); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the body is not an event: "+err.Error())
		return
	}
	switch {
	case p.Type != "m.room.member" || p.StateKey == nil || *p.StateKey != string(p.Sender):
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the event is not a member event of its sender")
		return
	case memberContent(&p) != membership:
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the event's membership is not "+membership)
		return
	case string(p.RoomID) != roomID:
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the event is of another room than the path's")
		return
	case !f.ownUser(r, string(p.Sender)):
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "a server may send member events of its own users only")
		return
	}
	if got, err := p.GetEventID(roomVersion); err != nil || got != eventID {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the path's event ID is not the event's ("+string(got)+")")
		return
	}
	if !p.VerifyContentHash() {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the event's content hash does not match it")
		return
	}
	if err := p.VerifySignature(roomVersion, Origin(r), f.keyFor(r.Context())); err != nil {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "the event's signature does not verify: "+err.Error())
		return
	}
	info, ok := f.roomFor(w, roomID, membership, string(p.Sender))
	if !ok {
		return
	}
	f.rooms.mu.Lock()
	defer f.rooms.mu.Unlock()
	g, err := f.graph(roomID, info)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "M_UNKNOWN", "the room's events could not be made: "+err.Error())
		return
	}
	for _, ref := range append(slices.Clone(p.AuthEvents), p.PrevEvents...) {
		if g.events[ref] == nil {
			writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the event refers to "+quote(string(ref))+", which is not an event of this room")
			return
		}
	}
	if len(p.PrevEvents) == 0 {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the event has no prev_events")
		return
	}
	if membership == "join" {
		err = f.home.Join(roomID, string(p.Sender))
	} else {
		err = f.home.Leave(roomID, string(p.Sender))
	}
	if err != nil {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", err.Error())
		return
	}
	if _, err := g.append(&p); err != nil {
		writeError(w, http.StatusInternalServerError, "M_UNKNOWN", err.Error())
		return
	}
	if membership == "leave" {
		writeJSON(w, http.StatusOK, []byte(`{}`))
		return
	}
	writeEvents(w, map[string]any{
		"origin":          f.name,
		"state":           g.state(),
		"auth_chain":      g.authChain(),
		"event":           jsontext.Value(body),
		"members_omitted": false,
		"servers_in_room": g.servers(),
	})
}

// servers are the servers of the room's joined members.
func (g *roomGraph) servers() []string {
	var out []string
	for u, in := range g.joined {
		if _, s, err := id.UserID(u).Parse(); in && err == nil && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// keyFor looks keys up for event signatures through the same cache the
// request authentication fills.
func (f *Federation) keyFor(ctx context.Context) pdu.GetKeyFunc {
	return func(serverName string, keyID id.KeyID, _ time.Time) (id.SigningKey, time.Time, error) {
		resp, err := f.auth.GetKeysWithCache(ctx, serverName, keyID, 5*time.Minute)
		if err != nil {
			return "", time.Time{}, err
		}
		k, ok := resp.VerifyKeys[keyID]
		if !ok {
			return "", time.Time{}, nil
		}
		return k.Key, resp.ValidUntilTS.Time, nil
	}
}

// writeEvents answers 200 with a body that holds events, encoded by
// encoding/json/v2 as federation/pdu's types need.
func writeEvents(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "M_UNKNOWN", "the answer could not be encoded: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, body)
}
