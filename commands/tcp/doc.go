// Package tcp serves the report protocol of SPEC §3 on port 2020.
package tcp
