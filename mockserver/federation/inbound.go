package federation

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"maunium.net/go/mautrix/id"
)

// transaction is the body of PUT /send, as far as the mock reads it.
type transaction struct {
	Origin         *string           `json:"origin"`
	OriginServerTS json.RawMessage   `json:"origin_server_ts"`
	PDUs           []json.RawMessage `json:"pdus"`
	EDUs           []json.RawMessage `json:"edus"`
}

// The spec's limits on one transaction.
const (
	maxTxnPDUs = 50
	maxTxnEDUs = 100
)

// maxRememberedTxns bounds the transaction IDs kept to spot a retry; past
// it they are forgotten and begun again.
const maxRememberedTxns = 10000

// putSend serves PUT /_matrix/federation/v1/send/{txnId}. The transaction
// as a whole is checked first (a JSON object, origin the signer, the
// required fields, the limits) and refused whole with 400 if it fails;
// then each EDU, and each push item of an m.presence EDU, is applied on its
// own, so one malformed item costs only itself. PDUs are accepted and
// ignored: the mock's rooms have no timeline. A transaction ID seen before
// from the same origin is answered again without being applied again.
func (f *Federation) putSend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "the transaction is larger than this server reads")
		return
	}
	txn, origin, msg := f.checkTransaction(body, Origin(r))
	if msg != "" {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", msg)
		return
	}
	key := origin + " " + r.PathValue("txnId")
	f.mu.Lock()
	seen := f.txns[key]
	if !seen {
		if len(f.txns) >= maxRememberedTxns {
			clear(f.txns)
		}
		f.txns[key] = true
	}
	f.mu.Unlock()
	if !seen && !f.tw.IgnoreEDUs {
		f.applyEDUs(origin, txn.EDUs)
	}
	writeJSON(w, http.StatusOK, []byte(`{"pdus":{}}`))
}

// checkTransaction reads a transaction body; msg says what is wrong with
// it. signer is the authenticated origin; empty when a deviation skipped
// the check, and the body's own origin is then taken at its word.
func (f *Federation) checkTransaction(body []byte, signer string) (txn transaction, origin, msg string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&txn); err != nil {
		return txn, "", "the transaction is not a JSON object of the transaction schema: " + err.Error()
	}
	switch {
	case txn.Origin == nil:
		return txn, "", "the transaction has no origin"
	case signer != "" && *txn.Origin != signer:
		return txn, "", "the transaction's origin " + quote(*txn.Origin) + " is not the server that signed it (" + signer + ")"
	case signer == "" && !id.ValidateServerName(*txn.Origin):
		return txn, "", "the transaction's origin is not a server name"
	case txn.OriginServerTS == nil:
		return txn, "", "the transaction has no origin_server_ts"
	case txn.PDUs == nil:
		return txn, "", "the transaction has no pdus (an empty list is fine)"
	case len(txn.PDUs) > maxTxnPDUs:
		return txn, "", "the transaction carries more than 50 PDUs"
	case len(txn.EDUs) > maxTxnEDUs:
		return txn, "", "the transaction carries more than 100 EDUs"
	}
	if _, err := strconv.ParseInt(string(txn.OriginServerTS), 10, 64); err != nil {
		return txn, "", "origin_server_ts is not an integer"
	}
	return txn, *txn.Origin, ""
}

// applyEDUs applies the m.presence EDUs of a transaction from origin;
// other EDU types are not the mock's business.
func (f *Federation) applyEDUs(origin string, edus []json.RawMessage) {
	for _, raw := range edus {
		var edu struct {
			Type    string `json:"edu_type"`
			Content struct {
				Push []json.RawMessage `json:"push"`
			} `json:"content"`
		}
		if err := json.Unmarshal(raw, &edu); err != nil {
			if f.tw.StopAtMalformed {
				return
			}
			continue
		}
		if edu.Type != "m.presence" {
			continue
		}
		for _, item := range edu.Content.Push {
			p, ok := parsePushItem(item)
			if !ok {
				if f.tw.StopAtMalformed {
					return
				}
				continue
			}
			_, server, _ := id.UserID(p.UserID).Parse()
			if server != origin {
				// A server speaks for its own users only: anything else is
				// forged, or relayed where the spec has no relaying.
				if !f.tw.AcceptForeign {
					continue
				}
				if f.tw.ForeignAfter > 0 {
					time.AfterFunc(f.tw.ForeignAfter, func() { f.home.ApplyPresence(p) })
					continue
				}
			}
			f.home.ApplyPresence(p)
		}
	}
}

// parsePushItem reads one push item: user_id (a user ID), presence (one of
// the three states) and last_active_ago (a whole number of milliseconds,
// not negative) are required, as the spec's schema has them; status_msg
// and currently_active are optional, and null counts as left out.
func parsePushItem(raw json.RawMessage) (Presence, bool) {
	var item struct {
		UserID          *string         `json:"user_id"`
		Presence        *string         `json:"presence"`
		LastActiveAgo   json.RawMessage `json:"last_active_ago"`
		StatusMsg       *string         `json:"status_msg"`
		CurrentlyActive *bool           `json:"currently_active"`
	}
	if json.Unmarshal(raw, &item) != nil || item.UserID == nil || item.Presence == nil || item.LastActiveAgo == nil {
		return Presence{}, false
	}
	if _, _, err := id.UserID(*item.UserID).ParseAndValidateRelaxed(); err != nil || (*item.UserID)[0] != '@' {
		return Presence{}, false
	}
	switch *item.Presence {
	case "online", "unavailable", "offline":
	default:
		return Presence{}, false
	}
	// An integer literal, not a string or a fraction: strconv reads
	// exactly that.
	ago, err := strconv.ParseInt(string(item.LastActiveAgo), 10, 64)
	if err != nil || ago < 0 || ago > math.MaxInt64/2 {
		return Presence{}, false
	}
	return Presence{
		UserID:          *item.UserID,
		Presence:        *item.Presence,
		StatusMsg:       item.StatusMsg,
		LastActiveAgo:   ago,
		CurrentlyActive: item.CurrentlyActive,
	}, true
}

// quote puts a value a peer sent into a message, bounded and quoted.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}
