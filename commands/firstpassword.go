package commands

import "context"

// FirstPassword gives user a password if the user has none yet (the
// server's first start): pw, or a generated one when pw is empty, which it
// returns so that it can be shown once. It does nothing when the user has
// a password, and returns the error of recording it.
func (s *Service) FirstPassword(ctx context.Context, user, pw, actor string) (generated string, err error) {
	if _, ok := s.PasswordHash(user); ok {
		return "", nil
	}
	if pw == "" {
		pw = RandomSecret(18)
		generated = pw
	}
	if _, err := s.SetPassword(user, HashPassword(pw), actor).Wait(ctx); err != nil {
		return "", err
	}
	return generated, nil
}
