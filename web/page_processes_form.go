package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/textfmt"
	"github.com/statesrv/statesrv/views"
)

// Bounds of the process form, as commands.NormalizeProcess enforces them;
// checking them here lets the form show every error at once.
const (
	maxFormBody       = 256 << 10
	maxNameRunes      = 200
	maxDescRunes      = 2000
	maxRecipientLines = 50
	maxAlertAfterForm = 1000
	previewFires      = 5
	maxScheduleLen    = 200
)

func (h *Handler) newProcessForm(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	v := views.ProcessFormValues{ID: textfmt.Head(q.Get("id"), 20), Name: textfmt.Head(q.Get("name"), maxNameRunes),
		Timezone: "UTC", MaxRuntime: "1h", Enabled: true, FiredBy: "server"}
	h.showProcessForm(w, r, user, http.StatusOK, true, v, nil, 0)
}

func (h *Handler) editProcessForm(w http.ResponseWriter, r *http.Request, user string) {
	ps, ok := h.pathProcess(w, r, user)
	if !ok {
		return
	}
	h.showProcessForm(w, r, user, http.StatusOK, false, valuesOf(ps.Process), nil, len(ps.Maintenance))
}

func (h *Handler) createProcess(w http.ResponseWriter, r *http.Request, user string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	v := formValues(r)
	p, errs := parseProcessForm(v)
	if _, taken := h.cfg.Service.Process(p.ID); p.ID > 0 && taken {
		errs["id"] = fmt.Sprintf("Process %d is already defined: choose another id, or edit that one.", p.ID)
	}
	h.saveProcess(w, r, user, true, v, p, errs, 0)
}

func (h *Handler) updateProcess(w http.ResponseWriter, r *http.Request, user string) {
	cur, ok := h.pathProcess(w, r, user)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	v := formValues(r)
	v.ID = strconv.FormatInt(cur.ID, 10) // the id is not editable
	v.KeySet = cur.HasKey()
	p, errs := parseProcessForm(v)
	p.Maintenance = cur.Maintenance // the form does not edit the windows
	h.saveProcess(w, r, user, false, v, p, errs, len(cur.Maintenance))
}

// pathProcess is the defined process the path names, as the write side
// has it; when ok is false the error page is written.
func (h *Handler) pathProcess(w http.ResponseWriter, r *http.Request, user string) (ps projections.ProcessState, ok bool) {
	id, err := pathID(r)
	if err != nil {
		h.pageError(w, r, user, err)
		return ps, false
	}
	if ps, ok = h.cfg.Service.Process(id); !ok {
		h.pageError(w, r, user, statesrv.Errorf(statesrv.ENotFound, "Process %d is not defined.", id))
	}
	return ps, ok
}

// saveProcess defines p when the form had no errors and the write side
// accepts it, and otherwise shows the form again with every error.
func (h *Handler) saveProcess(w http.ResponseWriter, r *http.Request, user string, isNew bool,
	v views.ProcessFormValues, p statesrv.Process, errs views.FieldErrors, windows int) {
	if len(errs) == 0 {
		if err := commands.NormalizeProcess(&p); err != nil {
			fieldOf(errs, err)
		}
	}
	if len(errs) > 0 {
		h.showProcessForm(w, r, user, http.StatusBadRequest, isNew, v, errs, windows)
		return
	}
	rc, err := h.cfg.Service.DefineProcess(p, user)
	if statesrv.ErrorCode(err) == statesrv.EInvalid {
		fieldOf(errs, err)
		h.showProcessForm(w, r, user, http.StatusBadRequest, isNew, v, errs, windows)
		return
	}
	h.commandDone(w, r, user, rc, err, "/processes/"+strconv.FormatInt(p.ID, 10), "Saved.")
}

func (h *Handler) showProcessForm(w http.ResponseWriter, r *http.Request, user string, status int, isNew bool,
	v views.ProcessFormValues, errs views.FieldErrors, windows int) {
	m := views.ProcessFormPage{New: isNew, Values: v, Errors: errs, Maintenance: windows,
		Preview: h.previewOf(v.Schedule, v.Timezone)}
	if isNew {
		m.Page = h.pageOf(user, "New process", "/processes")
		m.Action = "/processes"
	} else {
		m.Page = h.pageOf(user, "Edit process "+v.ID, "/processes")
		m.Action = views.ProcessURL(mustParseID(v.ID))
	}
	h.render(w, r, status, views.ProcessForm(m))
}

func (h *Handler) schedulePreview(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	p := h.previewOf(q.Get("schedule"), q.Get("timezone"))
	status := http.StatusOK
	if p.Error != "" {
		status = http.StatusBadRequest
	}
	h.render(w, r, status, views.SchedulePreviewBody(p))
}

