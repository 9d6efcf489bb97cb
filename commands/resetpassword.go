package commands

import (
	"context"

	"github.com/statesrv/statesrv"
)

// ResetPassword gives user, who must have a password already, a new one:
// pw, or a generated one when pw is empty, which it returns so that it can
// be shown once (statesrv user reset-password, on a stopped server's data).
// The error is ENotFound for a user without a password, EInvalid (field
// "password") for an unacceptable pw, or that of recording it.
func (s *Service) ResetPassword(ctx context.Context, user, pw, actor string) (generated string, err error) {
	if _, ok := s.PasswordHash(user); !ok {
		return "", statesrv.Errorf(statesrv.ENotFound, "no user %q (a user exists once the server has started with it)", user)
	}
	if pw == "" {
		pw = RandomSecret(18)
		generated = pw
	} else if err := validPassword("password", pw); err != nil {
		return "", err
	}
	if _, err := s.SetPassword(user, HashPassword(pw), actor).Wait(ctx); err != nil {
		return "", err
	}
	return generated, nil
}
