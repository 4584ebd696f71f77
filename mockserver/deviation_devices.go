package mockserver

import (
	"net/http"
	"net/url"
	"time"
)

// Faults and variations of presence over time and across a user's
// devices (presence_devices.go): the timers, the aggregation of devices,
// last_active_ago and currently_active. Most reach in through timerSeams.

// onTimers returns a wrap that changes the server's timer seams and
// leaves requests to the reference.
func onTimers(change func(s *Server)) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		change(s)
		return next
	}
}

func deviceFaults() []Deviation {
	return []Deviation{
		{
			Name: "device-set-presence-flip-flop", Category: "devices: sync loop", CheckWith: "v3",
			Description: "Every /sync sets the user's presence to its own set_presence, so two devices asking for different states flip it at each sync, and each flip wakes the other's long-poll: the two loop.",
			CaughtBy:    []string{"PRES-DEVICE-03", "PRES-DEVICE-04"},
			wrap:        onTimers(func(s *Server) { s.timerSeams.lastSyncWins = true }),
		},
		{
			Name: "device-offline-overrides-online", Category: "devices: state aggregated wrongly", CheckWith: "v3",
			Description: "A /sync with set_presence=offline from one device marks the user offline, though another of their devices syncs online.",
			CaughtBy:    []string{"PRES-DEVICE-02"},
			wrap:        onTimers(func(s *Server) { s.timerSeams.offlineMarks = true }),
		},
		{
			Name: "device-least-present-wins", Category: "devices: state aggregated wrongly", CheckWith: "v3",
			Description: "A user's presence is the least present state of their connected devices: one client left idle shows them unavailable, though another is in use.",
			CaughtBy:    []string{"PRES-DEVICE-01"},
			wrap: onTimers(func(s *Server) {
				s.timerSeams.aggregate = func(devices map[string]*device) string {
					least := ""
					for _, d := range devices {
						if !d.connectedUntil.IsZero() && (least == "" || presenceRank(d.want) < presenceRank(least)) {
							least = d.want
						}
					}
					return least
				}
			}),
		},
		{
			Name: "busy-cleared-by-sync", Category: "devices: state aggregated wrongly", CheckWith: "v3",
			Description: "Busy (MSC3026) is advertised and can be set, but the user's next /sync marks them online again.",
			CaughtBy:    []string{"PRES-DEVICE-05"},
			wrap:        withBusy(true),
		},
		{
			Name: "idle-never", Category: "timers: idle", CheckWith: "v3", Timers: true,
			Description: "No idle timer: a connected user who does nothing stays online for ever.",
			CaughtBy:    []string{"PRES-TIME-01"},
			wrap:        onTimers(func(s *Server) { s.timerSeams.noIdle = true }),
		},
		{
			Name: "idle-ignores-other-devices", Category: "timers: idle", CheckWith: "v3", Timers: true,
			Description: "The idle timer counts only the activity of the devices connected to /sync, so a PUT online from another device is undone at the timer's next tick.",
			CaughtBy:    []string{"PRES-TIME-02"},
			wrap: onTimers(func(s *Server) {
				s.timerSeams.idleSince = func(u *user) time.Time {
					var last time.Time
					for _, d := range u.devices {
						if !d.connectedUntil.IsZero() && d.lastActive.After(last) {
							last = d.lastActive
						}
					}
					if last.IsZero() {
						return u.lastActive // no device connected: the timer as usual
					}
					return last
				}
			}),
		},
		{
			Name: "offline-never", Category: "timers: offline", CheckWith: "v3", Timers: true,
			Description: "No offline timer: a user whose clients all stopped syncing is never shown offline.",
			CaughtBy:    []string{"PRES-TIME-03"},
			wrap:        onTimers(func(s *Server) { s.timerSeams.noOffline = true }),
		},
		{
			Name: "sync-last-active-frozen", Category: "last_active_ago wrong", CheckWith: "v3",
			Description: "/sync's m.presence events carry last_active_ago as it was when the presence changed, not as it is when the event goes out.",
			CaughtBy:    []string{"PRES-TIME-04"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return editSyncEvents(func(events []any, _ url.Values, _ *user) []any {
					return eachEvent(events, func(e map[string]any) {
						sender, _ := e["sender"].(string)
						c, _ := e["content"].(map[string]any)
						u := s.userByID(sender)
						if u == nil || c == nil {
							return
						}
						u.mu.Lock()
						c["last_active_ago"] = lastActiveAgo(u.lastActive, u.changedTime)
						u.mu.Unlock()
					})
				})(s, next)
			},
		},
		{
			Name: "currently-active-chatter", Category: "devices: chatter", CheckWith: "v3",
			Description: "Every /sync of an online user counts as activity and sends room-mates a new m.presence event, currently_active true though it is.",
			CaughtBy:    []string{"PRES-TIME-05"},
			wrap:        onTimers(func(s *Server) { s.timerSeams.chatter = true }),
		},
	}
}

func deviceVariations() []Deviation {
	return []Deviation{
		{
			Name: "timers-shorter", Kind: Variation, CheckWith: "v3", Timers: true,
			Description: "The idle and offline timers fire at half the thresholds the suite is told: a server may be quicker than it says.",
			wrap: onTimers(func(s *Server) {
				s.timers.idleAfter /= 2
				s.timers.offlineAfter /= 2
			}),
		},
		{
			Name: "timers-longer", Kind: Variation, CheckWith: "v3", Timers: true,
			Description: "The idle and offline timers fire a second after the thresholds the suite is told, inside the --settle window it allows (2 s by default).",
			wrap: onTimers(func(s *Server) {
				s.timers.idleAfter += time.Second
				s.timers.offlineAfter += time.Second
			}),
		},
		{
			Name: "busy-advertised", Kind: Variation, CheckWith: "v3",
			Description: "The server offers MSC3026's busy state (org.matrix.msc3026.busy in /versions unstable_features), which a user may set and /sync leaves alone.",
			wrap:        withBusy(false),
		},
		{
			Name: "devices-most-recent", Kind: Variation, CheckWith: "v3",
			Description: "A user's presence is the state of the device that changed its state last, rather than the most present one: the spec names no rule.",
			wrap: onTimers(func(s *Server) {
				s.timerSeams.aggregate = func(devices map[string]*device) string {
					var latest *device
					for _, d := range devices {
						if !d.connectedUntil.IsZero() && (latest == nil || d.seq > latest.seq) {
							latest = d
						}
					}
					if latest == nil {
						return ""
					}
					return latest.want
				}
			}),
		},
	}
}
