package web

import (
	"maps"
	"net/url"
	"strconv"

	"github.com/statesrv/statesrv/views"
)

// The filtered lists (alerts, history, audit log) read their filter the
// same way and link their pages the same way: a filter field's text is
// shown back as given, and every page link carries the filter.

// formProcessID reads the process field of a list's filter: 0 when empty;
// anything but a positive whole number is noted in errs under "process".
func formProcessID(s string, errs views.FieldErrors) int64 {
	if s == "" {
		return 0
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		errs["process"] = "Process: a process id, a positive whole number."
	}
	return id
}

// filterValues is the query of a list's filter: the fields given, by
// their query names, without the empty ones.
func filterValues(fields map[string]string) url.Values {
	q := url.Values{}
	for k, v := range fields {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// pageLink is the link to path with the query q (path alone when q is
// empty).
func pageLink(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// cursorLink is the link to path with the filter and a page's cursor.
func cursorLink(path string, filter, cursor url.Values) string {
	q := url.Values{}
	maps.Copy(q, filter)
	maps.Copy(q, cursor)
	return pageLink(path, q)
}
