package sso

import (
	"strings"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
)

// IdentityOf reads who signed in from an ID token's claims: the name from
// preferred_username, else email, else sub, made a valid user name by
// Sanitize; the role from roleClaim, a string or a list of strings (the
// most allowed role in it), viewer when the claim is missing, empty or
// unknown, or roleClaim is empty.
func IdentityOf(claims map[string]any, roleClaim string) Identity {
	id := Identity{Role: statesrv.RoleViewer}
	id.Subject, _ = claims["sub"].(string)
	for _, k := range []string{"preferred_username", "email", "sub"} {
		if v, _ := claims[k].(string); Sanitize(v) != "" {
			id.Name = Sanitize(v)
			break
		}
	}
	if roleClaim == "" {
		return id
	}
	var roles []string
	switch v := claims[roleClaim].(type) {
	case string:
		roles = []string{v}
	case []any:
		for _, r := range v {
			if s, ok := r.(string); ok {
				roles = append(roles, s)
			}
		}
	}
	for _, r := range roles {
		r = strings.ToLower(strings.TrimSpace(r))
		if statesrv.ValidRole(r) && statesrv.RoleAllows(r, id.Role) {
			id.Role = r
		}
	}
	return id
}

// maxName is the longest user name.
const maxName = 64

// Sanitize makes s a user name: lower case, every character other than
// a-z, 0-9, '.', '_' and '-' replaced by '_', no leading '.', '_' or '-',
// at most 64 characters. It returns "" when nothing is left.
func Sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '.' || r == '_' || r == '-':
			if b.Len() > 0 {
				b.WriteRune(r)
			}
		case r == utf8.RuneError:
			continue
		default:
			if b.Len() > 0 {
				b.WriteByte('_')
			}
		}
		if b.Len() >= maxName {
			break
		}
	}
	return b.String()
}
