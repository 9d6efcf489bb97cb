package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/statesrv/statesrv/commands/dispatch"
	"github.com/statesrv/statesrv/notify"
	"github.com/statesrv/statesrv/projections"
)

// newDispatcher builds the alert channels from the configuration and the
// dispatcher that delivers pending alerts through them. A bad --smtp URL is
// an error; a channel that is not configured is a warning (its alerts fail
// with a clear reason, never silently).
func (m *Main) newDispatcher() (*dispatch.Dispatcher, error) {
	sender, err := notify.New(notify.Config{SMTP: m.cfg.SMTP, SMSURL: m.cfg.SMSURL,
		SMSToken: m.cfg.SMSToken, Now: m.cfg.Clock.Now})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	for _, w := range sender.Missing() {
		m.logger.Warn("alerts: " + w)
	}
	public := strings.TrimRight(m.cfg.PublicURL, "/")
	if public == "" {
		public = "http://localhost:8080"
	}
	deliver := func(ctx context.Context, a projections.PendingAlert) error {
		var name string // the process's current name
		m.Runner.View(func(c *projections.Core) {
			if ps := c.Procs[a.ProcessID]; ps != nil {
				name = ps.Name
			}
		})
		return sender.Send(ctx, notify.Requested(a.AlertRequestedData, a.ProcessID, a.RequestedAt, name, public))
	}
	return dispatch.New(dispatch.Config{
		Service: m.Service, Runner: m.Runner, Deliver: deliver, Permanent: notify.IsPermanent,
		Clock: m.cfg.Clock, Logger: m.logger, GiveUpAfter: m.cfg.AlertRetryFor,
	}), nil
}