// previewOf describes a schedule as typed, with its next fire times from
// now in its zone, or says what is wrong with it.
func (h *Handler) previewOf(spec, tz string) views.SchedulePreview {
	spec, tz = strings.TrimSpace(spec), strings.TrimSpace(tz)
	if tz == "" {
		tz = "UTC"
	}
	p := views.SchedulePreview{Timezone: tz, Cron: strings.Join(strings.Fields(spec), " ")}
	switch {
	case spec == "":
		p.PushOnly = true
		return p
	case len(spec) > maxScheduleLen:
		p.Error = fmt.Sprintf("A schedule has at most %d characters.", maxScheduleLen)
		return p
	}
	fires, err := commands.PreviewSchedule(spec, tz, h.cfg.Now(), previewFires)
	if err != nil {
		// A wrong schedule says more than a wrong zone next to it.
		if _, serr := commands.PreviewSchedule(spec, "UTC", time.Time{}, 0); serr != nil {
			err = serr
		}
		p.Error = statesrv.ErrorMessage(err)
		return p
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	p.Words = commands.DescribeSchedule(spec)
	for _, t := range fires {
		p.Fires = append(p.Fires, views.PreviewFire{Local: t.In(loc).Format("Mon 2006-01-02 15:04:05 MST"), At: t})
	}
	return p
}

// inputs ties each text input of the process form, named after its field
// (inputName), to where ProcessFormValues holds it.
func inputs(v *views.ProcessFormValues) map[string]*string {
	return map[string]*string{
		"id": &v.ID, "name": &v.Name, "description": &v.Description, "schedule": &v.Schedule,
		"timezone": &v.Timezone, "max_runtime": &v.MaxRuntime, "key": &v.Key,
		"alerts_ok": &v.AlertsOK, "alerts_fail": &v.AlertsFail, "alerts_timeout": &v.AlertsTimeout,
		"alerts_late": &v.AlertsLate, "alerts_recovered": &v.AlertsRecovered,
		"fired_by": &v.FiredBy, "alert_after": &v.AlertAfter, "repeat_every": &v.RepeatEvery,
		"start_grace": &v.StartGrace, "min_runtime": &v.MinRuntime, "tags": &v.Tags,
	}
}

// inputName is the form input of the field of that wire name: "." becomes
// "_" ("alerts.fail": "alerts_fail").
func inputName(field string) string { return strings.ReplaceAll(field, ".", "_") }

// formValues reads the process form as typed.
func formValues(r *http.Request) views.ProcessFormValues {
	v := views.ProcessFormValues{Enabled: r.PostFormValue("enabled") != "",
		RemoveKey: r.PostFormValue("remove_key") != ""}
	for name, at := range inputs(&v) {
		*at = r.PostFormValue(name)
	}
	v.ID = strings.TrimSpace(v.ID)
	return v
}

// valuesOf fills the form from a definition: each input with its field's
// text (recipients one a line), optional fields at their zero left empty;
// the key is never filled in (KeySet says one is set).
func valuesOf(p statesrv.Process) views.ProcessFormValues {
	v := views.ProcessFormValues{Enabled: p.Enabled, KeySet: p.HasKey()}
	in := inputs(&v)
	for i := range statesrv.ProcessFields {
		f := &statesrv.ProcessFields[i]
		at, ok := in[inputName(f.Name)]
		switch {
		case !ok || f.Optional && f.IsZero(&p):
		case f.Kind == statesrv.KindRecipients:
			*at = strings.Join(*f.Strings(&p), "\n")
		default:
			*at = f.Text(&p)
		}
	}
	return v
}

// parseProcessForm checks every field of the form and returns the
// definition it describes with what is wrong with each field, so that all
// errors show at once. commands.NormalizeProcess has the final word.
func parseProcessForm(v views.ProcessFormValues) (statesrv.Process, views.FieldErrors) {
	errs := views.FieldErrors{}
	p := statesrv.Process{Name: strings.TrimSpace(v.Name), Description: v.Description,
		Schedule: strings.TrimSpace(v.Schedule), Timezone: strings.TrimSpace(v.Timezone), Enabled: v.Enabled,
		FiredBy: v.FiredBy}
	// An empty key keeps the one set; the checkbox removes it.
	key := strings.TrimSpace(v.Key)
	switch {
	case v.RemoveKey:
		p.Key = statesrv.Ptr("")
	case key != "":
		p.Key = &key
	}
	if id, err := strconv.ParseInt(v.ID, 10, 64); err != nil || id <= 0 {
		errs["id"] = "The id must be a positive whole number, such as 25."
	} else {
		p.ID = id
	}
	switch {
	case p.Name == "":
		errs["name"] = "A name is required."
	case utf8.RuneCountInString(p.Name) > maxNameRunes || strings.ContainsAny(p.Name, ";\r\n"):
		errs["name"] = fmt.Sprintf("At most %d characters, with no ';' and no line breaks.", maxNameRunes)
	}
	if utf8.RuneCountInString(p.Description) > maxDescRunes {
		errs["description"] = fmt.Sprintf("At most %d characters.", maxDescRunes)
	}
	if p.Timezone == "" {
		p.Timezone = "UTC"
	}
	zoneOK := p.Timezone != "Local"
	if _, err := time.LoadLocation(p.Timezone); err != nil || !zoneOK {
		errs["timezone"] = fmt.Sprintf("Unknown time zone %q: give an IANA name such as UTC or Europe/Prague.", p.Timezone)
		zoneOK = false
	}
	if p.Schedule != "" {
		tz := p.Timezone
		if !zoneOK {
			tz = "UTC" // still check the schedule itself
		}
		if _, err := commands.PreviewSchedule(p.Schedule, tz, time.Time{}, 0); err != nil {
			errs["schedule"] = statesrv.ErrorMessage(err)
		}
	}
	if s := strings.TrimSpace(v.MaxRuntime); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second {
			errs["max_runtime"] = fmt.Sprintf("%q is not a run time: give a duration of at least 1s, such as 90m or 2h.", s)
		}
		p.MaxRuntime = statesrv.Duration(d)
	}
	in := inputs(&v)
	for i := range statesrv.ProcessFields {
		f := &statesrv.ProcessFields[i]
		text, onForm := in[inputName(f.Name)]
		if f.Kind != statesrv.KindRecipients || !onForm {
			continue
		}
		list, msg := parseRecipients(*text)
		*f.Strings(&p) = list
		if msg != "" {
			errs[inputName(f.Name)] = msg
		}
	}
	p.Tags = commands.SplitTags(v.Tags)
	for _, t := range p.Tags {
		if err := commands.ValidTag("tags", t); err != nil {
			_, errs["tags"], _ = strings.Cut(statesrv.ErrorMessage(err), ": ")
			break
		}
	}
	if strings.ContainsAny(key, ";\r\n") {
		errs["key"] = "The key may not hold ';' or line breaks."
	}
	switch p.FiredBy {
	case "", "server":
		p.FiredBy = ""
	case statesrv.FiredByCron:
	default:
		errs["fired_by"] = "Choose the server or the system cron."
	}
	if s := strings.TrimSpace(v.AlertAfter); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxAlertAfterForm {
			errs["alert_after"] = fmt.Sprintf("A number from 0 to %d.", maxAlertAfterForm)
		}
		p.AlertAfter = n
	}
	if s := strings.TrimSpace(v.RepeatEvery); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || (d != 0 && (d < time.Minute || d > 31*24*time.Hour)) {
			errs["repeat_every"] = "A duration from 1m to 744h (31 days), such as 4h; empty: do not repeat."
		}
		p.RepeatEvery = statesrv.Duration(d)
	}
	if s := strings.TrimSpace(v.StartGrace); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			errs["start_grace"] = fmt.Sprintf("%q is not a duration: give one such as 5m, at most the max run time; empty: off.", s)
		}
		p.StartGrace = statesrv.Duration(d)
	}
	if s := strings.TrimSpace(v.MinRuntime); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			errs["min_runtime"] = fmt.Sprintf("%q is not a duration: give one such as 30s, less than the max run time; empty: off.", s)
		}
		p.MinRuntime = statesrv.Duration(d)
	}
	return p, errs
}

// parseRecipients reads one recipient a line, skipping blank lines; the
// message names the first bad line.
func parseRecipients(text string) ([]string, string) {
	list := []string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if err := commands.ValidateRecipient(line); err != nil {
			return list, fmt.Sprintf("Line %d: %s.", i+1, statesrv.ErrorMessage(err))
		}
		list = append(list, line)
	}
	if len(list) > maxRecipientLines {
		return list, fmt.Sprintf("At most %d recipients.", maxRecipientLines)
	}
	return list, ""
}

// fieldOf puts a write-side validation error ("alerts.fail: …") under the
// form field it names, or under "form" when it names none of them.
func fieldOf(errs views.FieldErrors, err error) {
	msg := statesrv.ErrorMessage(err)
	name, rest, ok := strings.Cut(msg, ": ")
	field := inputName(name)
	if _, onForm := inputs(&views.ProcessFormValues{})[field]; ok && onForm {
		errs[field] = rest
		return
	}
	errs["form"] = msg
}

func mustParseID(s string) int64 {
	id, _ := strconv.ParseInt(s, 10, 64)
	return id
}
