package commands_test

import (
	"context"
	"testing"

	"github.com/statesrv/statesrv"
)

func TestFirstPassword(t *testing.T) {
	ctx := context.Background()
	t.Run("Given", func(t *testing.T) {
		s := newServer(t)
		gen, err := s.Service.FirstPassword(ctx, statesrv.ActorAdmin, "correct horse", statesrv.ActorCLI)
		if err != nil || gen != "" {
			t.Fatalf("FirstPassword = %q, %v; want nothing generated", gen, err)
		}
		if !s.Service.CheckPassword(statesrv.ActorAdmin, "correct horse") {
			t.Error("the given password was not set")
		}
	})

	t.Run("Generated", func(t *testing.T) {
		s := newServer(t)
		gen, err := s.Service.FirstPassword(ctx, statesrv.ActorAdmin, "", statesrv.ActorCLI)
		if err != nil || len(gen) != 24 {
			t.Fatalf("FirstPassword = %q, %v; want a generated password of 24 characters", gen, err)
		}
		if !s.Service.CheckPassword(statesrv.ActorAdmin, gen) {
			t.Error("the generated password was not set")
		}
	})

	t.Run("KeptAfterFirstStart", func(t *testing.T) {
		s := newServer(t)
		s.Service.FirstPassword(ctx, statesrv.ActorAdmin, "correct horse", statesrv.ActorCLI)
		last := s.Log.LastSeq()
		gen, err := s.Service.FirstPassword(ctx, statesrv.ActorAdmin, "", statesrv.ActorCLI)
		if err != nil || gen != "" || s.Log.LastSeq() != last {
			t.Errorf("second FirstPassword = %q, %v, appended %d; want nothing", gen, err, s.Log.LastSeq()-last)
		}
		if !s.Service.CheckPassword(statesrv.ActorAdmin, "correct horse") {
			t.Error("the password of the first start was replaced")
		}
	})
}

func TestResetPassword(t *testing.T) {
	ctx := context.Background()
	t.Run("Generated", func(t *testing.T) {
		s := newServer(t)
		s.Service.FirstPassword(ctx, statesrv.ActorAdmin, "correct horse", statesrv.ActorCLI)
		gen, err := s.Service.ResetPassword(ctx, statesrv.ActorAdmin, "", statesrv.ActorCLI)
		if err != nil || len(gen) != 24 {
			t.Fatalf("ResetPassword = %q, %v; want a generated password of 24 characters", gen, err)
		}
		if !s.Service.CheckPassword(statesrv.ActorAdmin, gen) || s.Service.CheckPassword(statesrv.ActorAdmin, "correct horse") {
			t.Error("the generated password did not replace the old one")
		}
	})

	t.Run("Given", func(t *testing.T) {
		s := newServer(t)
		s.Service.FirstPassword(ctx, statesrv.ActorAdmin, "correct horse", statesrv.ActorCLI)
		gen, err := s.Service.ResetPassword(ctx, statesrv.ActorAdmin, "battery staple", statesrv.ActorCLI)
		if err != nil || gen != "" {
			t.Fatalf("ResetPassword = %q, %v; want nothing generated", gen, err)
		}
		if !s.Service.CheckPassword(statesrv.ActorAdmin, "battery staple") {
			t.Error("the given password was not set")
		}
	})

	t.Run("ErrUnknownUser", func(t *testing.T) {
		s := newServer(t)
		last := s.Log.LastSeq()
		_, err := s.Service.ResetPassword(ctx, "nobody", "", statesrv.ActorCLI)
		if statesrv.ErrorCode(err) != statesrv.ENotFound || s.Log.LastSeq() != last {
			t.Errorf("ResetPassword of an unknown user = %v, appended %d; want not found, nothing", err, s.Log.LastSeq()-last)
		}
	})

	t.Run("ErrShort", func(t *testing.T) {
		s := newServer(t)
		s.Service.FirstPassword(ctx, statesrv.ActorAdmin, "correct horse", statesrv.ActorCLI)
		_, err := s.Service.ResetPassword(ctx, statesrv.ActorAdmin, "short", statesrv.ActorCLI)
		if statesrv.ErrorCode(err) != statesrv.EInvalid || !s.Service.CheckPassword(statesrv.ActorAdmin, "correct horse") {
			t.Errorf("ResetPassword with a short password = %v, want invalid and the old password kept", err)
		}
	})
}
