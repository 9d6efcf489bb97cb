// Package notify delivers alerts (SPEC §5) over the channel their recipient
// names: e-mail for mailto:, an SMS gateway for sms:, a webhook for https://
// and http://. It is pure delivery: it keeps nothing, retries nothing and
// logs nothing. The caller (the alert dispatcher) decides when to try again
// from the error: Send returns a *Error whose Permanent field says whether
// retrying can help. Every attempt carries the alert id as its idempotency
// key (the e-mail's Message-ID, the HTTP Idempotency-Key header), so a
// receiver can drop a copy sent again after a crash.
//
// # The --smtp URL
//
//	smtp://[user:password@]host[:port]?from=ADDRESS[&tls=none|starttls|tls][&auth=plain|login]
//	smtps://[user:password@]host[:port]?from=ADDRESS[...]
//
// The parts:
//
//   - from is required: the From address, e.g. statesrv@example.com or
//     "statesrv <statesrv@example.com>" (percent-encoded). A '+' in the
//     query stays a '+' (it is not read as a space).
//   - tls selects the transport security:
//     tls=tls connects with TLS at once (implicit TLS, RFC 8314);
//     tls=starttls connects in plain text and requires STARTTLS before
//     anything else is sent: a server that does not offer it is refused;
//     tls=none never encrypts (for a relay on the same machine).
//     The default is tls for the smtps scheme and for port 465, starttls
//     for every other port: secure unless told otherwise.
//   - The port defaults to 465 for tls, 587 for starttls and 25 for none.
//   - user and password (percent-encoded) turn on SMTP AUTH, PLAIN by
//     default or LOGIN with auth=login. A user needs a password. With
//     tls=none the credentials would cross the network in clear, so New
//     accepts credentials with tls=none only for a loopback host
//     (localhost, 127.0.0.0/8, ::1), which is how local relays and test
//     servers are reached.
//   - Other parameters, a path and a fragment are refused, so that a typo
//     does not go unnoticed. Error messages never repeat the password.
//
// # Classification of failures
//
// Permanent (retrying cannot help): an SMTP reply 5xx; an HTTP status 4xx
// other than 408 and 429, or a redirect (redirects are not followed: a
// webhook that moved must be re-entered); a recipient whose channel is not
// configured (ErrNoSMTP, ErrNoSMSGateway); a malformed recipient or alert
// id; an SMTP server that lacks STARTTLS or the AUTH mechanism the URL asks
// for. Temporary: connection failures and timeouts, an SMTP reply 4xx, HTTP
// 5xx, 408 and 429, and any other failure. A Retry-After header of a 429 or
// 503 is kept in Error.RetryAfter.
package notify
