package client

import (
	"context"
	"fmt"
	"net/http"
)

// Account is what registration or login hands back.
type Account struct {
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token"`
	HomeServer  string `json:"home_server"`
}

type passwordAuth struct {
	Type     string `json:"type"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// Register creates an account the v1 way: one POST /register with the
// m.login.password flow.
func (c *Client) Register(ctx context.Context, localpart, password string) (*Session, *Exchange, error) {
	ex := c.Do(ctx, Request{Method: http.MethodPost, Path: "/register",
		JSON: passwordAuth{Type: "m.login.password", User: localpart, Password: password}})
	return c.sessionFrom("register", ex)
}

// Login opens a new session for an existing account the v1 way.
func (c *Client) Login(ctx context.Context, user, password string) (*Session, *Exchange, error) {
	ex := c.Do(ctx, Request{Method: http.MethodPost, Path: "/login",
		JSON: passwordAuth{Type: "m.login.password", User: user, Password: password}})
	return c.sessionFrom("login", ex)
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
