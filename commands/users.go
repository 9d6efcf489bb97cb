package commands

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/statesrv/statesrv"
)

// Caller is who a request acts as: the user it acts for, the role it has
// for this request, and the actor its changes are recorded under (the
// user's name for a dashboard session, "token:NAME" for an API token,
// admin for the server's --api-token).
type Caller struct {
	User  string
	Role  string
	Actor string
}

// TokenActor is the actor recorded for the changes made with the API
// token named name.
func TokenActor(name string) string { return "token:" + name }

// userName is what a user may be called: no colon, so that a user never
// reads as a token ("token:ci") or a report's source ("tcp:10.0.0.1").
var userName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func validUserName(name string) error {
	if !userName.MatchString(name) {
		return statesrv.Errorf(statesrv.EInvalid,
			"name: 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
	}
	return nil
}

func validRole(role string) error {
	if !statesrv.ValidRole(role) {
		return statesrv.Errorf(statesrv.EInvalid, "role: unknown role %q (want %s)", role, strings.Join(statesrv.Roles(), ", "))
	}
	return nil
}

// Users returns the users, by name, without their password hashes.
func (s *Service) Users() []statesrv.User {
	s.mu.Lock()
	out := make([]statesrv.User, 0, len(s.core.Users))
	for _, u := range s.core.Users {
		u.Hash = ""
		out = append(out, u)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b statesrv.User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// User returns the user name, without its password hash.
func (s *Service) User(name string) (statesrv.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.core.Users[name]
	u.Hash = ""
	return u, ok
}

// DefineUser creates the user name with role and password pw, or changes
// an existing user's role (role "" keeps it) and, when pw is not empty,
// password. created tells which. The error is EInvalid, naming the field,
// for a bad name, an unknown role or an unacceptable password (required
// to create), and EConflict for demoting the last admin; nothing is then
// recorded.
func (s *Service) DefineUser(name, role, pw, actor string) (created bool, rc *Receipt, err error) {
	if err := validUserName(name); err != nil {
		return false, nil, err
	}
	if role != "" {
		if err := validRole(role); err != nil {
			return false, nil, err
		}
	}
	if pw != "" {
		if err := validPassword("password", pw); err != nil {
			return false, nil, err
		}
	}
	if _, exists := s.User(name); !exists && (pw == "" || role == "") {
		return false, nil, statesrv.Errorf(statesrv.EInvalid, "%s: required for a new user", missing(pw, role))
	}
	hash := ""
	if pw != "" {
		hash = HashPassword(pw) // tens of milliseconds: not under the lock
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, exists := s.core.Users[name]
	switch {
	case !exists && (hash == "" || role == ""):
		return false, nil, statesrv.Errorf(statesrv.EInvalid, "%s: required for a new user", missing(hash, role))
	case exists && role == "":
		role = u.Role
	case exists && u.Role == statesrv.RoleAdmin && role != statesrv.RoleAdmin && s.adminsLocked() == 1:
		return false, nil, statesrv.Errorf(statesrv.EConflict,
			"role: %s is the last admin; make another user admin first", name)
	}
	d := s.decide(actor)
	d.add(statesrv.EventUserDefined, 0, &statesrv.UserDefinedData{User: name, Role: role, Hash: hash})
	return !exists, d.submit(""), nil
}

// missing names the first of password and role that is empty.
func missing(pw, role string) string {
	if pw == "" {
		return "password"
	}
	return "role"
}

// DeleteUser removes the user name and revokes the API tokens it owns.
// The error is ENotFound for an unknown user and EConflict for the last
// admin; nothing is then recorded.
func (s *Service) DeleteUser(name, actor string) (*Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.core.Users[name]
	if !ok {
		return nil, statesrv.Errorf(statesrv.ENotFound, "user %s not found", name)
	}
	if u.Role == statesrv.RoleAdmin && s.adminsLocked() == 1 {
		return nil, statesrv.Errorf(statesrv.EConflict, "%s is the last admin and cannot be removed", name)
	}
	d := s.decide(actor)
	d.add(statesrv.EventUserDeleted, 0, &statesrv.UserDeletedData{User: name})
	for _, t := range s.tokensLocked() {
		if t.User == name {
			d.add(statesrv.EventAPITokenRevoked, 0, &statesrv.APITokenRevokedData{TokenID: t.ID})
		}
	}
	return d.submit(""), nil
}

// adminsLocked counts the users with role admin; s.mu is held.
func (s *Service) adminsLocked() int {
	n := 0
	for _, u := range s.core.Users {
		if u.Role == statesrv.RoleAdmin {
			n++
		}
	}
	return n
}

// SessionCaller returns the caller of a dashboard session of user name,
// with the user's role now, or false when the user no longer exists.
func (s *Service) SessionCaller(name string) (Caller, bool) {
	u, ok := s.User(name)
	if !ok {
		return Caller{}, false
	}
	return Caller{User: name, Role: u.Role, Actor: name}, true
}

// SetPassword records a user's new password hash.
func (s *Service) SetPassword(user, hash, actor string) *Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.decide(actor)
	d.add(statesrv.EventUserPasswordSet, 0, &statesrv.UserPasswordSetData{User: user, Hash: hash})
	return d.submit("")
}

// PasswordHash returns the stored hash of user's password, if any.
func (s *Service) PasswordHash(user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.core.Users[user]
	return u.Hash, ok && u.Hash != ""
}

// CheckPassword reports whether pw is user's password. It takes about as
// long for an unknown user as for a known one.
func (s *Service) CheckPassword(user, pw string) bool {
	hash, ok := s.PasswordHash(user)
	if !ok {
		hash = decoyHash()
	}
	return CheckPassword(hash, pw) && ok
}

// ChangePassword sets user's password to next after checking current. The
// error is EAuth for a wrong current password and EInvalid, naming the
// field, for an unacceptable new one.
func (s *Service) ChangePassword(user, current, next string) (*Receipt, error) {
	if !s.CheckPassword(user, current) {
		return nil, statesrv.Errorf(statesrv.EAuth, "current: the current password is wrong")
	}
	if err := validPassword("new", next); err != nil {
		return nil, err
	}
	return s.SetPassword(user, HashPassword(next), user), nil
}

// AddUser creates the user name with role and password pw and waits for
// it to be recorded. The error is EConflict for a name that is taken, or
// that of DefineUser or of recording it.
func (s *Service) AddUser(ctx context.Context, name, role, pw, actor string) error {
	if _, exists := s.User(name); exists {
		return statesrv.Errorf(statesrv.EConflict, "user %s exists", name)
	}
	if role == "" {
		return validRole(role)
	}
	_, rc, err := s.DefineUser(name, role, pw, actor)
	if err != nil {
		return err
	}
	_, err = rc.Wait(ctx)
	return err
}
