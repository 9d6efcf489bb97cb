package statesrv

import (
	"encoding/json"
	"time"
)

// Roles of users and API tokens (SPEC §11), from least to most allowed:
// a viewer reads; an editor also defines, deletes, starts, dismisses,
// pauses, applies and tests alerts, and manages its own tokens; an admin
// also manages users and every token.
const (
	RoleViewer = "viewer"
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

// Roles lists the roles from least to most allowed.
func Roles() []string { return []string{RoleViewer, RoleEditor, RoleAdmin} }

// roleRank orders the roles; 0 is no role at all.
func roleRank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return roleRank(role) > 0 }

// RoleAllows reports whether a caller with role have may do what needs
// role need. An unknown role allows nothing.
func RoleAllows(have, need string) bool {
	return roleRank(have) > 0 && roleRank(have) >= roleRank(need)
}

// LowerRole returns the less allowed of a and b.
func LowerRole(a, b string) string {
	if roleRank(a) <= roleRank(b) {
		return a
	}
	return b
}

// User is a dashboard user as the views keep it. Hash is the argon2id
// hash of the password; it never leaves the server.
type User struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Hash      string    `json:"hash,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// UnmarshalJSON reads a user, or, as views written before roles kept
// users, a bare string: the password hash of an admin.
func (u *User) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var hash string
		if err := json.Unmarshal(data, &hash); err != nil {
			return err
		}
		*u = User{Role: RoleAdmin, Hash: hash}
		return nil
	}
	type plain User
	return json.Unmarshal(data, (*plain)(u))
}
