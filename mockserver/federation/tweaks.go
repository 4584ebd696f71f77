package federation

import (
	"encoding/json"
	"net/http"
	"time"
)

// Tweaks are the hooks the mock's deviations (faults and variations) reach
// the federation through. The zero value is the reference behaviour; each
// field says what it changes.
type Tweaks struct {
	// EditItem changes each outbound push item (a JSON object) before it
	// is sent.
	EditItem func(item map[string]any)
	// EditEDUs changes the EDUs of each outbound transaction after the
	// sender has packed them (at most 100).
	EditEDUs func(edus []json.RawMessage) []json.RawMessage
	// OneUserPerEDU sends each user's presence in an EDU of its own,
	// instead of one EDU carrying every user of the batch.
	OneUserPerEDU bool
	// Destinations replaces where a local user's presence goes; given the
	// reference's choice.
	Destinations func(userID string, reference []string) []string
	// Repeat re-sends each user's presence every Repeat, starting
	// RepeatAfter after a change, for RepeatFor (default 10 s) after the
	// last change: a storm.
	Repeat, RepeatAfter, RepeatFor time.Duration
	// BatchDelay, when set, replaces Config.BatchDelay.
	BatchDelay time.Duration
	// NoMerge queues every change of a user, instead of letting a newer
	// one replace an older one still waiting.
	NoMerge bool
	// Hold holds each change back until it has waited this long in the
	// queue: late delivery.
	Hold time.Duration
	// SignWithOtherKey signs outbound requests with a key that has the
	// published key's ID but is not it.
	SignWithOtherKey bool

	// SkipAuth, when it says so, lets a request through without checking
	// its X-Matrix header; the origin is then the transaction's own
	// "origin" field.
	SkipAuth func(r *http.Request) bool
	// Inbound wraps the whole federation API.
	Inbound func(f *Federation, next http.Handler) http.Handler
	// AcceptForeign applies push items about users of other servers than
	// the origin, ForeignAfter later (at once when zero).
	AcceptForeign bool
	ForeignAfter  time.Duration
	// IgnoreEDUs answers transactions 200 and applies none of their EDUs.
	IgnoreEDUs bool
	// StopAtMalformed drops the rest of a transaction after the first
	// malformed push item or EDU.
	StopAtMalformed bool
}

// ApplyTransaction applies a transaction's body as if origin had sent it,
// without any check of who sent it: for deviations that apply refused
// requests later.
func (f *Federation) ApplyTransaction(origin string, body []byte) {
	var txn transaction
	if json.Unmarshal(body, &txn) == nil {
		f.applyEDUs(origin, txn.EDUs)
	}
}
