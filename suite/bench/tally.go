package bench

import (
	"math"
	"net/http"
	"slices"
	"time"
)

// Result is one run's figures.
type Result struct {
	Users        int     `json:"users"`
	RoomSize     int     `json:"room_size"`
	RoomsPerUser int     `json:"rooms_per_user"`
	Rooms        int     `json:"rooms"`
	Rate         float64 `json:"rate"`
	Seconds      float64 `json:"duration_seconds"`
	Window       float64 `json:"window_seconds"`
	SetupSeconds float64 `json:"setup_seconds"`
	Settle       float64 `json:"settle_seconds"`
	// LoadAverage is the machine's one-minute load average as the changes
	// began (from /proc/loadavg; 0 where there is none): on a shared
	// machine it says how much else wanted the CPU.
	LoadAverage float64 `json:"load_average_1m"`

	// Changes made, accepted (200), refused with 429, failed otherwise.
	Changes    int        `json:"changes"`
	Accepted   int        `json:"accepted"`
	Refused429 int        `json:"refused_429"`
	Failed     int        `json:"failed"`
	Throughput float64    `json:"accepted_per_second"`
	PutLatency Latency    `json:"put_latency"`
	Pairs      int        `json:"pairs"`      // (accepted change, room-mate) pairs owed a delivery
	Delivered  int        `json:"delivered"`  // pairs seen within the window
	Superseded int        `json:"superseded"` // pairs not seen, but a later change of the same user was, in time
	Lost       int        `json:"lost"`       // pairs neither seen nor superseded within the window
	Late       int        `json:"late"`       // of the lost, seen after the window
	Leaked     int        `json:"leaked"`     // deliveries to users sharing no room with the changer
	Redundant  int        `json:"redundant"`  // a change delivered again to a watcher that had it
	Latency    Latency    `json:"latency"`    // of the delivered pairs, from the PUT going out
	Wakeups    int        `json:"wakeups"`    // /sync 200s in the measured span
	Empty      int        `json:"empty_wakeups"`
	WakePerChg float64    `json:"wakeups_per_change"`
	WakePerWPC float64    `json:"wakeups_per_watcher_per_change"`
	Sync429    int        `json:"sync_429"`
	SyncErrors int        `json:"sync_errors"` // no response
	SyncOther  int        `json:"sync_other_status"`
	Watchers   int        `json:"watchers"`
	InPoll     int        `json:"watchers_in_poll_at_end"` // the rest were between polls (retrying after an error)
	Problems   []string   `json:"watcher_problems,omitempty"`
	Resources  *Resources `json:"resources,omitempty"`
	// BenchCPUMillisPerChange is the bench's own CPU (this process, user
	// and system) over the measured span, per accepted change: on the same
	// machine the load takes this from the server, and every latency
	// includes the bench's share. 0 where /proc/self cannot be read.
	BenchCPUMillisPerChange float64 `json:"bench_cpu_ms_per_change,omitempty"`
}

// Latency summarises delivery times, in milliseconds, over Samples
// deliveries that were seen; with none, the figures are zero and Samples
// says so.
type Latency struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P90     float64 `json:"p90_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

// Resources are what the server spent over the measured span.
type Resources struct {
	CPUSeconds         float64 `json:"cpu_seconds"`
	CPUMillisPerChange float64 `json:"cpu_ms_per_change"`
	PeakRSSMB          float64 `json:"peak_rss_mb"`
}

func tally(cfg Config, d *driver, ws []*watcher, mates []map[int]bool) *Result {
	r := &Result{Users: cfg.N, RoomSize: cfg.RoomSize, RoomsPerUser: cfg.RoomsPerUser, Rate: cfg.Rate,
		Seconds: cfg.Duration.Seconds(), Window: cfg.Window.Seconds(), Changes: len(d.changes), Watchers: len(ws)}
	var puts []time.Duration
	byUser := make([][]int, cfg.N) // accepted changes of each user, in order
	for seq, c := range d.changes {
		switch c.status {
		case http.StatusOK:
			r.Accepted++
			byUser[c.user] = append(byUser[c.user], seq)
			puts = append(puts, c.answered.Sub(c.sent))
		case http.StatusTooManyRequests:
			r.Refused429++
		default:
			r.Failed++
		}
	}
	r.Throughput = float64(r.Accepted) / cfg.Duration.Seconds()
	r.PutLatency = summarise(puts)

	var lat []time.Duration
	for _, w := range ws {
		first := map[int]time.Time{}
		for _, s := range w.seen {
			if s.seq >= len(d.changes) {
				continue // not a change this run made
			}
			if _, ok := first[s.seq]; ok {
				r.Redundant++
				continue
			}
			first[s.seq] = s.at
			if sender := d.changes[s.seq].user; sender != w.index && !mates[sender][w.index] {
				r.Leaked++
			}
		}
		for sender := range mates {
			if !mates[sender][w.index] {
				continue
			}
			seqs := byUser[sender]
			for i, seq := range seqs {
				r.Pairs++
				c := d.changes[seq]
				deadline := c.sent.Add(cfg.Window)
				if at, ok := first[seq]; ok && !at.After(deadline) {
					r.Delivered++
					lat = append(lat, at.Sub(c.sent))
					continue
				}
				superseded := slices.ContainsFunc(seqs[i+1:], func(later int) bool {
					at, ok := first[later]
					return ok && !at.After(deadline)
				})
				switch {
				case superseded:
					r.Superseded++
				default:
					r.Lost++
					if _, ok := first[seq]; ok {
						r.Late++
					}
				}
			}
		}
		r.Wakeups += w.wakeups
		r.Empty += w.empty
		r.Sync429 += w.rateLimited
		r.SyncErrors += w.errors
		r.SyncOther += w.otherStatus
		if w.inPoll {
			r.InPoll++
		}
		if w.lastProblem != "" && len(r.Problems) < 10 {
			r.Problems = append(r.Problems, w.session.UserID+": "+w.lastProblem)
		}
	}
	r.Latency = summarise(lat)
	if r.Accepted > 0 {
		r.WakePerChg = float64(r.Wakeups) / float64(r.Accepted)
		r.WakePerWPC = r.WakePerChg / float64(len(ws))
	}
	return r
}

// summarise gives nearest-rank percentiles.
func summarise(ds []time.Duration) Latency {
	l := Latency{Samples: len(ds)}
	if len(ds) == 0 {
		return l
	}
	slices.Sort(ds)
	rank := func(p float64) float64 {
		i := max(0, int(math.Ceil(p*float64(len(ds))))-1)
		return ms(ds[i])
	}
	l.P50, l.P90, l.P99, l.Max = rank(0.50), rank(0.90), rank(0.99), ms(ds[len(ds)-1])
	return l
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }
