package audit

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/statesrv/statesrv/projections"
)

// PrintState writes st for people: the definitions, the open runs and the
// unprocessed messages, each a table under a heading that counts them.
func PrintState(w io.Writer, st projections.State) {
	fmt.Fprintf(w, "State at %s (through event %d)\n\n", st.At.Format(time.RFC3339), st.Seq)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "PROCESSES (%d)\nID\tNAME\tSCHEDULE\tZONE\tMAX RUNTIME\tENABLED\n", len(st.Processes))
	for _, p := range st.Processes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%v\n", p.ID, p.Name, orDash(p.Schedule), p.Timezone,
			time.Duration(p.MaxRuntime), p.Enabled)
	}
	fmt.Fprintf(tw, "\nOPEN RUNS (%d)\nPROCESS\tRUN\tSOURCE\tSTARTED\tDEADLINE\n", len(st.Runs))
	for _, r := range st.Runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.ProcessID, r.ID, r.Source,
			r.StartedAt.Format(time.RFC3339), r.Deadline.Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "\nUNPROCESSED (%d)\nSEQ\tRECEIVED\tPROCESS\tREASON\tLINE\n", len(st.Unprocessed))
	for _, u := range st.Unprocessed {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", u.Seq, u.ReceivedAt.Format(time.RFC3339), u.ProcessID, u.Reason, u.Line)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
