package commands

import (
	"context"

	"github.com/statesrv/statesrv"
)

// FirstPassword makes user an admin with a password when there is no user
// at all (the server's first start): pw, or a generated one when pw is
// empty, which it returns so that it can be shown once. It does nothing
// when a user exists (a deleted admin does not come back), and returns the
// error of recording it.
func (s *Service) FirstPassword(ctx context.Context, user, pw, actor string) (generated string, err error) {
	if len(s.Users()) > 0 {
		return "", nil
	}
	if pw == "" {
		pw = RandomSecret(18)
		generated = pw
	}
	hash := HashPassword(pw)
	s.mu.Lock()
	d := s.decide(actor)
	d.add(statesrv.EventUserDefined, 0, &statesrv.UserDefinedData{User: user, Role: statesrv.RoleAdmin, Hash: hash})
	rc := d.submit("")
	s.mu.Unlock()
	if _, err := rc.Wait(ctx); err != nil {
		return "", err
	}
	return generated, nil
}
