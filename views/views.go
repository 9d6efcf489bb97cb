// Package views holds the pages of the dashboard as templ components. Each
// page renders one view model and does no I/O; the HTTP side in package web
// builds the models from projections.
package views

//go:generate go tool templ generate

// Link is one entry of the index page.
type Link struct {
	Method, Path, What string
}

// IndexPage is the model of the start page.
type IndexPage struct {
	Version     string
	LastSeq     uint64
	Processes   int
	OpenRuns    int
	TCPAddr     string
	APIEndpoint []Link
}
