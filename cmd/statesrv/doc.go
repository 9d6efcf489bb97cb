// Command statesrv is the scheduled-job monitor: the server, its clients
// and the auditor's tools (docs/SPEC.md §8). This package is wiring only:
// each command parses its flags (a flag not given is read from
// STATESRV_<FLAG>) and calls the package that does the work.
//
//	serve            run the server (Main: storage, TCP reports, web and API, scheduler, alerts)
//	report           send one report over TCP and wait for its ACK (client.SendRetry)
//	exec             run a job and report its START and its end (client/jobexec)
//	load             load generator: pipelined reports over many connections (client.Load)
//	start            open a run of a process now (the write side, or the API)
//	replay           print the event log (audit.Replay, audit.ReplayRemote)
//	rebuild          drop every view and rebuild it from the log (projections.Runner)
//	state            the views as they stood at a moment (projections.StateAt, audit.PrintState)
//	verify           check the log's hash chain and sequence (audit.Verify)
//	backup           write the whole log to stdout (eventlog.WriteBackup, audit.CopyBackup)
//	restore          create a log from a backup in an empty directory (datadir.Restore)
//	user reset-password  a new password of a user on a stopped server's data (Service.ResetPassword)
//	user add, user list  add a user with a role, list the users (Service.AddUser, Service.Users, the API)
//	cron export      crontab lines that open runs from the system cron (crontab.Export)
//	export           print the definitions as a YAML or JSON document (document.Write)
//	apply            make the definitions those of a document (document.NewPlan, the API)
//	import crontab   propose definitions from a crontab (importer.Propose)
//	import schtasks  propose definitions from the Task Scheduler's XML (importer.Propose)
//	version          print the version
//
// The --data commands open a stopped server's directory (datadir.Open);
// their --url twins, and export, apply and cron export, call a running
// server's JSON API (api.Client, token from --token or STATESRV_API_TOKEN).
package main
