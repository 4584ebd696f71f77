package mockserver

import (
	"hash/fnv"
	"strconv"
	"time"
)

// The sync and event stream bodies are appended by hand, as the status
// bodies are: an initial sync in a big room carries a thousand events.

// emptySections are the sync sections the mock has nothing for, present
// and empty so that a client finds every one where the schema puts it.
const emptySections = `"account_data":{"events":[]},"to_device":{"events":[]},"device_lists":{"changed":[],"left":[]},"device_one_time_keys_count":{}`

// appendSyncResponse appends a /sync body: next_batch, presence, the empty
// sections, and rooms.join with an empty entry per room reported.
func (s *Server) appendSyncResponse(dst []byte, api *apiVersion, b presenceBatch, now time.Time) []byte {
	token := s.stream.token(b.upTo)
	dst = append(dst, `{"next_batch":`...)
	dst = appendString(dst, token)
	dst = append(dst, `,"presence":{"events":[`...)
	for i, d := range b.events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendSyncPresenceEvent(dst, api, d, now)
	}
	dst = append(dst, `]},`...)
	dst = append(dst, emptySections...)
	dst = append(dst, `,"rooms":{"join":{`...)
	for i, jr := range b.rooms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, jr.id)
		dst = append(dst, `:{"summary":{},"state":{"events":[]},"timeline":{"events":[],"limited":false,"prev_batch":`...)
		dst = appendString(dst, token)
		dst = append(dst, `},"ephemeral":{"events":[]},"account_data":{"events":[]},"unread_notifications":{"highlight_count":0,"notification_count":0}}`...)
	}
	return append(dst, `},"invite":{},"leave":{}}}`...)
}

// appendSyncPresenceEvent appends an m.presence event as r0 and v3 have
// it: sender beside content, currently_active always, status_msg when set.
func appendSyncPresenceEvent(dst []byte, api *apiVersion, d delivery, now time.Time) []byte {
	presence := api.reportedState(d.state.presence)
	ago := lastActiveAgo(d.state.lastActive, now)
	dst = append(dst, `{"type":"m.presence","sender":`...)
	dst = appendString(dst, d.u.id)
	dst = append(dst, `,"content":{"presence":`...)
	dst = appendString(dst, presence)
	dst = append(dst, `,"last_active_ago":`...)
	dst = strconv.AppendInt(dst, ago, 10)
	if presence == "online" && ago < currentlyActiveWindow.Milliseconds() {
		dst = append(dst, `,"currently_active":true`...)
	} else {
		dst = append(dst, `,"currently_active":false`...)
	}
	if d.state.hasStatusMsg {
		dst = append(dst, `,"status_msg":`...)
		dst = appendString(dst, d.state.statusMsg)
	}
	return append(dst, "}}"...)
}

// appendV1PresenceEvent appends an m.presence event as v1 has it: an
// event_id, and the user in content.user_id.
func (s *Server) appendV1PresenceEvent(dst []byte, api *apiVersion, d delivery, now time.Time) []byte {
	dst = append(dst, `{"type":"m.presence","event_id":`...)
	dst = appendString(dst, s.presenceEventID(d))
	dst = append(dst, `,"content":{"user_id":`...)
	dst = appendString(dst, d.u.id)
	dst = append(dst, `,"presence":`...)
	dst = appendString(dst, api.reportedState(d.state.presence))
	dst = append(dst, `,"last_active_ago":`...)
	dst = strconv.AppendInt(dst, lastActiveAgo(d.state.lastActive, now), 10)
	if d.state.hasStatusMsg {
		dst = append(dst, `,"status_msg":`...)
		dst = appendString(dst, d.state.statusMsg)
	}
	return append(dst, "}}"...)
}

// presenceEventID names the change that made a user's state: its position
// and a hash of the user (for the users who never changed, all at 0), on
// this server.
func (s *Server) presenceEventID(d delivery) string {
	h := fnv.New32a()
	h.Write([]byte(d.u.id))
	return "$p" + strconv.FormatUint(d.changedAt, 10) + "_" + strconv.FormatUint(uint64(h.Sum32()), 36) + ":" + s.serverName
}
