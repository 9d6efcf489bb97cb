package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
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
		return sender.Send(ctx, m.notifyAlert(a, public))
	}
	return dispatch.New(dispatch.Config{
		Service: m.Service, Runner: m.Runner, Deliver: deliver, Permanent: notify.IsPermanent,
		Clock: m.cfg.Clock, Logger: m.logger, GiveUpAfter: m.cfg.AlertRetryFor,
	}), nil
}

// notifyAlert renders a pending alert for the channels: the process's
// current name, the run as the alert recorded it, a link to the run.
func (m *Main) notifyAlert(a projections.PendingAlert, public string) notify.Alert {
	n := notify.Alert{ID: a.AlertID, Outcome: a.Outcome, Recipient: a.Recipient,
		ProcessID: a.ProcessID, DownFor: time.Duration(a.DownFor), Failures: a.Failures, At: a.RequestedAt}
	m.Runner.View(func(c *projections.Core) {
		if ps := c.Procs[a.ProcessID]; ps != nil {
			n.Process = ps.Name
		}
	})
	if a.Run != nil {
		n.Run = *a.Run
		n.Message = a.Run.Message
	} else {
		n.Run = statesrv.Run{ID: a.RunID, ProcessID: a.ProcessID}
	}
	if n.Process == "" {
		n.Process = n.Run.Name
	}
	if a.RunID != "" {
		n.Link = public + "/runs/" + a.RunID
	} else {
		n.Link = fmt.Sprintf("%s/processes/%d", public, a.ProcessID)
	}
	return n
}
