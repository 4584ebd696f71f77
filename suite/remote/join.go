//go:build goexperiment.jsonv2 || go1.27

package remote

import (
	"context"
	"encoding/json/v2"
	"fmt"
	"time"

	"maunium.net/go/mautrix/federation"
	"maunium.net/go/mautrix/federation/pdu"
	"maunium.net/go/mautrix/id"
)

// CanJoin reports whether this build can join rooms: mautrix's pdu package,
// which signs events and computes their IDs, needs encoding/json/v2, which
// Go 1.26 has only under GOEXPERIMENT=jsonv2.
const CanJoin = true

// Join makes userID, a user of the remote server, join roomID over
// federation: make_join (offering every room version the remote server
// can sign), then send_join of the template signed with the remote
// server's key, in the room version the target chose. It returns the
// join event's ID and the room version.
func (s *Server) Join(ctx context.Context, roomID, userID string) (eventID, version string, err error) {
	resp, err := s.out.MakeJoin(ctx, &federation.ReqMakeJoin{
		RoomID: id.RoomID(roomID), UserID: id.UserID(userID), Via: s.targetName, SupportedVersions: roomVersions,
	})
	if err != nil {
		return "", "", fmt.Errorf("make_join %s for %s: %w", roomID, userID, err)
	}
	event, evID, err := s.signTemplate(resp.Event, resp.RoomVersion)
	if err != nil {
		return "", "", fmt.Errorf("make_join %s for %s: %w", roomID, userID, err)
	}
	if _, err := s.out.SendJoin(ctx, &federation.ReqSendJoin{RoomID: id.RoomID(roomID), EventID: evID, Event: event, Via: s.targetName}); err != nil {
		return "", "", fmt.Errorf("send_join %s for %s: %w", roomID, userID, err)
	}
	return string(evID), string(resp.RoomVersion), nil
}

// Leave makes userID leave roomID over federation: make_leave, then
// send_leave of the signed template.
func (s *Server) Leave(ctx context.Context, roomID, userID string) error {
	resp, err := s.out.MakeLeave(ctx, &federation.ReqMakeLeave{RoomID: id.RoomID(roomID), UserID: id.UserID(userID), Via: s.targetName})
	if err != nil {
		return fmt.Errorf("make_leave %s for %s: %w", roomID, userID, err)
	}
	event, evID, err := s.signTemplate(resp.Event, resp.RoomVersion)
	if err != nil {
		return fmt.Errorf("make_leave %s for %s: %w", roomID, userID, err)
	}
	if err := s.out.SendLeave(ctx, &federation.ReqSendLeave{RoomID: id.RoomID(roomID), EventID: evID, Event: event, Via: s.targetName}); err != nil {
		return fmt.Errorf("send_leave %s for %s: %w", roomID, userID, err)
	}
	return nil
}

// signTemplate stamps a make_join or make_leave template with the time,
// signs it (the library fills the content hash first) and computes its
// event ID in the room version given.
func (s *Server) signTemplate(template []byte, version id.RoomVersion) ([]byte, id.EventID, error) {
	if version == "" {
		version = id.RoomV1 // the spec's default when make_join names none
	}
	var p pdu.PDU
	if err := json.Unmarshal(template, &p); err != nil {
		return nil, "", fmt.Errorf("the template event in room version %s does not decode: %w", version, err)
	}
	p.OriginServerTS = time.Now().UnixMilli()
	p.Hashes, p.Signatures = nil, nil
	if err := p.Sign(version, s.name, s.key.ID, s.key.Priv); err != nil {
		return nil, "", fmt.Errorf("sign the event: %w", err)
	}
	evID, err := p.GetEventID(version)
	if err != nil {
		return nil, "", fmt.Errorf("event ID in room version %s: %w", version, err)
	}
	raw, err := json.Marshal(&p)
	if err != nil {
		return nil, "", fmt.Errorf("encode the event: %w", err)
	}
	return raw, evID, nil
}

// roomVersions are the room versions the remote server offers make_join:
// those whose events mautrix's pdu package signs and identifies.
var roomVersions = []id.RoomVersion{id.RoomV11, id.RoomV10, id.RoomV9, id.RoomV8, id.RoomV7, id.RoomV6, id.RoomV5, id.RoomV4, id.RoomV3}
