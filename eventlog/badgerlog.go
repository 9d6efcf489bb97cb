package eventlog

import (
	"fmt"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
)

// BadgerLogger returns a Badger logger that passes Badger's warnings and
// errors to l as messages starting "badger: " and drops its info and debug
// lines. The log and the views' store both use it.
func BadgerLogger(l *slog.Logger) badger.Logger { return badgerLogger{l} }

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error("badger: " + fmt.Sprintf(f, a...)) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn("badger: " + fmt.Sprintf(f, a...)) }
func (b badgerLogger) Infof(string, ...any)        {}
func (b badgerLogger) Debugf(string, ...any)       {}
