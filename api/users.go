package api

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// User is one dashboard user as the API shows it (GET /api/v1/users):
// never its password.
type User struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// UserList answers GET /api/v1/users, by name.
type UserList []User

// UserRequest is the body of PUT /api/v1/users/{name}: the role (required
// to create; empty keeps it) and the password (at least 12 characters,
// required to create; empty keeps it).
type UserRequest struct {
	Role     string `json:"role,omitempty"`
	Password string `json:"password,omitempty"`
}

// TokenRequest is the body of POST /api/v1/tokens: the token's name,
// unique among the tokens, and its role (at most the creator's; empty
// takes the creator's).
type TokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
}

// NewToken answers POST /api/v1/tokens: the token's secret, shown this
// once and never again.
type NewToken struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Token string `json:"token"`
}

// Token is one API token as GET /api/v1/tokens lists it. User is the
// user it acts for, who created it; LastUsedAt is when it was last
// accepted since the server started (absent: not since then).
type Token struct {
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	User       string     `json:"user"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// TokenList answers GET /api/v1/tokens, oldest first.
type TokenList []Token

// Users returns the dashboard users (admin only).
func (c *Client) Users(ctx context.Context) (UserList, error) {
	var out UserList
	return out, c.Do(ctx, http.MethodGet, "/api/v1/users", nil, &out)
}

// PutUser creates the user name or changes its role or password, and
// returns it as stored. A weak password or an unknown role is a
// *statesrv.Error with code EInvalid, demoting the last admin one with
// code EConflict.
func (c *Client) PutUser(ctx context.Context, name string, req UserRequest) (User, error) {
	var out User
	return out, c.Do(ctx, http.MethodPut, "/api/v1/users/"+url.PathEscape(name), req, &out)
}

// DeleteUser removes the user name and revokes its tokens; the last admin
// is a *statesrv.Error with code EConflict.
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, "/api/v1/users/"+url.PathEscape(name), nil, nil)
}

// Tokens lists the API tokens the caller may see: an admin every one,
// an editor its own.
func (c *Client) Tokens(ctx context.Context) (TokenList, error) {
	var out TokenList
	return out, c.Do(ctx, http.MethodGet, "/api/v1/tokens", nil, &out)
}

// CreateToken makes an API token and returns its secret, shown once. A
// role above the caller's is a *statesrv.Error with code EForbidden.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (NewToken, error) {
	var out NewToken
	return out, c.Do(ctx, http.MethodPost, "/api/v1/tokens", req, &out)
}

// RevokeToken withdraws the token name.
func (c *Client) RevokeToken(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(name), nil, nil)
}
