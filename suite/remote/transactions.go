package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"maunium.net/go/mautrix/federation"
)

// Transaction is one PUT /send the target made, as it arrived.
type Transaction struct {
	Arrived time.Time
	TxnID   string
	// Body is the request body byte for byte.
	Body []byte
	// Auth is the Authorization header; XMatrix its parsed parameters.
	Auth    string
	XMatrix federation.XMatrixAuth
	// AuthErr says why the X-Matrix signature did not verify against the
	// target's published keys, or why it names the wrong destination;
	// empty when it verified. A transaction that did not verify is
	// refused with 401, as the spec requires, and recorded all the same.
	AuthErr string
	// Decoded is the body as far as it decodes; DecodeErr says why it did
	// not.
	Decoded   DecodedTransaction
	DecodeErr string
}

// DecodedTransaction is a transaction body, with the parts presence needs.
type DecodedTransaction struct {
	Origin         string            `json:"origin"`
	OriginServerTS int64             `json:"origin_server_ts"`
	PDUs           []json.RawMessage `json:"pdus"`
	EDUs           []EDU             `json:"edus"`
}

// EDU is one ephemeral data unit of a transaction.
type EDU struct {
	Type    string          `json:"edu_type"`
	Content json.RawMessage `json:"content"`
}

// PushItem is one user's update in an m.presence EDU. Pointers tell a
// member left out from one with its zero value.
type PushItem struct {
	UserID          string  `json:"user_id"`
	Presence        string  `json:"presence"`
	StatusMsg       *string `json:"status_msg,omitempty"`
	LastActiveAgo   *int64  `json:"last_active_ago,omitempty"`
	CurrentlyActive *bool   `json:"currently_active,omitempty"`
}

// Presence decodes an m.presence EDU's push list; ok is false for any
// other EDU, or one whose push list does not decode.
func (e EDU) Presence() (push []PushItem, ok bool) {
	if e.Type != "m.presence" {
		return nil, false
	}
	var content struct {
		Push []PushItem `json:"push"`
	}
	if err := json.Unmarshal(e.Content, &content); err != nil {
		return nil, false
	}
	return content.Push, true
}

// PresenceEDUs are the transaction's m.presence EDUs, each as its push
// list (those whose push list does not decode are left out).
func (t *Transaction) PresenceEDUs() [][]PushItem {
	var out [][]PushItem
	for _, e := range t.Decoded.EDUs {
		if push, ok := e.Presence(); ok {
			out = append(out, push)
		}
	}
	return out
}

// receiveTransaction records a transaction and answers it: 200 with no PDU
// results when its signature verifies (the remote server keeps no rooms,
// so every PDU is taken as handled), 401 otherwise.
func (s *Server) receiveTransaction(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "cannot read the body")
		return
	}
	t := &Transaction{Arrived: time.Now(), TxnID: r.PathValue("txnId"), Body: body, Auth: r.Header.Get("Authorization")}
	t.XMatrix = federation.ParseXMatrixAuth(t.Auth)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if _, rerr := s.auth.Authenticate(r); rerr != nil {
		t.AuthErr = rerr.Err
	}
	if err := json.Unmarshal(body, &t.Decoded); err != nil {
		t.DecodeErr = err.Error()
	}
	s.mu.Lock()
	s.txns = append(s.txns, t)
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	if t.AuthErr != "" {
		writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED", t.AuthErr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"pdus": map[string]any{}})
}

// Transactions lists every transaction received so far, in order of
// arrival.
func (s *Server) Transactions() []*Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Transaction(nil), s.txns...)
}

// Await waits until some transaction received at or after since holds a
// push item that want picks, and returns it with its transaction; false
// when ctx ends or the deadline passes first.
func (s *Server) Await(ctx context.Context, since, deadline time.Time, want func(PushItem) bool) (PushItem, *Transaction, bool) {
	for {
		s.mu.Lock()
		txns, notify := s.txns, s.notify
		s.mu.Unlock()
		for _, t := range txns {
			if t.Arrived.Before(since) {
				continue
			}
			for _, push := range t.PresenceEDUs() {
				for _, item := range push {
					if want(item) {
						return item, t, true
					}
				}
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return PushItem{}, nil, false
		}
		timer := time.NewTimer(left)
		select {
		case <-notify:
			timer.Stop()
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return PushItem{}, nil, false
		}
	}
}

// Between lists the push items received in [from, to) that want picks,
// with the transactions that carried them.
func (s *Server) Between(from, to time.Time, want func(PushItem) bool) (items []PushItem, txns []*Transaction) {
	for _, t := range s.Transactions() {
		if t.Arrived.Before(from) || !t.Arrived.Before(to) {
			continue
		}
		for _, push := range t.PresenceEDUs() {
			for _, item := range push {
				if want(item) {
					items = append(items, item)
					txns = append(txns, t)
				}
			}
		}
	}
	return items, txns
}
