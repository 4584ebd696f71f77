package client

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
)

// Account is what registration or login hands back.
type Account struct {
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token"`
	HomeServer  string `json:"home_server"`
}

// Register creates an account the way the API version does.
func (c *Client) Register(ctx context.Context, localpart, password string) (*Session, *Exchange, error) {
	if c.api.Accounts == InteractiveAuth {
		return c.registerInteractive(ctx, localpart, password)
	}
	ex := c.Do(ctx, Request{Method: http.MethodPost, Path: "/register",
		JSON: map[string]string{"type": "m.login.password", "user": localpart, "password": password}})
	return c.sessionFrom("register", ex)
}

// registerInteractive passes r0 and v3's user-interactive registration:
// the first request learns the flows and a session, the second completes
// the m.login.dummy stage, which servers with open registration offer.
func (c *Client) registerInteractive(ctx context.Context, localpart, password string) (*Session, *Exchange, error) {
	body := map[string]any{"username": localpart, "password": password}
	ex := c.Do(ctx, Request{Method: http.MethodPost, Path: "/register", JSON: body})
	if ex.Status() == http.StatusOK {
		return c.sessionFrom("register", ex)
	}
	var flows struct {
		Session string    `json:"session"`
		Flows   []uiaFlow `json:"flows"`
	}
	if ex.Status() != http.StatusUnauthorized || ex.DecodeJSON(&flows) != nil || flows.Session == "" {
		return c.sessionFrom("register", ex)
	}
	if !slices.ContainsFunc(flows.Flows, func(f uiaFlow) bool { return slices.Equal(f.Stages, []string{"m.login.dummy"}) }) {
		return nil, ex, fmt.Errorf("register: the server offers no flow of m.login.dummy alone, so it needs more than open registration (an email, a token, a captcha)\n\n%s", ex)
	}
	body["auth"] = map[string]string{"type": "m.login.dummy", "session": flows.Session}
	ex = c.Do(ctx, Request{Method: http.MethodPost, Path: "/register", JSON: body})
	return c.sessionFrom("register", ex)
}

// uiaFlow is one way through user-interactive authentication.
type uiaFlow struct {
	Stages []string `json:"stages"`
}

// Login opens a new session for an existing account the way the API
// version does.
func (c *Client) Login(ctx context.Context, user, password string) (*Session, *Exchange, error) {
	body := map[string]any{"type": "m.login.password", "user": user, "password": password}
	if c.api.Accounts == InteractiveAuth {
		body = map[string]any{"type": "m.login.password", "password": password,
			"identifier": map[string]string{"type": "m.id.user", "user": user}}
	}
	ex := c.Do(ctx, Request{Method: http.MethodPost, Path: "/login", JSON: body})
	return c.sessionFrom("login", ex)
}

// RegisterWithSharedSecret creates an account through the shared-secret
// admin registration that Synapse introduced and other servers copied, for
// servers whose open registration is closed: a nonce, then the account with
// an HMAC-SHA1 of the nonce and credentials keyed with the secret.
func (c *Client) RegisterWithSharedSecret(ctx context.Context, secret, localpart, password string) (*Session, *Exchange, error) {
	const path = "/_synapse/admin/v1/register"
	ex := c.Do(ctx, Request{Method: http.MethodGet, Path: path, Absolute: true})
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	if ex.Status() != http.StatusOK || ex.DecodeJSON(&nonce) != nil || nonce.Nonce == "" {
		return nil, ex, fmt.Errorf("shared-secret registration: no nonce from %s\n\n%s", path, ex)
	}
	mac := hmac.New(sha1.New, []byte(secret))
	for i, part := range []string{nonce.Nonce, localpart, password, "notadmin"} {
		if i > 0 {
			mac.Write([]byte{0})
		}
		mac.Write([]byte(part))
	}
	ex = c.Do(ctx, Request{Method: http.MethodPost, Path: path, Absolute: true, JSON: map[string]any{
		"nonce": nonce.Nonce, "username": localpart, "password": password, "admin": false,
		"mac": hex.EncodeToString(mac.Sum(nil)),
	}})
	return c.sessionFrom("shared-secret registration", ex)
}

func (c *Client) sessionFrom(what string, ex *Exchange) (*Session, *Exchange, error) {
	if ex.Err != nil {
		return nil, ex, fmt.Errorf("%s: %w", what, ex.Err)
	}
	if ex.Status() != http.StatusOK {
		m, _ := ex.MatrixError()
		return nil, ex, fmt.Errorf("%s: status %d %s %s", what, ex.Status(), m.Errcode, m.Error)
	}
	var acc Account
	if err := ex.DecodeJSON(&acc); err != nil {
		return nil, ex, fmt.Errorf("%s: %w", what, err)
	}
	if acc.UserID == "" || acc.AccessToken == "" {
		return nil, ex, fmt.Errorf("%s: the response lacks user_id or access_token", what)
	}
	return c.As(acc.UserID, acc.AccessToken), ex, nil
}

// SupportedVersions asks /_matrix/client/versions which spec versions the
// server supports.
func (c *Client) SupportedVersions(ctx context.Context) ([]string, *Exchange, error) {
	ex := c.Do(ctx, Request{Method: http.MethodGet, Path: "/_matrix/client/versions", Absolute: true})
	var body struct {
		Versions []string `json:"versions"`
	}
	if ex.Status() != http.StatusOK {
		return nil, ex, fmt.Errorf("GET /_matrix/client/versions: status %d", ex.Status())
	}
	if err := ex.DecodeJSON(&body); err != nil {
		return nil, ex, err
	}
	return body.Versions, ex, nil
}
