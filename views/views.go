// Package views holds the pages of the dashboard as templ components. Each
// page renders one view model and does no I/O; the HTTP side in package web
// builds the models from projections. The CSS and script the pages use are
// embedded here and served under content-hashed names.
package views

//go:generate go tool templ generate

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/statesrv/statesrv"
)

// Page is what every page's layout needs: its title, who is logged in and
// which section of the navigation it belongs to.
type Page struct {
	Title string
	// User is the logged-in user; empty on the login page.
	User string
	// Role is the logged-in user's role: forms that change anything are
	// shown only to the roles that may send them.
	Role string
	// Section is the path of the navigation entry to highlight ("/runs").
	Section string
	// Live marks a page that reloads its main content when events arrive;
	// Seq is the views' seq it was rendered at.
	Live bool
	Seq  uint64
	// Flash is a one-line notice shown above the content ("Saved.").
	Flash string
	// Version is the server's version, shown in the footer.
	Version string
	// Unprocessed is how many messages wait in the unprocessed view, shown
	// beside its navigation entry.
	Unprocessed int
}

// CanEdit reports whether the user may change processes, runs, alerts
// and messages (editor or admin).
func (p Page) CanEdit() bool { return statesrv.RoleAllows(p.Role, statesrv.RoleEditor) }

// IsAdmin reports whether the user may manage users and every token.
func (p Page) IsAdmin() bool { return statesrv.RoleAllows(p.Role, statesrv.RoleAdmin) }

// NavItem is one entry of the navigation bar.
type NavItem struct{ Path, Label string }

// Nav lists the sections of the dashboard in the order shown.
var Nav = []NavItem{
	{"/", "Overview"},
	{"/processes", "Processes"},
	{"/runs", "Running"},
	{"/history", "History"},
	{"/unprocessed", "Unprocessed"},
	{"/alerts", "Alerts"},
	{"/events", "Audit log"},
	{"/state", "Time travel"},
	{"/schedule", "Schedule"},
}

// FieldErrors maps a form field's name to what is wrong with it.
type FieldErrors map[string]string

// UTC formats t for display in UTC; the page's script rewrites it into the
// viewer's zone and keeps this text as the hover title.
func UTC(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// ISO formats t as RFC 3339 in UTC, for datetime attributes.
func ISO(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// StateClass is the CSS class of a run state or alert outcome badge.
func StateClass(state string) string {
	switch strings.ToUpper(state) {
	case "OK", "DELIVERED":
		return "badge ok"
	case "FAIL", "FAILED":
		return "badge fail"
	case "TIMEOUT":
		return "badge timeout"
	case "RUNNING", "PENDING":
		return "badge running"
	}
	return "badge"
}

// ProcessURL is the page of process id.
func ProcessURL(id int64) templ.SafeURL {
	return templ.SafeURL("/processes/" + strconv.FormatInt(id, 10))
}

// RunURL is the page of run id.
func RunURL(id string) templ.SafeURL {
	return templ.SafeURL("/runs/" + url.PathEscape(id))
}

// Invalid is the aria-invalid value of a form field.
func Invalid(errs FieldErrors, field string) string {
	if _, ok := errs[field]; ok {
		return "true"
	}
	return "false"
}
