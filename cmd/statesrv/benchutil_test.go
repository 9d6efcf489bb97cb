package main

import (
	"bufio"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

func statesrvProcess(id int64) statesrv.Process {
	return statesrv.Process{ID: id, Name: "p", MaxRuntime: statesrv.Duration(3 * time.Second), Enabled: true}
}

// sendLines writes lines on one connection and reads n replies; it returns
// how many were ACKs.
func sendLines(addr, lines string, n int) (int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	go c.Write([]byte(lines))
	r := bufio.NewReader(c)
	acks := 0
	for range n {
		line, err := r.ReadString('\n')
		if err != nil {
			return acks, err
		}
		if strings.HasPrefix(line, "ACK ") {
			acks++
		}
	}
	return acks, nil
}

// timedOutDeadline is the deadline a RunTimedOut event names.
func timedOutDeadline(e *eventlog.Event) time.Time {
	var d statesrv.RunTimedOutData
	statesrv.DecodePayload(e.Type, e.Time, e.Data, &d)
	return d.Deadline
}

func slicesSort(d []time.Duration) { slices.Sort(d) }
